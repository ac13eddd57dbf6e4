"""The contenders: ortbind's ways to run, the official binding's, and the C++ floor.

Each contender is made for one workload and gives a ``block(n)`` that makes n calls and returns
their n durations in nanoseconds. All use the same session options (threads fixed).
"""

from __future__ import annotations

import gc
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import ortbind
from ortbind._convert import ELEMENT_TYPES

from .workloads import Workload

INTRA_OP_THREADS = 1
INTER_OP_THREADS = 1

# numpy dtype -> ONNX Runtime's element code, for the C++ floor's input files: from ortbind's one
# element table, the real numbers numpy holds natively (the floor reads no complex or ml_dtypes data).
ONNX_ELEMENT = {
    np.dtype(e.name): e.code
    for e in ELEMENT_TYPES.values()
    if e.ml_dtypes is None and e.number_kind in ("f", "i", "u", "b")
}

# The ways each binding offers to run a model, for "the fastest path" of each.
ORTBIND_PATHS = ("ortbind", "ortbind_out", "ortbind_contract")
ORT_PATHS = ("ort", "ort_iobinding", "ort_values")

# name -> (label, description)
CONTENDERS: dict[str, tuple[str, str]] = {
    "floor": ("C++ floor", "OrtApi::Run in a C++ loop over the same library file, inputs wrapped once"),
    "floor_bind": (
        "C++ bound floor",
        "OrtApi::RunWithBinding on one OrtIoBinding kept across calls: inputs rebound per call, outputs bound"
        " to the CPU once and fetched after each call",
    ),
    "ortbind": ("ortbind run", "session.run(feeds): dict in, numpy views out"),
    "ortbind_out": ("ortbind run(out=)", "session.run(feeds, out=preallocated)"),
    "ortbind_contract": ("ortbind contract", "session.with_contract(dims=...).run(feeds)"),
    "ortbind_unchecked": ("ortbind no contract", "session.run without the model's contract (to price the check)"),
    "ort": ("ort run", "onnxruntime.InferenceSession.run(None, feeds)"),
    "ort_iobinding": ("ort iobinding", "run_with_iobinding, inputs and outputs bound once"),
    "ort_values": ("ort ort_values", "run_with_ort_values on OrtValues made once (outputs stay OrtValues)"),
}


def timed_block(fn: Callable[[], Any], n: int) -> list[int]:
    """n calls, each timed alone; the cyclic GC is paused during the block, as timeit does."""
    clock = time.perf_counter_ns
    samples = [0] * n
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(n):
            start = clock()
            fn()
            samples[i] = clock() - start
    finally:
        if enabled:
            gc.enable()
    return samples


@dataclass
class Contender:
    name: str
    block: Callable[[int], list[int]]
    close: Callable[[], None] = lambda: None


def ort_options() -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = INTRA_OP_THREADS
    options.inter_op_num_threads = INTER_OP_THREADS
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


ENV: ortbind.Env | None = None  # set by the suite before any session is made


def ortbind_session(workload: Workload) -> ortbind.Session:
    return ortbind.Session(
        workload.model, env=ENV, intra_op_threads=INTRA_OP_THREADS, inter_op_threads=INTER_OP_THREADS
    )


def ort_session(workload: Workload) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(workload.model, ort_options(), providers=["CPUExecutionProvider"])


def make(name: str, workload: Workload, floor_binary: Path | None) -> Contender | None:
    """The contender for this workload, or None where it does not apply."""
    feeds = workload.feeds
    if name == "ortbind":
        s = ortbind_session(workload)
        return Contender(name, lambda n: timed_block(lambda: s.run(feeds), n), s.close)
    if name == "ortbind_unchecked":
        s = ortbind_session(workload)
        s._set_contract(None)
        return Contender(name, lambda n: timed_block(lambda: s.run(feeds), n), s.close)
    if name == "ortbind_out":
        s = ortbind_session(workload)
        first = s.run(feeds)
        if not all(isinstance(v, np.ndarray) and v.dtype.kind in "biuf" for v in first.values()):
            return None
        out = {k: np.empty_like(v) for k, v in first.items()}
        return Contender(name, lambda n: timed_block(lambda: s.run(feeds, out=out), n), s.close)
    if name == "ortbind_contract":
        s = ortbind_session(workload)
        dims = {symbol: (1, 1 << 30) for symbol in s.contract.symbols}
        checked = s.with_contract(dims=dims)
        return Contender(name, lambda n: timed_block(lambda: checked.run(feeds), n), s.close)
    if name == "ort":
        o = ort_session(workload)
        return Contender(name, lambda n: timed_block(lambda: o.run(None, feeds), n))
    if name == "ort_iobinding":
        o = ort_session(workload)
        first = o.run(None, feeds)
        if not all(isinstance(v, np.ndarray) and v.dtype in ONNX_ELEMENT for v in first):
            return None
        binding = o.io_binding()
        for key, value in feeds.items():
            binding.bind_cpu_input(key, value)
        outs = [np.empty_like(v) for v in first]
        for meta, out in zip(o.get_outputs(), outs, strict=True):
            binding.bind_output(meta.name, "cpu", 0, out.dtype, list(out.shape), out.ctypes.data)
        keep = (binding, outs)
        return Contender(name, lambda n: timed_block(lambda: o.run_with_iobinding(keep[0]), n))
    if name == "ort_values":
        import onnxruntime as ort

        o = ort_session(workload)
        values = {k: ort.OrtValue.ortvalue_from_numpy(v) for k, v in feeds.items()}
        return Contender(name, lambda n: timed_block(lambda: o.run_with_ort_values(None, values), n))
    if name in ("floor", "floor_bind"):
        if floor_binary is None or not all(v.dtype in ONNX_ELEMENT for v in feeds.values()):
            return None
        return FloorProcess(floor_binary, workload, "bind" if name == "floor_bind" else "run").contender(name)
    raise ValueError(f"unknown contender {name!r}")


class FloorProcess:
    """The C++ floor as a child process that times a block of calls on each command, so that its
    blocks interleave with the Python contenders' like any other."""

    def __init__(self, binary: Path, workload: Workload, command: str = "run") -> None:
        self._command = command
        self._dir = tempfile.TemporaryDirectory(prefix="ortbind-floor-")
        folder = Path(self._dir.name)
        model = folder / "model.onnx"
        model.write_bytes(workload.model)
        lines = []
        for i, (key, value) in enumerate(workload.feeds.items()):
            data = folder / f"input{i}.bin"
            data.write_bytes(np.ascontiguousarray(value).tobytes())
            dims = " ".join(str(d) for d in value.shape)
            lines.append(f"{key} {ONNX_ELEMENT[value.dtype]} {value.ndim} {dims} {data}")
        spec = folder / "inputs.txt"
        spec.write_text("\n".join(lines) + "\n")
        self._process = subprocess.Popen(
            [
                str(binary),
                ortbind.runtime.RUNTIME_PATH,
                str(model),
                str(spec),
                str(INTRA_OP_THREADS),
                str(INTER_OP_THREADS),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        ready = self._process.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError(f"the C++ floor did not start for {workload.name}")
        self.version = ready[1]

    def block(self, n: int) -> list[int]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(f"{self._command} {n}\n")
        self._process.stdin.flush()
        return [int(x) for x in self._process.stdout.readline().split()]

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.write("quit\n")
            self._process.stdin.flush()
            self._process.wait(timeout=30)
        self._dir.cleanup()

    def contender(self, name: str = "floor") -> Contender:
        return Contender(name, self.block, self.close)


def build_floor(out_dir: Path) -> Path:
    """Compiles the C++ floor against the headers ortbind itself was built with."""
    source = Path(__file__).parent / "floor" / "floor.cpp"
    binary = out_dir / "floor"
    if binary.exists() and binary.stat().st_mtime > source.stat().st_mtime:
        return binary
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["c++", "-O2", "-std=c++17", "-isystem", ortbind._core.HEADERS_DIR, str(source), "-o", str(binary), "-ldl"],
        check=True,
    )
    return binary
