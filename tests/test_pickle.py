"""Sessions that travel: pickling, rebuilt once per process, in spawn and fork pools; a session
inherited through fork is refused in the child with a clear error."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import ortbind
from ortbind import _pickle
from support import models
from tests.helpers import run_child


def test_round_trip_in_process_reuses_one_session() -> None:
    session = ortbind.Session(models.mlp(), intra_op_threads=1)
    data = pickle.dumps(session)
    a, b = pickle.loads(data), pickle.loads(data)
    assert a is b and isinstance(a, ortbind.Session)
    x = np.ones((2, 64), np.float32)
    np.testing.assert_array_equal(a.run({"x": x})["probs"], session.run({"x": x})["probs"])
    assert a._options == session._options


def test_path_sessions_pickle_bytes_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(models.add_one_element())
    session = ortbind.Session(path)
    assert len(pickle.dumps(session)) > len(path.read_bytes())
    ortbind.pickle_by_path(session)
    assert len(pickle.dumps(session)) < len(path.read_bytes()) + 500
    assert pickle.loads(pickle.dumps(session))._model_path == str(path)


def test_closed_session_does_not_pickle() -> None:
    session = ortbind.Session(models.add_one_element())
    session.close()
    with pytest.raises(ortbind.ClosedError):
        pickle.dumps(session)


def test_checked_session_pickles_with_its_contract() -> None:
    checked = ortbind.Session(models.symbolic_pair()).with_contract(dims={"batch": (1, 2)})
    back = pickle.loads(pickle.dumps(checked))
    assert str(back.contract) == str(checked.contract)
    with pytest.raises(ortbind.ShapeError, match="outside the contract's bound 1 <= batch <= 2"):
        back.run({"ids": np.ones((3, 1), np.int64), "mask": np.ones((3, 1), np.int64)})


def _score(session: ortbind.Session, seed: int) -> tuple[int, int, int, list[float]]:
    x = np.random.default_rng(seed).standard_normal((3, 64)).astype(np.float32)
    probs = session.run({"x": x})["probs"]
    return os.getpid(), id(session), _pickle.sessions_built(), probs.sum(axis=1).round(4).tolist()


@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_process_pool_builds_the_session_once_per_worker(method: str) -> None:
    session = ortbind.Session(models.mlp(), intra_op_threads=1)
    session.run({"x": np.ones((1, 64), np.float32)})  # used in the parent before any fork
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
        results = list(pool.map(_score, [session] * 24, range(24)))
    by_pid: dict[int, set[int]] = {}
    for pid, ident, built, sums in results:
        by_pid.setdefault(pid, set()).add(ident)
        assert built == 1
        assert sums == [1.0, 1.0, 1.0]
    assert all(len(ids) == 1 for ids in by_pid.values()), by_pid
    expected = [_score(session, k)[3] for k in range(24)]
    assert [r[3] for r in results] == expected


def test_session_inherited_through_fork_is_refused() -> None:
    result = run_child("fork_refused")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 (1, 10)"
