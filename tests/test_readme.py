"""The README's examples type-check under mypy --strict and do what they say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ortbind
from tests import models
from tests.helpers import needs_mypy

README = Path(__file__).resolve().parent.parent / "README.md"


def examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@needs_mypy
def test_readme_examples_pass_mypy_strict(tmp_path: Path) -> None:
    blocks = examples()
    assert len(blocks) >= 3
    for k, block in enumerate(blocks):
        (tmp_path / f"example_{k}.py").write_text(block)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *sorted(str(p) for p in tmp_path.glob("*.py"))],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _namespace(block: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(block, str(README), "exec"), namespace)
    return namespace


def test_readme_examples_run(tmp_path: Path, capsys: Any) -> None:
    pytest.importorskip(
        "dask", reason="the README's third example scores a dask array; the dask extra is not installed"
    )
    first, second, third = (_namespace(b) for b in examples()[:3])
    path = tmp_path / "mlp.onnx"
    path.write_bytes(models.mlp())
    probs = first["classify"](str(path), np.ones((2, 64), np.float32))
    assert probs.shape == (2, 10)
    assert "(x: float32[batch, 64]) -> (probs: float32[batch, 10])" in capsys.readouterr().out
    session = ortbind.Session(models.mlp())
    scored = second["score_batches"](session, [np.ones((3, 64), np.float32)])
    assert scored[0].shape == (3, 10)
    assert "where 1 <= batch <= 64" in capsys.readouterr().out
    import dask.array as da

    x = da.from_array(np.ones((8, 64), np.float32), chunks=(4, 64))
    assert third["score_dataset"](session, x).compute(scheduler="synchronous").shape == (8, 10)


def test_readme_bound_path_example_runs() -> None:
    fourth = _namespace(next(b for b in examples() if "session.bind(" in b))
    session = ortbind.Session(models.mlp())
    rows = [np.full(64, k, np.float32) for k in range(3)]
    expected = [int(session.run({"x": row[None]})["probs"].argmax()) for row in rows]
    assert fourth["score_rows"](session, rows) == expected
