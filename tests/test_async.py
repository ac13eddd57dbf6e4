"""run_async under a real event loop: concurrency, cancellation of the awaiting task (which stops
the ONNX Runtime run), and asyncio.wait_for time limits."""

from __future__ import annotations

import asyncio
import time

import models
import numpy as np
import pytest

import ortbind


def test_many_concurrent_awaits_on_one_session() -> None:
    session = ortbind.Session(models.mlp())
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((4, 64)).astype(np.float32) for _ in range(32)]
    expected = [session.run({"x": b})["probs"] for b in batches]

    async def main() -> list[ortbind.Result]:
        return await asyncio.gather(*(session.run_async({"x": b}) for b in batches))

    results = asyncio.run(main())
    for result, want in zip(results, expected, strict=True):
        assert isinstance(result, ortbind.Result)
        np.testing.assert_array_equal(result["probs"], want)


def test_the_loop_is_not_blocked() -> None:
    session = ortbind.Session(models.matmul_chain(200, 256), intra_op_threads=1)
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


def test_cancelling_the_task_cancels_the_run() -> None:
    session = ortbind.Session(models.matmul_chain(3000, 256), intra_op_threads=1)
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


def test_wait_for_time_limit() -> None:
    session = ortbind.Session(models.matmul_chain(3000, 256), intra_op_threads=1)

    async def main() -> float:
        start = time.perf_counter()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(session.run_async({"x": np.eye(256, dtype=np.float32)}), timeout=0.1)
        return time.perf_counter() - start

    assert asyncio.run(main()) < 1.0
    small = ortbind.Session(models.add_one_element())
    assert asyncio.run(small.run_async({"x": np.array([1.0], np.float32)}))["y"].tolist() == [2.0]
