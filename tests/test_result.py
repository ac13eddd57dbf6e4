"""Result: a read-only mapping in output order, reachable by index, with typed extraction."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import ortbind
from support import models
from tests.helpers import needs_mypy


@pytest.fixture(scope="module")
def result() -> ortbind.Result:
    session = ortbind.Session(models.many_io(3))
    return session.run({f"x{i}": np.array([i], np.float32) for i in range(3)})


def test_mapping_in_output_order(result: ortbind.Result) -> None:
    assert isinstance(result, ortbind.Result)
    assert list(result) == ["y0", "y1", "y2"] and len(result) == 3
    assert result[1] is result["y1"] and result[-1] is result["y2"]  # type: ignore[index]
    with pytest.raises(IndexError, match="output index 3 is out of range for 3 outputs"):
        result[3]  # type: ignore[index]
    with pytest.raises(ortbind.NameMismatchError, match=r"unknown output 'yy0' \(did you mean 'y0'\?\)"):
        result["yy0"]


def test_read_only(result: ortbind.Result) -> None:
    changes: list[Callable[[ortbind.Result], object]] = [
        lambda r: r.__setitem__("y0", 1),
        lambda r: r.__delitem__("y0"),
        lambda r: r.pop("y0"),
        lambda r: r.update({}),
        lambda r: r.clear(),
        lambda r: r.setdefault("q", 1),
        lambda r: r.popitem(),
    ]
    for change in changes:
        with pytest.raises(TypeError, match="a run's Result is read-only"):
            change(result)
    assert list(result) == ["y0", "y1", "y2"]


def test_copies_and_pickles(result: ortbind.Result) -> None:
    for other in (copy.copy(result), copy.deepcopy(result), pickle.loads(pickle.dumps(result))):
        assert isinstance(other, ortbind.Result) and list(other) == list(result)
        assert other["y2"].tolist() == [4.0]


def test_typed_extraction(result: ortbind.Result) -> None:
    y = result.extract("y1", np.float32)
    assert y.dtype == np.float32 and y.tolist() == [2.0]
    assert result.extract(0, "float32") is result["y0"]
    with pytest.raises(ortbind.DTypeError, match="output 'y1' is a tensor of float32, not a tensor of float64"):
        result.extract("y1", np.float64)
    with pytest.raises(ortbind.DTypeError, match="output 'y1' is a tensor of float32, not a tensor of str"):
        result.extract("y1", str)
    with pytest.raises(ortbind.DTypeError, match="output 'y1' is a tensor of float32, not a list"):
        result.extract("y1", list)


def test_extraction_of_other_kinds() -> None:
    seq = ortbind.Session(models.sequence_model()).run({"seq": [np.ones(2, np.float32)]})
    assert len(seq.extract("twice", list)) == 2
    rows = ortbind.Session(models.zipmap()).run({"probs": np.array([[1, 0, 0]], np.float32)})
    assert rows.extract("rows", list)[0] == {10: 1.0, 20: 0.0, 30: 0.0}
    text = ortbind.Session(models.string_model()).run({"text": ["a"]})
    assert text.extract("same", str).tolist() == ["a"]
    optional = ortbind.Session(models.optional_model())
    assert optional.run({}).extract_optional("same", np.float32) is None
    with pytest.raises(ortbind.KindError, match="output 'same' is an absent optional; use extract_optional"):
        optional.run({}).extract("same", np.float32)
    present = optional.run({"opt": np.ones(1, np.float32)}).extract_optional("same", np.float32)
    assert present is not None and present.tolist() == [1.0]


def test_one() -> None:
    single = ortbind.Session(models.identity()).run({"x": np.ones(2, np.float32)})
    assert single.one().tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="one\\(\\) needs exactly one output, this result has 2"):
        ortbind.Session(models.many_io(2)).run({"x0": np.ones(1, np.float32), "x1": np.ones(1, np.float32)}).one()


TYPED_SCRIPT = """
import numpy as np
from numpy.typing import NDArray
import ortbind

def score(session: ortbind.Session, x: NDArray[np.float32]) -> NDArray[np.float32]:
    result = session.run({"x": x})
    probs: NDArray[np.float32] = result.extract("probs", np.float32)
    labels: NDArray[np.str_] = result.extract("labels", str)
    rows: list[object] = result.extract("rows", list)
    maybe: NDArray[np.int64] | None = result.extract_optional("count", np.int64)
    checked = session.with_contract(inputs={"x": ("float32", ("batch", 4))}, dims={"batch": (1, 64)})
    checked.run({"x": x})
    del labels, rows, maybe
    return probs
"""


@needs_mypy
def test_mypy_strict_on_a_user_script(tmp_path: Path) -> None:
    script = tmp_path / "user.py"
    script.write_text(TYPED_SCRIPT)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@needs_mypy
def test_mypy_sees_the_extracted_dtype(tmp_path: Path) -> None:
    script = tmp_path / "wrong.py"
    script.write_text(
        "import numpy as np\nfrom numpy.typing import NDArray\nimport ortbind\n"
        "def f(s: ortbind.Session) -> NDArray[np.int64]:\n"
        "    return s.run({}).extract('probs', np.float32)\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 1 and "float" in run.stdout and "signedinteger[_64Bit]" in run.stdout, run.stdout
