"""Peak memory of several sessions of one model, with and without shared weights.

Each case runs in a fresh child process, which makes its sessions, runs each once and reports its
peak RSS (VmHWM) and the growth of that peak over the process before any weights were loaded:

- ``one``: one session of the model;
- ``separate``: 8 sessions, each loading its own weights (what a process gets today);
- ``initializers``: 8 sessions over the caller's arrays (``Session(initializers=...)``), each
  still prepacking its own copy of the MatMul weights;
- ``initializers_unpacked``: the same with prepacking off (``session.disable_prepacking``), so
  the arrays are all there is;
- ``prepacked``: 8 sessions over the caller's arrays and one ``PrepackedWeights`` container;
- ``ort_separate``: 8 sessions of the official binding, for reference.

The model: MatMul layers over a ~100 MB float32 weight set, kept in an external data file (so
that neither the model file nor its parse holds a second copy of the weights). The sessions
alternate intra_op_threads 1 and 2, as tenants with their own settings would.

Usage: python -m benchmarks.shared_weights [--sessions 8] [--layers 6] [--size 2048]
Writes benchmarks/results/shared_weights.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ortbind._bench.report import shared_weights_rows, shared_weights_section, terminal_table

RESULTS = Path(__file__).resolve().parent / "results"
CASES = ("one", "separate", "initializers", "initializers_unpacked", "prepacked", "ort_separate")


def build_model(folder: Path, layers: int, size: int) -> Path:
    """``layers`` MatMul+Relu layers of size x size float32 weights, in model.onnx + weights.bin."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights, nodes = [], []
    for i in range(layers):
        w = (rng.standard_normal((size, size)) / np.sqrt(size)).astype(np.float32)
        weights.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("MatMul", ["x" if i == 0 else f"a{i - 1}", f"w{i}"], [f"h{i}"]))
        nodes.append(helper.make_node("Relu", [f"h{i}"], [f"a{i}" if i < layers - 1 else "y"]))
    graph = helper.make_graph(
        nodes,
        "shared_weights",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", size])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    path = folder / "model.onnx"
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)  # fmt: skip
    return path


def read_weights(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    """The model's initializers as arrays read straight from its external data file (one copy)."""
    import onnx

    model = onnx.load(path, load_external_data=False)
    arrays = {}
    for init in model.graph.initializer:
        info = {entry.key: entry.value for entry in init.external_data}
        count = int(np.prod(init.dims))
        data = np.fromfile(path.parent / info["location"], np.float32, count, offset=int(info.get("offset", 0)))
        arrays[init.name] = data.reshape(tuple(init.dims))
    return arrays


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))


def child(case: str, path: Path, sessions: int, size: int) -> dict[str, Any]:
    """One case, in this (fresh) process."""
    import ortbind

    x = np.ones((1, size), np.float32)
    base = _status("VmRSS:")
    kept: list[Any] = []
    outputs = []
    count = 1 if case == "one" else sessions
    if case == "ort_separate":
        import onnxruntime as ort

        base = _status("VmRSS:")
        for i in range(count):
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1 + i % 2
            s = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            outputs.append(s.run(None, {"x": x})[0])
            kept.append(s)
    else:
        weights = read_weights(path) if case in ("initializers", "initializers_unpacked", "prepacked") else None
        container = ortbind.PrepackedWeights() if case == "prepacked" else None
        config = {"session.disable_prepacking": "1"} if case == "initializers_unpacked" else None
        for i in range(count):
            s = ortbind.Session(
                path, intra_op_threads=1 + i % 2, initializers=weights, prepacked_weights=container, config=config
            )
            outputs.append(s.run({"x": x})["y"])
            kept.append(s)
    same = all(np.array_equal(o, outputs[0]) for o in outputs)
    peak = _status("VmHWM:")
    return {"sessions": count, "peak_rss": peak, "growth": peak - base, "outputs_equal": same,
            "checksum": float(outputs[0].sum())}  # fmt: skip


def run_case(case: str, path: Path, sessions: int, size: int) -> dict[str, Any]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "benchmarks.shared_weights", "--child", case, "--model", str(path),
               "--sessions", str(sessions), "--size", str(size)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.model, args.sessions, args.size)))
        return 0

    report = measure(args.sessions, args.layers, args.size, args.cases.split(","))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "shared_weights.json").write_text(json.dumps(report, indent=2) + "\n")
    header, rows = shared_weights_rows(report)
    print(
        f"weights: {report['weights_mb']:.0f} MB; sessions agree within each case: "
        f"{report['same_outputs_within_case']}; across cases: {report['close_outputs_across_cases']}"
    )
    print(terminal_table(header, rows))
    (RESULTS / "shared_weights.md").write_text(shared_weights_section(report))
    return 0


def measure(sessions: int = 8, layers: int = 6, size: int = 2048, cases: list[str] | None = None) -> dict[str, Any]:
    """Every case in its own child process; the report the suite and this script write."""
    with tempfile.TemporaryDirectory() as folder:
        path = build_model(Path(folder), layers, size)
        weight_bytes = (Path(folder) / "weights.bin").stat().st_size
        results = {case: run_case(case, path, sessions, size) for case in (cases or list(CASES))}
    # Every session of a case must agree bit for bit; across cases only closely, since MLAS's
    # prepacked and plain kernels round differently.
    checksums = [r["checksum"] for r in results.values()]
    close = bool(np.allclose(checksums, checksums[0], rtol=1e-4))
    same = all(r["outputs_equal"] for r in results.values())
    report = {"weights_mb": weight_bytes / 1e6, "sessions": sessions, "cases": results,
              "same_outputs_within_case": same, "close_outputs_across_cases": close}  # fmt: skip
    report["targets"] = targets(report)
    return report


SHARED = {"initializers": "initializers", "initializers_unpacked": "initializers, prepacking off",
          "prepacked": "initializers + PrepackedWeights"}  # fmt: skip


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goal: 8 sessions sharing their weights within 1.3x one session's peak growth."""
    cases = report["cases"]
    one = cases.get("one", {}).get("growth")
    shared = {label: cases[c]["growth"] / one for c, label in SHARED.items() if c in cases and one}
    if not shared:
        return []
    best = min(shared, key=lambda label: shared[label])
    return [
        {
            "target": f"{report['sessions']} sessions of a {report['weights_mb']:.0f} MB model sharing weights: "
            "peak memory growth at most 1.3x one session",
            "measured": f"best {best} {shared[best]:.2f}x; " + ", ".join(f"{k} {v:.2f}x" for k, v in shared.items()),
            "holds": shared[best] <= 1.3,
        }
    ]


if __name__ == "__main__":
    raise SystemExit(main())
