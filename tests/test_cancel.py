"""Stopping runs: time limits, cancel tokens from another thread, and Ctrl-C on the main thread.
Each leaves the session usable."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import ortbind
from support import models
from tests.helpers import chain_nodes, run_child

SIZE = 256


@pytest.fixture(scope="module")
def slow() -> ortbind.Session:
    # MatMuls of 256x256 on one thread: seconds of work in many small steps.
    return ortbind.Session(models.matmul_chain(chain_nodes(3.0), SIZE), intra_op_threads=1)


def feed() -> dict[str, np.ndarray]:
    return {"x": np.eye(SIZE, dtype=np.float32)}


def test_timeout_stops_a_long_run(slow: ortbind.Session) -> None:
    start = time.perf_counter()
    with pytest.raises(ortbind.RunTimeout, match=r"did not finish within its time limit of 0\.1"):
        slow.run(feed(), timeout=0.1)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"the run stopped only after {elapsed:.2f} s"
    assert isinstance(ortbind.RunTimeout("x"), TimeoutError)


def test_generous_timeout_does_not_fire() -> None:
    session = ortbind.Session(models.add_one_element())
    for _ in range(100):
        assert session.run({"x": np.array([1.0], np.float32)}, timeout=10.0)["y"].tolist() == [2.0]


def test_bad_timeouts() -> None:
    session = ortbind.Session(models.add_one_element())
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ortbind.InvalidValueError, match="timeout must be a number of seconds >= 0"):
            session.run({"x": np.array([1.0], np.float32)}, timeout=bad)


def test_cancel_token_from_another_thread(slow: ortbind.Session) -> None:
    token = ortbind.CancelToken()
    timer = threading.Timer(0.1, token.cancel)
    timer.start()
    start = time.perf_counter()
    with pytest.raises(ortbind.Cancelled, match="cancelled by its CancelToken"):
        slow.run(feed(), cancel=token)
    assert time.perf_counter() - start < 1.0
    assert token.cancelled
    with pytest.raises(ortbind.Cancelled):  # cancelled for good
        slow.run(feed(), cancel=token)


def test_session_usable_after_cancellation(slow: ortbind.Session) -> None:
    with pytest.raises(ortbind.RunTimeout):
        slow.run(feed(), timeout=0.01)
    small = ortbind.Session(models.matmul_chain(3, SIZE))
    x = np.eye(SIZE, dtype=np.float32)
    with pytest.raises(ortbind.RunTimeout):
        slow.run(feed(), timeout=0.0)
    # The thread's run options were reset: the next run on this thread completes.
    np.testing.assert_allclose(small.run({"x": x})["y"], small.run({"x": x})["y"])
    result = ortbind.Session(models.matmul_chain(20, SIZE)).run(feed())
    assert result["y"].shape == (SIZE, SIZE)


def test_one_token_cancels_every_run_using_it(slow: ortbind.Session) -> None:
    token = ortbind.CancelToken()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            slow.run(feed(), cancel=token)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    token.cancel()
    for t in threads:
        t.join(timeout=5)
    assert len(errors) == 2 and all(isinstance(e, ortbind.Cancelled) for e in errors)


def test_ctrl_c_interrupts_a_long_run() -> None:
    result = run_child("ctrl_c", "0.5", str(chain_nodes(6.0)), timeout=120)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    word, seconds = first.split()
    assert word == "interrupted"
    assert float(seconds) < 1.5, f"Ctrl-C took {float(seconds) - 0.5:.2f} s to stop the run"
    assert second == "usable True"


def test_ctrl_c_with_a_users_handler() -> None:
    result = run_child("ctrl_c_with_handler", str(chain_nodes(6.0)), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cancelled ['handled']"
