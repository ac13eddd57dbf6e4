"""The ``ortbind`` command line: info, check and bench (with --profile) on models made here and on real
models shipped in PyPI wheels (support/real_models.py), their exit statuses, their report files, and
one readable line with exit status 2 for each kind of user mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ortbind import runtime
from ortbind.cli import main
from ortbind.cli._compare import compare
from support import models, real_models

ROOT = Path(__file__).resolve().parent.parent
FAST_BENCH = ["--duration", "0.2", "--no-progress"]


def write(folder: Path, name: str, model: bytes) -> Path:
    path = folder / name
    path.write_bytes(model)
    return path


def real(name: str) -> Path:
    try:
        return real_models.fetch(real_models.BY_NAME[name])
    except real_models.ModelUnavailable as error:
        pytest.skip(f"{name}: {error}")


def noisy_model() -> bytes:
    """y = x + RandomUniformLike(x) without a seed: each runtime library seeds its own generator, so
    ortbind (the wheel's libonnxruntime.so) and the official binding (its own copy) give other values."""
    graph = helper.make_graph(
        [helper.make_node("RandomUniformLike", ["x"], ["noise"]), helper.make_node("Add", ["x", "noise"], ["y"])],
        "noisy",
        [models.tensor("x", TensorProto.FLOAT, ["n"])],
        [models.tensor("y", TensorProto.FLOAT, ["n"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def external_data_model(folder: Path) -> Path:
    """y = x @ W with W (16x8 floats) stored beside the model in weights.bin."""
    weights = onnx.numpy_helper.from_array(np.arange(128, dtype=np.float32).reshape(16, 8), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "matmul",
        [models.tensor("x", TensorProto.FLOAT, ["batch", 16])],
        [models.tensor("y", TensorProto.FLOAT, ["batch", 8])],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="test-exporter")
    model.ir_version = 8
    helper.set_model_props(model, {"author": "tests"})
    path = folder / "external.onnx"
    onnx.save(model, str(path), save_as_external_data=True, location="weights.bin", size_threshold=0)
    return path


# --- info -------------------------------------------------------------------------------------------


def test_info_shows_contract_metadata_opsets_and_providers(tmp_path, capsys) -> None:
    path = external_data_model(tmp_path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "float32[batch, 16]" in out and "float32[batch, 8]" in out
    assert "test-exporter" in out and "author=tests" in out
    assert "ai.onnx 17" in out
    assert "weights.bin (512 B, 1 tensors)" in out
    assert "named dims: batch (--dim NAME=SIZE sizes any of them; other dims are 1)" in out
    assert "CPUExecutionProvider" in out


def test_info_json_has_every_fact(tmp_path, capsys) -> None:
    path = external_data_model(tmp_path)
    assert main(["info", str(path), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["file_size"] == path.stat().st_size
    assert facts["inputs"] == [
        {
            "name": "x",
            "kind": "tensor",
            "type": "tensor(float32)",
            "contract": "float32[batch, 16]",
            "declared_shape": ["batch", 16],
        }
    ]
    assert facts["named_dims"] == ["batch"] and facts["placeholder_dims"] == []
    assert facts["metadata"]["producer"] == "test-exporter" and facts["metadata"]["custom"] == {"author": "tests"}
    assert facts["onnx"]["opsets"] == {"ai.onnx": 17}
    assert facts["onnx"]["external_data"] == [{"file": "weights.bin", "tensors": 1, "size": 512}]
    assert "CPUExecutionProvider" in facts["runtime"]["providers"]


def test_info_on_a_real_model_shows_placeholders_as_unknown(capsys) -> None:
    path = real("magika-standard-v1")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "float32[?, 1536]" in out and "[unk__122, 1536]" in out
    assert "named dims: none; placeholder names, unknown dims (?) to the contract: unk__122, unk__123" in out
    assert "tf2onnx" in out and "ai.onnx 13" in out


def test_info_shows_which_provider_runs_each_node_and_takes_a_policy(tmp_path, capsys) -> None:
    if not runtime.FEATURES["node_assignment"].available:
        pytest.skip("node assignment needs C API 24")
    path = write(tmp_path, "mlp.onnx", models.mlp())
    assert main(["info", str(path), "--provider-policy", "prefer_cpu", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    (cpu,) = facts["node_assignment"]
    assert cpu["provider"] == "CPUExecutionProvider" and cpu["nodes"] == sum(cpu["op_types"].values())
    assert main(["info", str(path), "--provider", "CPUExecutionProvider"]) == 0
    assert "execution providers of the optimized graph's nodes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--provider-library", "nameonly"], "--provider-library nameonly: give NAME=PATH"),
        (["--provider", "CPUExecutionProvider:novalue"], "options are KEY=VALUE"),
    ],
)
def test_provider_forms_that_are_wrong_exit_2(tmp_path, capsys, argv, message) -> None:
    path = write(tmp_path, "mlp.onnx", models.mlp())
    assert main(["info", str(path), *argv]) == 2
    assert message in capsys.readouterr().err


# --- check ------------------------------------------------------------------------------------------


def test_check_identical_outputs_exit_0_with_named_dims(tmp_path, capsys) -> None:
    path = write(tmp_path, "mlp.onnx", models.mlp())
    assert main(["check", str(path), "--dim", "batch=5"]) == 0
    out = capsys.readouterr().out
    assert "float32[5, 64]" in out and "float32[5, 10]" in out
    assert "identical: the output is the same bit for bit" in out


def test_check_takes_feeds_from_npz_and_makes_the_rest(tmp_path, capsys) -> None:
    # ids: int64[batch, seq] from the file, mask: int64[batch, seq] random with the same sizes.
    path = write(tmp_path, "pair.onnx", models.symbolic_pair())
    feeds = tmp_path / "feeds.npz"
    np.savez(feeds, ids=np.ones((2, 3), np.int64))
    status = main(["check", str(path), "--feeds", str(feeds), "--dim", "batch=2", "--dim", "seq=3"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert f"ids      int64[2, 3]  {feeds}" in out and "mask     int64[2, 3]  random, seed 0" in out


def test_feeds_that_break_a_named_dim_exit_2(tmp_path, capsys) -> None:
    path = write(tmp_path, "pair.onnx", models.symbolic_pair())
    feeds = tmp_path / "feeds.npz"
    np.savez(feeds, ids=np.ones((2, 3), np.int64))
    assert main(["check", str(path), "--feeds", str(feeds), "--dim", "batch=2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ortbind check: error: the feeds do not fit the model: ") and "seq" in err
    assert len(err.strip().splitlines()) == 1


def test_check_real_models_identical(capsys) -> None:
    # A classifier whose second output is a sequence of maps, and tf2onnx's placeholder dim sized by --dim.
    assert main(["check", str(real("logreg-iris"))]) == 0
    assert "probabilities  list of 3       identical" in capsys.readouterr().out
    assert main(["check", str(real("magika-standard-v1")), "--dim", "unk__122=2"]) == 0
    assert "float32[2, 1536]" in capsys.readouterr().out


def test_check_catches_a_real_difference_exit_1(tmp_path, capsys) -> None:
    path = write(tmp_path, "noisy.onnx", noisy_model())
    assert main(["check", str(path), "--dim", "n=64"]) == 1
    out = capsys.readouterr().out
    assert "DIFFERS: 64 of 64 values differ; max abs difference" in out
    assert "DIFFERENT: 1 of 1 outputs differ (y;" in out


def test_check_one_binding_failing_is_a_difference_exit_1(tmp_path, capsys) -> None:
    # bfloat16 feeds (ml_dtypes, from the file): ortbind runs them, the official binding cannot take them.
    ml_dtypes = pytest.importorskip("ml_dtypes")
    path = write(tmp_path, "bf16.onnx", models.identity(elem=TensorProto.BFLOAT16))
    feeds = tmp_path / "feeds.npz"
    np.savez(feeds, x=np.arange(4).astype(ml_dtypes.bfloat16))
    assert main(["check", str(path), "--feeds", str(feeds)]) == 1
    out = capsys.readouterr().out
    assert "x        bfloat16[4]" in out
    assert "DIFFERENT: onnxruntime failed where ortbind ran" in out


def test_compare_reports_one_ulp_with_its_size() -> None:
    theirs = np.linspace(0, 1, 10, dtype=np.float32)
    ours = theirs.copy()
    ours[3] = np.nextafter(ours[3], np.float32(2))
    (found,) = compare("y", ours, theirs)
    assert found.what == "1 of 10 values differ"
    assert found.max_abs == pytest.approx(float(ours[3]) - float(theirs[3]))
    assert found.max_rel is not None and 0 < found.max_rel < 1e-6
    assert compare("y", theirs.copy(), theirs) == []
    assert compare("p", [{1: 0.5}], [{1: 0.5}]) == []
    assert "keys" in compare("p", [{1: 0.5}], [{2: 0.5}])[0].what


# --- bench ------------------------------------------------------------------------------------------


def test_bench_writes_report_results_and_plot(tmp_path, capsys) -> None:
    path = write(tmp_path, "mlp.onnx", models.mlp())
    out_dir = tmp_path / "report"
    assert main(["bench", str(path), *FAST_BENCH, "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "same outputs as onnxruntime: yes, bit for bit" in out
    assert "ortbind run" in out and "ort iobinding" in out and "median µs" in out
    results = json.loads((out_dir / "results.json").read_text())
    measured = set(results["stats"])
    assert {"ortbind", "ortbind_out", "ort", "ort_iobinding"} <= measured
    # The floor is measured where it can be built here, and otherwise says why not.
    for floor in ("floor", "floor_bind"):
        assert floor in measured or results["skipped"][floor], results["skipped"]
    for stats in results["stats"].values():
        assert stats["n"] == len(stats["samples_ns"]) > 0 and stats["median_us"] > 0
    assert results["stats"]["ortbind"]["ratio_to_ort"] > 0
    report = (out_dir / "report.md").read_text()
    assert "## Results (µs per call)" in report and "## Method" in report and "latency.png" in report
    assert (out_dir / "latency.png").stat().st_size > 0


def test_bench_says_why_there_is_no_floor(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CXX", "no-such-compiler-here")
    path = write(tmp_path, "add.onnx", models.add_one_element())
    assert main(["bench", str(path), *FAST_BENCH, "--contenders", "ortbind,floor"]) == 0
    out = capsys.readouterr().out
    assert "no C++ floor row: no C++ compiler ('no-such-compiler-here' is not on PATH; set CXX)" in out


def test_bench_profile_on_a_real_model(tmp_path, capsys) -> None:
    path = real("magika-standard-v1")
    out_dir = tmp_path / "report"
    argv = ["bench", str(path), "--dim", "unk__122=1", "--contenders", "ortbind,ort", "--profile"]
    assert main([*argv, "--out", str(out_dir), *FAST_BENCH]) == 0
    out = capsys.readouterr().out
    assert "Time per operator type" in out and "MatMul" in out
    results = json.loads((out_dir / "results.json").read_text())
    profile = results["profile"]
    assert profile["runs"] >= 5 and profile["by_op"] and profile["by_node"]
    assert abs(sum(row["share"] for row in profile["by_op"]) - 1.0) < 1e-6
    assert {row["op_type"] for row in profile["by_op"]} >= {"MatMul", "OneHot"}
    report = (out_dir / "report.md").read_text()
    assert "## Where the time goes" in report and "### Time per node" in report
    assert Path(profile["source"]).is_file()


# --- user mistakes: one line, exit status 2 ---------------------------------------------------------


@pytest.fixture
def model_file(tmp_path) -> Path:
    return write(tmp_path, "mlp.onnx", models.mlp())


def _npz(tmp_path: Path, **arrays: np.ndarray) -> str:
    path = tmp_path / "feeds.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return str(path)


MISTAKES: dict[str, tuple[Callable[[Path, Path], list[str]], str]] = {
    "missing file": (lambda tmp, model: ["info", str(tmp / "nope.onnx")], "no such file"),
    "a folder": (lambda tmp, model: ["check", str(tmp)], "is a folder"),
    "not a model": (
        lambda tmp, model: ["info", str(write(tmp, "notes.onnx", b"these are notes"))],
        "not a model ONNX Runtime can load (InvalidProtobuf",
    ),
    "--dim names no dim": (
        lambda tmp, model: ["check", str(model), "--dim", "seq=4"],
        "--dim seq: the model has no dim named 'seq'; its dim names: batch",
    ),
    "--dim not a number": (lambda tmp, model: ["check", str(model), "--dim", "batch=two"], "expected NAME=SIZE"),
    "--shape wrong rank": (
        lambda tmp, model: ["check", str(model), "--shape", "x=2x64x1"],
        "the model takes rank 2",
    ),
    "feeds name no input": (
        lambda tmp, model: ["check", str(model), "--feeds", _npz(tmp, y=np.ones((1, 64), np.float32))],
        "'y' is not an input of the model; its inputs: x",
    ),
    "feeds wrong dtype": (
        lambda tmp, model: ["bench", str(model), "--feeds", _npz(tmp, x=np.ones((1, 64), np.float64))],
        "input 'x' is float64, the model takes float32",
    ),
    "feeds wrong fixed dim": (
        lambda tmp, model: ["check", str(model), "--feeds", _npz(tmp, x=np.ones((1, 63), np.float32))],
        "the model fixes dim 1 to 64",
    ),
    "feeds not npz": (
        lambda tmp, model: ["check", str(model), "--feeds", str(write(tmp, "f.npz", b"not a zip"))],
        "not an .npz file numpy can read",
    ),
    "unknown contender": (
        lambda tmp, model: ["bench", str(model), "--contenders", "ortbind,fastest"],
        "unknown fastest; known:",
    ),
}


@pytest.mark.parametrize("case", list(MISTAKES), ids=list(MISTAKES))
def test_user_mistakes_exit_2_with_one_line(case, tmp_path, model_file, capsys) -> None:
    argv, message = MISTAKES[case]
    assert main(argv(tmp_path, model_file)) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ortbind "), captured.err
    assert message in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_missing_optional_dependency_is_named(model_file, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tabulate", None)  # import tabulate raises ImportError
    assert main(["info", str(model_file)]) == 2
    assert "ortbind info needs tabulate: pip install 'ortbind[cli]'" in capsys.readouterr().err


# --- entry points -----------------------------------------------------------------------------------


def test_console_script_and_python_dash_m(model_file) -> None:
    script = Path(sys.executable).with_name("ortbind")
    if not script.exists():
        pytest.skip("the ortbind console script is not installed beside this interpreter")
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("ortbind "), version.stderr
    run = subprocess.run(
        [sys.executable, "-m", "ortbind", "info", str(model_file), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["inputs"][0]["contract"] == "float32[batch, 64]"
    usage = subprocess.run([sys.executable, "-m", "ortbind", "check"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage: ortbind check" in usage.stderr and "Traceback" not in usage.stderr


# --- the harness the command and the suite share ----------------------------------------------------


def _fake(name: str, ns: int, log: list[str]):
    from ortbind._bench.harness import Contender

    def block(n: int) -> list[int]:
        log.append(name)
        return [ns] * n

    return Contender(name, block)


def test_harness_rotates_and_takes_ratios_round_by_round() -> None:
    from ortbind._bench import harness

    log: list[str] = []
    made = {"a": _fake("a", 1000, log), "b": _fake("b", 4000, log), "c": _fake("c", 2000, log)}
    measured = harness.measure(made, warmup=5, rounds=3, calls=7, families={"a": "ortbind", "b": "ort", "c": "ort"})
    assert log == ["a", "b", "c", "a", "b", "c", "b", "c", "a", "c", "a", "b"]  # warm-up, then A B C, B C A, C A B
    stats = measured.stats(references=["b"])
    assert stats["a"]["n"] == 21 and stats["a"]["median_us"] == 1.0 and stats["a"]["ratio_to_b"] == 0.25
    assert measured.fastest_ratio("ortbind", "ort") == 0.5  # a against the faster of b and c
    assert measured.difference_us("b", "a") == 3.0


def test_harness_sizes_blocks_for_the_duration() -> None:
    from ortbind._bench import harness

    log: list[str] = []
    fast = harness.plan_for_duration({"a": _fake("a", 1000, log), "b": _fake("b", 1000, log)}, 1.0)
    assert fast == harness.Plan(warmup=50, rounds=20, calls=25_000)  # 20 rounds x 2 x 25,000 x 1 µs = 1 s
    slow = harness.plan_for_duration({"a": _fake("a", 10**9, log), "b": _fake("b", 10**9, log)}, 3.0)
    assert slow == harness.Plan(warmup=1, rounds=3, calls=1)  # a second per call: the fewest rounds, one call each
