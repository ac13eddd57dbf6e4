"""ortbind.Batcher: requests batched along the contract's batch dim, each caller getting its own rows.

Batches are forced where a test needs one (a long max_delay with a full max_batch, or close(),
which runs what is queued), so that no test depends on timing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import json
import multiprocessing
import threading
import traceback
import tracemalloc
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import ortbind
from benchmarks import batching
from support import models
from support.models import _model, tensor

# A batched GEMM may block its sums differently from a one-row run: float32 results agree to a few
# ulps of the dot products, which this bounds for the MLP (64 and 128 terms, weights ~0.1).
RTOL, ATOL = 1e-5, 1e-6
LONG = 60.0  # a max_delay no test waits for: its batches run when full or on close()


def gather_model() -> bytes:
    """y = table[idx]: an index out of the table's 4 rows fails the run in ONNX Runtime."""
    table = numpy_helper.from_array(np.arange(8, dtype=np.float32).reshape(4, 2), "table")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "idx"], ["y"], axis=0)],
        "gather",
        [tensor("idx", TensorProto.INT64, ["batch"])],
        [tensor("y", TensorProto.FLOAT, ["batch", 2])],
        [table],
    )
    return _model(graph)


def pair_rows_model() -> bytes:
    """y = x reshaped to [-1, 6]: two rows of x make one of y, and y's axis 0 is unknown to the model."""
    shape = numpy_helper.from_array(np.array([-1, 6], np.int64), "shape")
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])],
        "pair_rows",
        [tensor("x", TensorProto.FLOAT, ["batch", 3])],
        [tensor("y", TensorProto.FLOAT, ["?", 6])],
        [shape],
    )
    return _model(graph)


@pytest.fixture(scope="module")
def mlp() -> ortbind.Session:
    return ortbind.Session(models.mlp(), intra_op_threads=1)


def rows(n: int, seed: int = 0, features: int = 64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, features)).astype(np.float32)


def test_concurrent_awaits_get_their_own_rows(mlp: ortbind.Session) -> None:
    sizes = [1, 3, 1, 2, 5, 1, 4] * 12
    requests = [rows(n, seed) for seed, n in enumerate(sizes)]

    async def main(batcher: ortbind.Batcher) -> list[ortbind.Result]:
        return await asyncio.gather(*(batcher.run({"x": x}) for x in requests))

    with ortbind.Batcher(mlp, max_batch=16, max_delay=0.01) as batcher:
        results = asyncio.run(main(batcher))
        stats = batcher.stats
    for x, result in zip(requests, results, strict=True):
        want = mlp.run({"x": x})
        assert isinstance(result, ortbind.Result) and list(result) == list(want)
        assert result["probs"].shape == want["probs"].shape == (len(x), 10)
        np.testing.assert_allclose(result["probs"], want["probs"], rtol=RTOL, atol=ATOL)
    assert stats.requests == len(requests) and stats.rows == sum(sizes)
    assert stats.batches < len(requests)  # they were batched


def test_threads_and_several_event_loops_share_one_batcher(mlp: ortbind.Session) -> None:
    batcher = ortbind.Batcher(mlp, max_batch=32, max_delay=0.005)
    failures: list[BaseException] = []

    def thread_client(seed: int) -> None:
        futures = [(x, batcher.submit({"x": x})) for x in (rows(1 + k % 3, seed * 100 + k) for k in range(20))]
        for x, future in futures:
            assert isinstance(future, concurrent.futures.Future)
            np.testing.assert_allclose(
                future.result(timeout=30)["probs"], mlp.run({"x": x})["probs"], rtol=RTOL, atol=ATOL
            )

    def loop_client(seed: int) -> None:
        async def main() -> None:
            xs = [rows(1 + k % 2, seed * 100 + k) for k in range(20)]
            results = await asyncio.gather(*(batcher.run({"x": x}) for x in xs))
            for x, result in zip(xs, results, strict=True):
                np.testing.assert_allclose(result["probs"], mlp.run({"x": x})["probs"], rtol=RTOL, atol=ATOL)

        asyncio.run(main())

    def guarded(target: Any, seed: int) -> None:
        try:
            target(seed)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=guarded, args=(thread_client, s)) for s in range(3)]
    threads += [threading.Thread(target=guarded, args=(loop_client, s)) for s in range(3, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    batcher.close()
    assert not failures, failures
    assert batcher.stats.requests == 120


BAD_FEEDS: list[tuple[str, Any]] = [
    ("wrong width", {"x": np.zeros((1, 63), np.float32)}),
    ("wrong dtype", {"x": np.zeros((1, 64), np.float64)}),
    ("wrong rank", {"x": np.zeros(64, np.float32)}),
    ("unknown name", {"X": np.zeros((1, 64), np.float32)}),
    ("missing input", {}),
    ("not a mapping", [1.0, 2.0]),
    ("float list for ints", None),
]


@pytest.mark.parametrize(("case", "feeds"), BAD_FEEDS[:-1], ids=[c for c, _ in BAD_FEEDS[:-1]])
def test_a_bad_request_fails_alone_with_the_usual_error(mlp: ortbind.Session, case: str, feeds: Any) -> None:
    with pytest.raises(ortbind.ValidationError) as usual:
        mlp.run(feeds)
    good = [rows(1, seed) for seed in range(3)]
    with ortbind.Batcher(mlp, max_batch=3, max_delay=LONG) as batcher:
        futures = [batcher.submit({"x": good[0]})]
        with pytest.raises(type(usual.value)) as refused:
            batcher.submit(feeds)
        futures += [batcher.submit({"x": x}) for x in good[1:]]  # the third fills the batch: it runs

        async def awaited() -> None:
            await batcher.run(feeds)

        with pytest.raises(type(usual.value)) as refused_async:
            asyncio.run(awaited())
        for x, future in zip(good, futures, strict=True):
            np.testing.assert_allclose(
                future.result(timeout=30)["probs"], mlp.run({"x": x})["probs"], rtol=RTOL, atol=ATOL
            )
    assert str(refused.value) == str(refused_async.value) == str(usual.value)


def test_values_are_converted_as_run_converts_them() -> None:
    session = ortbind.Session(models.symbolic_pair())
    with ortbind.Batcher(session, max_delay=0.001) as batcher:
        result = batcher.submit({"ids": [[1, 2]], "mask": [[3, 4]]}).result(timeout=30)
        np.testing.assert_array_equal(result["masked"], [[3, 8]])
        with pytest.raises(ortbind.DTypeError) as refused:
            batcher.submit({"ids": [[1.5, 2]], "mask": [[3, 4]]})
        with pytest.raises(ortbind.DTypeError) as usual:
            session.run({"ids": [[1.5, 2]], "mask": [[3, 4]]})
        assert str(refused.value) == str(usual.value)
        with pytest.raises(ortbind.ShapeError, match="'mask' dim 0 \\('batch'\\) is 2, but 'ids' bound batch=1"):
            batcher.submit({"ids": np.ones((1, 2), np.int64), "mask": np.ones((2, 2), np.int64)})


def test_a_single_input_model_takes_one_array(mlp: ortbind.Session) -> None:
    x = rows(2)
    with ortbind.Batcher(mlp, max_delay=0.001) as batcher:
        np.testing.assert_allclose(
            batcher.submit(x).result(timeout=30)["probs"], mlp.run(x)["probs"], rtol=RTOL, atol=ATOL
        )


def test_requests_of_other_shapes_are_batched_apart() -> None:
    session = ortbind.Session(models.symbolic_pair())
    rng = np.random.default_rng(0)
    requests = []
    for k in range(40):
        seq = 2 + k % 3
        ids = rng.integers(0, 100, (1 + k % 2, seq))
        requests.append({"ids": ids, "mask": rng.integers(0, 2, ids.shape)})

    async def main(batcher: ortbind.Batcher) -> list[ortbind.Result]:
        return await asyncio.gather(*(batcher.run(feeds) for feeds in requests))

    with ortbind.Batcher(session, max_batch=64, max_delay=0.005) as batcher:
        results = asyncio.run(main(batcher))
        stats = batcher.stats
    for feeds, result in zip(requests, results, strict=True):
        np.testing.assert_array_equal(result["masked"], feeds["ids"] * feeds["mask"])
    assert stats.failed_batches == 0 and stats.batches >= 3  # one at least per sequence length


def test_a_request_larger_than_max_batch_runs_alone(mlp: ortbind.Session) -> None:
    x = rows(10)
    with ortbind.Batcher(mlp, max_batch=4, max_delay=0.001) as batcher:
        result = batcher.submit({"x": x}).result(timeout=30)
    np.testing.assert_array_equal(result["probs"], mlp.run({"x": x})["probs"])  # its own run, unstacked


def test_a_failed_batch_fails_its_requests_and_the_batcher_goes_on() -> None:
    session = ortbind.Session(gather_model())
    with ortbind.Batcher(session, max_batch=3, max_delay=LONG) as batcher:
        doomed = [batcher.submit({"idx": np.array([i], np.int64)}) for i in (0, 99, 1)]
        errors = [future.exception(timeout=30) for future in doomed]
        assert all(isinstance(e, ortbind.Error) for e in errors), errors
        assert "out of" in str(errors[0]) and len({id(e) for e in errors}) == 3  # each its own copy
        assert all(type(e) is type(errors[0]) and str(e) == str(errors[0]) for e in errors)
        causes = [e.__cause__ for e in errors if e is not None]
        assert len(causes) == 3 and causes[0] is causes[1] is causes[2] is not None
        fine = [batcher.submit({"idx": np.array([i], np.int64)}) for i in (3, 0, 2)]
        values = [future.result(timeout=30)["y"] for future in fine]
        assert batcher.stats.failed_batches == 1
    np.testing.assert_array_equal(np.concatenate(values), [[6, 7], [0, 1], [4, 5]])


def test_cancelling_a_waiting_task_withdraws_its_request(mlp: ortbind.Session) -> None:
    async def main(batcher: ortbind.Batcher) -> ortbind.Result:
        withdrawn = asyncio.create_task(batcher.run({"x": rows(3)}))
        kept = asyncio.create_task(batcher.run({"x": rows(2, 1)}))
        await asyncio.sleep(0.01)  # both queued; the long max_delay keeps them there
        withdrawn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await withdrawn
        await batcher.aclose()  # runs what is queued
        return await kept

    batcher = ortbind.Batcher(mlp, max_delay=LONG)
    result = asyncio.run(main(batcher))
    np.testing.assert_allclose(result["probs"], mlp.run({"x": rows(2, 1)})["probs"], rtol=RTOL, atol=ATOL)
    assert batcher.stats == ortbind.BatcherStats(requests=2, withdrawn=1, batches=1, rows=2, failed_batches=0)


def test_cancelling_a_future_withdraws_its_request(mlp: ortbind.Session) -> None:
    batcher = ortbind.Batcher(mlp, max_delay=LONG)
    withdrawn = batcher.submit({"x": rows(4)})
    kept = batcher.submit({"x": rows(1)})
    assert withdrawn.cancel()
    batcher.close()
    assert kept.done() and kept.result()["probs"].shape == (1, 10)
    assert batcher.stats == ortbind.BatcherStats(requests=2, withdrawn=1, batches=1, rows=1, failed_batches=0)


def test_close_finishes_what_is_queued_then_refuses(mlp: ortbind.Session) -> None:
    batcher = ortbind.Batcher(mlp, max_batch=64, max_delay=LONG)
    futures = [batcher.submit({"x": rows(1, k)}) for k in range(5)]
    assert not any(f.done() for f in futures)
    batcher.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert batcher.closed and not mlp.closed  # the batcher does not own the session
    with pytest.raises(ortbind.ClosedError, match="batcher is closed"):
        batcher.submit({"x": rows(1)})
    batcher.close()  # twice is fine


def test_async_with_finishes_what_is_queued_then_refuses(mlp: ortbind.Session) -> None:
    async def main() -> tuple[list[asyncio.Task[ortbind.Result]], ortbind.Batcher]:
        async with ortbind.Batcher(mlp, max_delay=LONG) as batcher:
            tasks = [asyncio.create_task(batcher.run({"x": rows(1, k)})) for k in range(4)]
            await asyncio.sleep(0.01)
        assert all(t.done() for t in tasks)
        with pytest.raises(ortbind.ClosedError):
            await batcher.run({"x": rows(1)})
        return tasks, batcher

    tasks, batcher = asyncio.run(main())
    assert [t.result()["probs"].shape for t in tasks] == [(1, 10)] * 4
    assert batcher.stats.batches == 1


def test_results_stay_valid_while_later_batches_reuse_the_buffers(mlp: ortbind.Session) -> None:
    first = [rows(1, k) for k in range(8)]
    with ortbind.Batcher(mlp, max_batch=8, max_delay=LONG) as batcher:
        kept = [f.result(timeout=30) for f in [batcher.submit({"x": x}) for x in first]]
        copies = [r["probs"].copy() for r in kept]
        for k in range(5):
            [f.result(timeout=30) for f in [batcher.submit({"x": rows(1, 100 + 8 * k + j)}) for j in range(8)]]
    for result, copy in zip(kept, copies, strict=True):
        np.testing.assert_array_equal(result["probs"], copy)


def test_a_session_closed_underneath_fails_the_batch(mlp: ortbind.Session) -> None:
    session = ortbind.Session(models.mlp())
    with ortbind.Batcher(session, max_batch=2, max_delay=LONG) as batcher:
        session.close()
        futures = [batcher.submit({"x": rows(1)}) for _ in range(2)]
        assert all(isinstance(f.exception(timeout=30), ortbind.ClosedError) for f in futures)


def test_a_model_without_a_batch_dim_is_refused() -> None:
    with pytest.raises(ortbind.ShapeError, match="no dim that every input and output has at axis 0"):
        ortbind.Batcher(ortbind.Session(models.add_one_element()))
    with pytest.raises(ortbind.ShapeError, match="no dim that every input and output"):
        ortbind.Batcher(ortbind.Session(models.identity(shape=["?", 3])))
    square = ("batch", "batch")
    squares = ortbind.Session(models.identity(shape=["?", "?"]))
    with pytest.raises(ortbind.ShapeError, match="input 'x' has dim 'batch' past axis 0"):
        ortbind.Batcher(squares.with_contract(inputs={"x": (None, square)}, outputs={"y": (None, square)}))
    with pytest.raises(ortbind.ShapeError, match="input 'x' does not have dim 'seq' at axis 0"):
        ortbind.Batcher(ortbind.Session(models.mlp()), dim="seq")
    with pytest.raises(ortbind.InvalidValueError, match="dim must name a symbolic dim"):
        ortbind.Batcher(ortbind.Session(models.mlp()), dim="?")


def test_parameters_are_checked(mlp: ortbind.Session) -> None:
    with pytest.raises(ortbind.InvalidValueError, match="max_batch"):
        ortbind.Batcher(mlp, max_batch=0)
    with pytest.raises(ortbind.InvalidValueError, match="max_delay"):
        ortbind.Batcher(mlp, max_delay=-1)
    with pytest.raises(ortbind.KindError, match="Session or CheckedSession"):
        ortbind.Batcher("model.onnx")  # type: ignore[arg-type]
    bounded = mlp.with_contract(dims={"batch": (1, 32)})
    with pytest.raises(ortbind.InvalidValueError, match="max_batch=64 is over the contract's bound 1 <= batch <= 32"):
        ortbind.Batcher(bounded)
    with ortbind.Batcher(bounded, max_batch=32) as batcher:
        with pytest.raises(ortbind.ShapeError, match="outside the contract's bound 1 <= batch <= 32"):
            batcher.submit({"x": rows(33)})
        with pytest.raises(ortbind.ShapeError, match="outside the contract's bound"):
            batcher.submit({"x": rows(0)})


def test_an_unnamed_batch_dim_is_named_through_the_contract() -> None:
    session = ortbind.Session(models.identity(shape=["?", 3]))
    checked = session.with_contract(inputs={"x": (None, ("batch", 3))})
    with pytest.raises(ortbind.ShapeError, match="output 'y': \\?"):
        ortbind.Batcher(checked)  # the output's axis 0 is still unnamed
    with ortbind.Batcher(checked, dim="batch", max_batch=4, max_delay=LONG) as batcher:
        xs = [np.full((1, 3), k, np.float32) for k in range(4)]
        results = [f.result(timeout=30) for f in [batcher.submit({"x": x}) for x in xs]]
    for x, result in zip(xs, results, strict=True):
        np.testing.assert_array_equal(result["y"], x)


def test_outputs_that_do_not_follow_the_batch_dim_fail_clearly() -> None:
    session = ortbind.Session(pair_rows_model())
    with pytest.raises(ortbind.ShapeError, match="output 'y': \\?"):
        ortbind.Batcher(session)  # by default every output must name the batch dim
    with ortbind.Batcher(session, dim="batch", max_batch=4, max_delay=LONG) as batcher:
        futures = [batcher.submit({"x": np.ones((2, 3), np.float32)}) for _ in range(2)]
        error = futures[0].exception(timeout=30)
    assert isinstance(error, ortbind.ShapeError)
    assert "output 'y' is (2, 6) for a batch of 4 rows along 'batch'" in str(error)


def test_a_dropped_batcher_stops_its_thread(mlp: ortbind.Session) -> None:
    batcher = ortbind.Batcher(mlp)
    thread = batcher._engine.thread
    assert thread.is_alive()
    del batcher
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()


def _submit_in_child(batcher: ortbind.Batcher, answer: Any) -> None:
    try:
        batcher.submit({"x": rows(1)})
        answer.put("accepted")
    except ortbind.ClosedError as error:
        answer.put(str(error))


def test_a_forked_child_is_refused_rather_than_left_waiting(mlp: ortbind.Session) -> None:
    with ortbind.Batcher(mlp) as batcher:
        context = multiprocessing.get_context("fork")
        answer = context.Queue()
        child = context.Process(target=_submit_in_child, args=(batcher, answer))
        child.start()
        said = answer.get(timeout=60)
        child.join(timeout=60)
        assert "does not survive fork" in said
        assert batcher.submit({"x": rows(1)}).result(timeout=30)["probs"].shape == (1, 10)  # the parent's works


def test_many_cancellations_leave_every_other_request_answered() -> None:
    session = ortbind.Session(models.symbolic_pair())
    rng = np.random.default_rng(0)
    with ortbind.Batcher(session, max_batch=4, max_delay=0.001) as batcher:
        submitted = []
        for k in range(300):
            ids = rng.integers(0, 100, (1, 2 + k % 3))
            future = batcher.submit({"ids": ids, "mask": np.ones_like(ids)})
            withdrawn = k % 2 == 0 and future.cancel()
            submitted.append((ids, future, withdrawn))
        for ids, future, withdrawn in submitted:
            if not withdrawn:
                np.testing.assert_array_equal(future.result(timeout=30)["masked"], ids)
        stats = batcher.stats
    answered = sum(not withdrawn for _, _, withdrawn in submitted)
    assert stats.requests == 300 and stats.withdrawn == 300 - answered and stats.rows == answered


def test_the_batching_benchmark_runs(tmp_path: Path) -> None:
    assert batching.main(["--duration", "0.05", "--clients", "1,4", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "batching.json").read_text())
    assert len(results["cells"]) == 2 * 2 * 4  # models x client counts x contenders
    assert all(cell["requests"] > 0 for cell in results["cells"])
    assert "| mlp " in (tmp_path / "batching.md").read_text()


def test_inputs_are_released_and_memory_stays_flat(mlp: ortbind.Session) -> None:
    with ortbind.Batcher(mlp, max_batch=8, max_delay=LONG) as batcher:
        kept = [rows(1, k) for k in range(8)]
        refs = [weakref.ref(x) for x in kept]
        [f.result(timeout=30) for f in [batcher.submit({"x": x}) for x in kept]]  # one full batch
        del kept
        gc.collect()
        assert all(ref() is None for ref in refs), "a request's input is still referenced after its batch"

        x = rows(1)

        def rounds(n: int) -> None:
            for _ in range(n):
                for future in [batcher.submit({"x": x}) for _ in range(8)]:
                    future.result(timeout=30)

        rounds(200)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            rounds(1000)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown < 64 * 1024, f"Python objects grew by {grown} bytes over 8,000 requests"


def test_string_inputs_are_batched() -> None:
    session = ortbind.Session(models.string_model())
    words = [["yes"], ["no", "yes"], ["a much longer word"], np.array(["yes", "x"], dtype=object)]
    with ortbind.Batcher(session, max_batch=5, max_delay=LONG) as batcher:
        futures = [batcher.submit({"text": w}) for w in words]
    for w, future in zip(words, futures, strict=True):
        result, want = future.result(), session.run({"text": w})
        np.testing.assert_array_equal(result["same"], want["same"])
        np.testing.assert_array_equal(result["is_yes"], want["is_yes"])


def _gate(batcher: ortbind.Batcher) -> tuple[threading.Event, list[Any]]:
    """Holds the batcher's first run until the event is set; records each run's feeds."""
    engine = batcher._engine
    real, gate, seen = engine.run, threading.Event(), []

    def run(feeds: Any) -> Any:
        seen.append({name: np.asarray(value).copy() for name, value in feeds.items()})
        gate.wait(30)
        return real(feeds)

    engine.run = run  # type: ignore[assignment]
    return gate, seen


def test_a_string_input_refuses_other_dtypes_as_run_does() -> None:
    session = ortbind.Session(models.string_model())
    floats = {"text": np.array([1.0, 2.0])}  # float64: numpy takes np.dtype("f8") == None as true
    with pytest.raises(ortbind.DTypeError) as usual:
        session.run(floats)
    with ortbind.Batcher(session, max_batch=8, max_delay=LONG) as batcher:
        with pytest.raises(ortbind.DTypeError) as refused:
            batcher.submit(floats)
        good = batcher.submit({"text": np.array(["yes", "no"])})
    assert str(refused.value) == str(usual.value)
    np.testing.assert_array_equal(good.result(timeout=30)["same"], ["yes", "no"])


def test_a_0d_array_for_a_1d_input_gets_the_rank_error() -> None:
    session = ortbind.Session(models.identity(shape=("n",)))
    with pytest.raises(ortbind.ShapeError) as usual:
        session.run({"x": np.array(1.0, np.float32)})
    with ortbind.Batcher(session, max_batch=4, max_delay=LONG) as batcher:
        for feeds in (np.array(1.0, np.float32), {"x": np.array(1.0, np.float32)}):
            with pytest.raises(ortbind.ShapeError) as refused:
                batcher.submit(feeds)
            assert str(refused.value) == str(usual.value)


def test_an_overdue_request_runs_before_newer_full_batches() -> None:
    session = ortbind.Session(models.symbolic_pair())

    def request(rows: int, seq: int) -> dict[str, np.ndarray]:
        ids = np.full((rows, seq), seq, np.int64)
        return {"ids": ids, "mask": np.ones_like(ids)}

    with ortbind.Batcher(session, max_batch=2, max_delay=0.01) as batcher:
        gate, seen = _gate(batcher)
        blocker = batcher.submit(request(2, 5))  # full: it runs, and waits at the gate
        while not seen:
            threading.Event().wait(0.001)
        small = batcher.submit(request(1, 2))
        threading.Event().wait(0.05)  # past its deadline while the worker is busy
        full = [batcher.submit(request(2, 3)) for _ in range(3)]  # newer, but full batches
        gate.set()
        for future in [blocker, small, *full]:
            future.result(timeout=30)
    assert [run["ids"].shape for run in seen] == [(2, 5), (1, 2), (2, 3), (2, 3), (2, 3)]


def test_ready_queues_run_oldest_first() -> None:
    session = ortbind.Session(models.symbolic_pair())
    with ortbind.Batcher(session, max_batch=2, max_delay=LONG) as batcher:
        gate, seen = _gate(batcher)
        futures = [batcher.submit({"ids": np.zeros((2, 9), np.int64), "mask": np.zeros((2, 9), np.int64)})]
        while not seen:
            threading.Event().wait(0.001)
        for seq in (4, 3, 2):  # one row each: none is full yet
            futures.append(batcher.submit({"ids": np.zeros((1, seq), np.int64), "mask": np.zeros((1, seq), np.int64)}))
        for seq in (2, 3, 4):  # now each is full, the last-filled group holding the oldest request
            futures.append(batcher.submit({"ids": np.zeros((1, seq), np.int64), "mask": np.zeros((1, seq), np.int64)}))
        gate.set()
        for future in futures:
            future.result(timeout=30)
    assert [run["ids"].shape for run in seen] == [(2, 9), (2, 4), (2, 3), (2, 2)]


def test_each_request_of_a_failed_batch_gets_its_own_error() -> None:
    session = ortbind.Session(models.mlp())
    with ortbind.Batcher(session, max_batch=20, max_delay=LONG) as batcher:
        session.close()
        futures = [batcher.submit({"x": rows(1)}) for _ in range(20)]
        errors = []
        for future in futures:
            try:
                future.result(timeout=30)
            except ortbind.ClosedError as error:  # the class that session.run raises
                errors.append(error)
    assert len({id(e) for e in errors}) == 20
    assert len({str(e) for e in errors}) == 1 and all(type(e) is ortbind.ClosedError for e in errors)
    original = errors[0].__cause__
    assert isinstance(original, ortbind.ClosedError) and all(e.__cause__ is original for e in errors)
    # each raise adds to its own traceback only: the last holds its one raise, not 20 callers'
    last = errors[-1].__traceback__
    assert last is not None and len(traceback.extract_tb(last)) <= 3


def test_an_output_shape_error_keeps_its_result_for_each_request() -> None:
    session = ortbind.Session(models.identity(shape=("n", "?")))
    checked = session.with_contract(outputs={"y": (None, ("n", 4))})  # the requests give (n, 3)
    with pytest.raises(ortbind.OutputShapeError) as usual:
        checked.run({"x": np.ones((1, 3), np.float32)})
    with ortbind.Batcher(checked, max_batch=2, max_delay=LONG) as batcher:
        futures = [batcher.submit({"x": np.full((1, 3), k, np.float32)}) for k in range(2)]
        errors = [f.exception(timeout=30) for f in futures]
    assert errors[0] is not errors[1]
    for error in errors:
        assert type(error) is ortbind.OutputShapeError and str(error) == str(usual.value)
        np.testing.assert_array_equal(error.result["y"], [[0, 0, 0], [1, 1, 1]])  # the batch's result


def test_every_error_class_is_copied_as_itself() -> None:
    from ortbind.batcher import _own_error

    classes = [c for c in vars(ortbind.errors).values() if isinstance(c, type) and issubclass(c, ortbind.Error)]
    assert len(classes) > 10
    for cls in classes:
        original = cls("what went wrong")
        own = _own_error(original)
        assert own is not original and type(own) is cls and str(own) == str(original), cls
        assert own.__cause__ is original and own.args == original.args


class _Stop(BaseException):
    pass


def test_a_base_exception_in_a_run_fails_its_batch_and_the_batcher_goes_on(mlp: ortbind.Session) -> None:
    with ortbind.Batcher(mlp, max_batch=2, max_delay=LONG) as batcher:
        engine = batcher._engine
        real = engine.run

        def run(feeds: Any) -> Any:
            engine.run = real
            raise _Stop("stop")

        engine.run = run  # type: ignore[assignment]
        failed = [batcher.submit({"x": rows(1)}) for _ in range(2)]
        assert all(isinstance(f.exception(timeout=10), _Stop) for f in failed)
        fine = [batcher.submit({"x": rows(1)}) for _ in range(2)]
        assert all(f.result(timeout=10)["probs"].shape == (1, 10) for f in fine)


def test_a_future_its_caller_settled_is_skipped(mlp: ortbind.Session) -> None:
    with ortbind.Batcher(mlp, max_batch=2, max_delay=LONG) as batcher:
        settled = batcher.submit({"x": rows(1)})
        settled.set_result("mine")  # type: ignore[arg-type]
        others = [batcher.submit({"x": rows(1)}) for _ in range(3)]
    # close() ran what was queued: the worker skipped the settled request, and went on
    assert all(f.result(timeout=10)["probs"].shape == (1, 10) for f in others)
    assert settled.result() == "mine"  # type: ignore[comparison-overlap]
    assert batcher.stats.rows == 3 and batcher.stats.withdrawn == 1


def test_a_dead_worker_fails_waiting_requests_and_refuses_new_ones(mlp: ortbind.Session) -> None:
    batcher = ortbind.Batcher(mlp, max_batch=2, max_delay=LONG)

    def broken(taken: Any) -> None:
        raise RuntimeError("a bug in the worker")

    batcher._engine._run_batch = broken  # type: ignore[method-assign]
    waiting = batcher.submit({"x": rows(3)})  # over max_batch: it is taken at once, and the worker dies
    error = waiting.exception(timeout=10)
    assert isinstance(error, ortbind.ClosedError) and "worker stopped" in str(error)
    assert isinstance(error.__cause__, RuntimeError)
    assert batcher.closed
    with pytest.raises(ortbind.ClosedError, match="worker stopped on an unexpected RuntimeError: a bug"):
        batcher.submit({"x": rows(1)})
    batcher.close()  # returns: the worker is gone


def test_max_queue_refuses_requests_past_it(mlp: ortbind.Session) -> None:
    from ortbind.batcher import QueueFullError

    with pytest.raises(ortbind.InvalidValueError, match="max_queue"):
        ortbind.Batcher(mlp, max_queue=0)
    with ortbind.Batcher(mlp, max_batch=64, max_delay=LONG, max_queue=2) as batcher:
        assert batcher.max_queue == 2
        futures = [batcher.submit({"x": rows(1)}) for _ in range(2)]
        with pytest.raises(QueueFullError, match="max_queue=2") as refused:
            batcher.submit({"x": rows(1)})
        assert isinstance(refused.value, ortbind.Error)

        async def awaited() -> None:
            await batcher.run({"x": rows(1)})

        with pytest.raises(QueueFullError):
            asyncio.run(awaited())
        assert batcher.stats.requests == 2
    assert [f.result(timeout=30)["probs"].shape for f in futures] == [(1, 10)] * 2


def test_a_lone_request_runs_at_once_unless_fuller_batches_are_asked_for(
    mlp: ortbind.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batcher's clock stands still: a batch that waited for max_delay to pass would never run.
    monkeypatch.setattr(ortbind.batcher, "time", type("Frozen", (), {"monotonic": staticmethod(lambda: 1000.0)}))
    with ortbind.Batcher(mlp) as batcher:
        assert batcher.max_delay == 0
        lone = batcher.submit({"x": rows(1)})
        assert lone.result(timeout=30)["probs"].shape == (1, 10)
        assert batcher.stats.batches == 1
    with ortbind.Batcher(mlp, max_delay=0.001) as fuller:
        waiting = fuller.submit({"x": rows(1)})
        with pytest.raises(concurrent.futures.TimeoutError):
            waiting.result(timeout=0.2)  # not full, and its deadline never comes
        full = [fuller.submit({"x": rows(1, k)}) for k in range(63)]  # 64 rows: the batch runs
        assert [f.result(timeout=30)["probs"].shape for f in [waiting, *full]] == [(1, 10)] * 64
        assert fuller.stats.batches == 1


def test_requests_that_come_while_a_batch_runs_form_the_next_batch(mlp: ortbind.Session) -> None:
    with ortbind.Batcher(mlp, max_batch=8) as batcher:
        gate, seen = _gate(batcher)
        first = batcher.submit({"x": rows(1)})  # runs at once, alone, and waits at the gate
        while not seen:
            threading.Event().wait(0.001)
        later = [batcher.submit({"x": rows(1, k)}) for k in range(11)]
        gate.set()
        for future in [first, *later]:
            future.result(timeout=30)
    assert [run["x"].shape[0] for run in seen] == [1, 8, 3]


def overridable_model() -> bytes:
    """y = x * scale, where scale is an initializer the graph also lists as an input."""
    scale = numpy_helper.from_array(np.array([2.0, 3.0], np.float32), "scale")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "scale"], ["y"])],
        "overridable",
        [tensor("x", TensorProto.FLOAT, ["n", 2]), tensor("scale", TensorProto.FLOAT, [2])],
        [tensor("y", TensorProto.FLOAT, ["n", 2])],
        [scale],
    )
    return _model(graph)


def test_an_overridable_initializer_is_not_fed_through_a_batcher() -> None:
    session = ortbind.Session(overridable_model())
    with ortbind.Batcher(session, max_batch=2, max_delay=LONG) as batcher:
        with pytest.raises(ortbind.NameMismatchError, match="overridable initializer 'scale': a batcher feeds only"):
            batcher.submit({"x": np.ones((1, 2), np.float32), "scale": np.ones(2, np.float32)})
        futures = [batcher.submit({"x": np.full((1, 2), k, np.float32)}) for k in (1, 2)]
        results = [f.result(timeout=30)["y"] for f in futures]
    np.testing.assert_array_equal(np.concatenate(results), [[2, 3], [4, 6]])
