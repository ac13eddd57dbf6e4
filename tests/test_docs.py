"""The code examples of README.md and of the docs pages (docs/**/*.md) type-check under mypy --strict
and do what they say; the benchmark page and the README's table are what benchmarks/page.py writes
from the published results.json."""

from __future__ import annotations

import ast
import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

import ortbind
from benchmarks import page
from ortbind._bench.report import CHARTS
from ortbind.cli import main as cli
from support import models
from tests.helpers import chain_nodes, needs_mypy

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# A batched GEMM may sum in another order than the one-row run: float32 rows agree to a few ulps.
RTOL, ATOL = 1e-5, 1e-6


def examples() -> list[tuple[Path, str]]:
    """Every ```python block of every page, with its page."""
    return [(p, b) for p in PAGES for b in re.findall(r"```python\n(.*?)```", p.read_text(), flags=re.S)]


def functions(block: str) -> set[str]:
    """The functions a block defines at its top level."""
    return {n.name for n in ast.parse(block).body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def defining(name: str) -> list[dict[str, Any]]:
    """The namespace of each example that defines ``name`` (the README and a page may share one)."""
    found = []
    for path, block in examples():
        if name in functions(block):
            namespace: dict[str, Any] = {}
            exec(compile(block, str(path), "exec"), namespace)
            found.append(namespace)
    assert found, f"no example defines {name}"
    return found


# Every function an example defines, each called by a test below; and the examples that are scripts.
CALLED = {
    "classify",
    "describe_and_run",
    "feed_twice",
    "through_dlpack",
    "score_batches",
    "explain",
    "run_with_deadline",
    "run_until_cancelled",
    "score_concurrently",
    "score",
    "score_dataset",
    "score_rows",
    "tenants",
    "pick_providers",
    "predict",
    "import_on_ortbind",
    "score_requests",
}
SCRIPTS = {"noisy.onnx"}


def test_every_example_is_run_by_a_test() -> None:
    defined = set().union(*(functions(block) for _, block in examples()))
    assert defined == CALLED, "an example without its test, or a test without its example"
    scripts = [block for _, block in examples() if not functions(block)]
    assert all(any(marker in block for marker in SCRIPTS) for block in scripts), scripts


@needs_mypy
def test_examples_pass_mypy_strict(tmp_path: Path) -> None:
    blocks = examples()
    assert len(blocks) >= 10
    for k, (path, block) in enumerate(blocks):
        (tmp_path / f"example_{k}_{path.stem}.py").write_text(block)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *sorted(str(p) for p in tmp_path.glob("*.py"))],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_quick_start_and_contracts_run(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "mlp.onnx"
    path.write_bytes(models.mlp())
    for namespace in defining("classify"):
        probs = namespace["classify"](str(path), np.ones((2, 64), np.float32))
        assert probs.shape == (2, 10)
        assert "(x: float32[batch, 64]) -> (probs: float32[batch, 10])" in capsys.readouterr().out
    session = ortbind.Session(models.mlp())
    (contracts,) = defining("score_batches")
    scored = contracts["score_batches"](session, [np.ones((3, 64), np.float32)])
    assert scored[0].shape == (3, 10)
    assert "where 1 <= batch <= 64" in capsys.readouterr().out


def test_sessions_example_runs(capsys: Any) -> None:
    (namespace,) = defining("describe_and_run")
    shapes = namespace["describe_and_run"](models.mlp(), np.ones((3, 64), np.float32))
    assert shapes == {"probs": (3, 10)}
    assert "x float32 ('batch', 64)" in capsys.readouterr().out


def test_copies_example_refuses_another_dtype() -> None:
    (namespace,) = defining("feed_twice")
    said = namespace["feed_twice"](ortbind.Session(models.add()))
    assert "'x'" in said and "float32" in said and "float64" in said, said


def test_copies_example_goes_through_dlpack() -> None:
    (namespace,) = defining("through_dlpack")
    x = np.arange(3, dtype=np.float32)
    y = namespace["through_dlpack"](ortbind.Session(models.identity()), x, np.from_dlpack)
    assert y.tolist() == x.tolist()
    torch = pytest.importorskip("torch", reason="torch is not installed (make test installs its CPU build if offered)")
    pytest.importorskip("ml_dtypes")
    session = ortbind.Session(models.identity(TensorProto.BFLOAT16))
    back = namespace["through_dlpack"](session, torch.tensor([1.5, -2.0], dtype=torch.bfloat16), torch.from_dlpack)
    assert back.dtype == torch.bfloat16 and back.tolist() == [1.5, -2.0]


def test_errors_example_names_each_mistake() -> None:
    (namespace,) = defining("explain")
    mlp = ortbind.Session(models.mlp())
    assert namespace["explain"](mlp, np.ones((2, 64), np.float32)) == "ran"
    assert namespace["explain"](mlp, np.ones((2, 64), np.float64)).startswith("wrong dtype: ")
    assert namespace["explain"](mlp, np.ones((2, 63), np.float32)).startswith("wrong shape: ")
    strings = ortbind.Session(models.string_model())
    assert namespace["explain"](strings, np.ones(2, np.float32)).startswith("wrong name: ")


def test_threads_examples_stop_a_long_run() -> None:
    (namespace,) = defining("run_with_deadline")
    slow = ortbind.Session(models.matmul_chain(chain_nodes(3.0), 256), intra_op_threads=1)
    feeds = {"x": np.eye(256, dtype=np.float32)}
    assert namespace["run_with_deadline"](slow, feeds, 0.05) == "timed out"
    assert namespace["run_until_cancelled"](slow, feeds, 0.05) == "cancelled"
    add1 = ortbind.Session(models.add_one_element())
    one = {"x": np.array([1.0], np.float32)}
    assert namespace["run_with_deadline"](add1, one, 10.0) == "finished"
    assert namespace["run_until_cancelled"](add1, one, 10.0) == "finished"


def test_asyncio_example_awaits_each_batch() -> None:
    (namespace,) = defining("score_concurrently")
    session = ortbind.Session(models.mlp(), intra_op_threads=2)
    batches = [np.full((k + 1, 64), k, np.float32) for k in range(5)]
    scored = asyncio.run(namespace["score_concurrently"](session, batches))
    for batch, probs in zip(batches, scored, strict=True):
        assert np.array_equal(probs, session.run({"x": batch})["probs"])


def test_dask_example_scores_a_dask_array() -> None:
    da = pytest.importorskip("dask.array", reason="the example scores a dask array; the dask extra is not installed")

    (namespace,) = defining("score_dataset")
    session = ortbind.Session(models.mlp())
    x = da.from_array(np.ones((8, 64), np.float32), chunks=(4, 64))
    assert namespace["score_dataset"](session, x).compute(scheduler="synchronous").shape == (8, 10)


def test_bound_path_example_runs() -> None:
    (namespace,) = defining("score_rows")
    session = ortbind.Session(models.mlp())
    rows = [np.full(64, k, np.float32) for k in range(3)]
    expected = [int(session.run({"x": row[None]})["probs"].argmax()) for row in rows]
    assert namespace["score_rows"](session, rows) == expected


def test_loading_example_makes_sessions_that_share_weights(tmp_path: Path) -> None:
    (namespace,) = defining("tenants")
    path = tmp_path / "mlp.onnx"
    path.write_bytes(models.mlp())
    weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    x = {"x": np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)}
    expected = ortbind.Session(str(path)).run(x)["probs"]
    sessions = namespace["tenants"](str(path), weights, 3)
    assert len(sessions) == 3
    for session in sessions:
        np.testing.assert_allclose(session.run(x)["probs"], expected, rtol=RTOL, atol=ATOL)


@pytest.mark.skipif(
    not (
        ortbind.runtime.FEATURES["provider_policy"].available and ortbind.runtime.FEATURES["node_assignment"].available
    ),
    reason="devices, policies and node assignment need C API 24",
)
def test_providers_example_picks_the_cpu_device_and_a_policy() -> None:
    (namespace,) = defining("pick_providers")
    assert set(namespace["pick_providers"](models.mlp())) == {"CPUExecutionProvider"}


def test_compat_example_predicts_as_the_official_binding(tmp_path: Path) -> None:
    import onnxruntime

    (namespace,) = defining("predict")
    path = tmp_path / "mlp.onnx"
    path.write_bytes(models.mlp())
    batch = np.random.default_rng(2).standard_normal((3, 64)).astype(np.float32)
    official = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": batch})[0]
    np.testing.assert_array_equal(namespace["predict"](str(path), batch), official)


def test_compat_example_serves_onnxruntime_to_a_library() -> None:
    # In a fresh interpreter: install() changes what `import onnxruntime` gives for the whole process.
    (block,) = [b for _, b in examples() if "import_on_ortbind" in functions(b)]
    script = block + "\nimport ortbind.compat\nassert import_on_ortbind('onnxruntime') is ortbind.compat\nprint('ok')\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_batcher_example_scores_rows() -> None:
    (namespace,) = defining("score_requests")
    mlp = ortbind.Session(models.mlp(), intra_op_threads=1)
    xs = [np.random.default_rng(k).standard_normal((1, 64)).astype(np.float32) for k in range(10)]
    scored = asyncio.run(namespace["score_requests"](mlp, xs))
    for x, probs in zip(xs, scored, strict=True):
        np.testing.assert_allclose(probs, mlp.run({"x": x})["probs"], rtol=RTOL, atol=ATOL)


def test_cli_example_finds_the_noisy_model_different(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    (block,) = [b for _, b in examples() if "noisy.onnx" in b]
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "docs/guide/cli.md", "exec"), {})
    assert cli(["check", "noisy.onnx", "--dim", "n=1000"]) == 1
    out = capsys.readouterr().out
    assert "DIFFERS: 1000 of 1000 values differ" in out
    assert "DIFFERENT: 1 of 1 outputs differ (y;" in out


def test_benchmark_page_and_readme_table_are_written_from_the_published_results() -> None:
    """No hand-copied numbers: the committed page and the README's table are what the generator
    writes from docs/assets/bench/results.json (`python -m benchmarks.page` writes them again)."""
    results = json.loads((page.ASSETS / "results.json").read_text())
    charts = {name: alt for name, alt in CHARTS.items() if (page.ASSETS / name).exists()}
    assert page.PAGE.read_text() == page.render_page(results, "assets/bench/", charts)
    readme = page.README.read_text()
    assert page.with_readme_block(readme, results) == readme
    assert "samples_ns" not in json.dumps(results), "the docs keep medians, not every call's time"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_names_a_path_of_this_machine(path: Path) -> None:
    text = path.read_text()
    for found in (str(ROOT), str(Path.home()), "/work/", "/tmp/"):
        assert found not in text, f"{path.name} names {found}"
