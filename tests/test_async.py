"""run_async under a real event loop: concurrency, cancellation of the awaiting task (which stops
the ONNX Runtime run), and asyncio.wait_for time limits; through ONNX Runtime's RunAsync (sessions
with an intra-op thread pool) and through the executor (intra_op_threads=1)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from onnx import TensorProto, helper

import ortbind
from support import models
from support.models import tensor
from tests.helpers import chain_nodes

PATHS = pytest.mark.parametrize("threads", [2, 1], ids=["runasync", "executor"])


@PATHS
def test_many_concurrent_awaits_on_one_session(threads: int) -> None:
    session = ortbind.Session(models.mlp(), intra_op_threads=threads)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((4, 64)).astype(np.float32) for _ in range(32)]
    expected = [session.run({"x": b})["probs"] for b in batches]

    async def main() -> list[ortbind.Result]:
        return await asyncio.gather(*(session.run_async({"x": b}) for b in batches))

    results = asyncio.run(main())
    for result, want in zip(results, expected, strict=True):
        assert isinstance(result, ortbind.Result)
        np.testing.assert_array_equal(result["probs"], want)


@PATHS
def test_the_loop_is_not_blocked(threads: int) -> None:
    session = ortbind.Session(models.matmul_chain(chain_nodes(0.3), 256), intra_op_threads=threads)
    x = np.eye(256, dtype=np.float32)

    async def main() -> tuple[int, float]:
        ticks = 0
        task = asyncio.create_task(session.run_async({"x": x}))
        start = time.perf_counter()
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.001)
        await task
        return ticks, time.perf_counter() - start

    ticks, elapsed = asyncio.run(main())
    assert elapsed > 0.02 and ticks >= 5


@PATHS
def test_cancelling_the_task_cancels_the_run(threads: int) -> None:
    session = ortbind.Session(models.matmul_chain(chain_nodes(5.0), 256), intra_op_threads=threads)
    x = np.eye(256, dtype=np.float32)

    async def main() -> float:
        task = asyncio.create_task(session.run_async({"x": x}))
        await asyncio.sleep(0.1)
        start = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.perf_counter() - start

    stopped_after = asyncio.run(main())
    assert stopped_after < 1.0, f"the run took {stopped_after:.2f} s to stop"


@PATHS
def test_wait_for_time_limit(threads: int) -> None:
    session = ortbind.Session(models.matmul_chain(chain_nodes(5.0), 256), intra_op_threads=threads)

    async def main() -> float:
        start = time.perf_counter()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(session.run_async({"x": np.eye(256, dtype=np.float32)}), timeout=0.1)
        return time.perf_counter() - start

    assert asyncio.run(main()) < 1.0
    small = ortbind.Session(models.add_one_element())
    assert asyncio.run(small.run_async({"x": np.array([1.0], np.float32)}))["y"].tolist() == [2.0]


def test_errors_and_timeouts_arrive_as_exceptions() -> None:
    session = ortbind.Session(models.matmul_chain(chain_nodes(5.0), 256), intra_op_threads=2)

    async def main() -> None:
        with pytest.raises(ortbind.RunTimeout):
            await session.run_async({"x": np.eye(256, dtype=np.float32)}, timeout=0.05)
        with pytest.raises(ortbind.DTypeError):
            await session.run_async({"x": np.eye(256)})
        graph = helper.make_graph(
            [helper.make_node("Reshape", ["x", "shape"], ["y"])],
            "g",
            [tensor("x", TensorProto.FLOAT, ["n"]), tensor("shape", TensorProto.INT64, [2])],
            [tensor("y", TensorProto.FLOAT, [None, None])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        reshape = ortbind.Session(model.SerializeToString(), intra_op_threads=2)
        with pytest.raises(ortbind.errors.Fail, match="cannot be reshaped"):  # raised on the runtime's thread
            await reshape.run_async({"x": np.ones(5, np.float32), "shape": np.array([2, 2])})
        assert (await reshape.run_async({"x": np.ones(4, np.float32), "shape": np.array([2, 2])}))["y"].shape == (2, 2)

    asyncio.run(main())


def test_close_waits_for_async_runs_and_dropped_sessions_are_safe() -> None:
    async def main() -> None:
        session = ortbind.Session(models.matmul_chain(chain_nodes(0.1), 256), intra_op_threads=2)
        task = asyncio.ensure_future(session.run_async({"x": np.eye(256, dtype=np.float32)}))
        await asyncio.sleep(0)
        session.close()  # waits for the run on the runtime's thread
        result = await task
        assert result["y"].shape == (256, 256)
        # A session whose only reference is its run in flight.
        pending = [
            ortbind.Session(models.mlp(), intra_op_threads=2).run_async({"x": np.ones((1, 64), np.float32)})
            for _ in range(8)
        ]
        results = await asyncio.gather(*pending)
        assert all(r["probs"].shape == (1, 10) for r in results)

    asyncio.run(main())


def test_run_async_racing_close() -> None:
    # A close() between run_async's checks and the runtime call is refused cleanly, never run.
    async def main() -> None:
        outcomes: list[object] = []
        for k in range(30):
            session = ortbind.Session(models.mlp(), intra_op_threads=2)
            tasks = [asyncio.ensure_future(session.run_async({"x": np.ones((1, 64), np.float32)})) for _ in range(4)]
            if k % 2:
                await asyncio.sleep(0)  # the runs are in flight: close waits for them
            session.close()
            outcomes += await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(o, ortbind.Result | ortbind.ClosedError) for o in outcomes), outcomes
        assert any(isinstance(o, ortbind.Result) for o in outcomes)
        assert any(isinstance(o, ortbind.ClosedError) for o in outcomes)

    asyncio.run(main())
