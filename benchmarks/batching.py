"""Many small requests: ortbind.Batcher against per-request runs, under concurrent asyncio clients.

Each client sends one-row requests back to back for a fixed time; every cell reports requests/s
and the p50/p99 latency of one request (from the call to its result). Contenders, on the MLP and
the small conv net of the suite:

- ``batcher``: ``await ortbind.Batcher(session, max_batch=64).run(feeds)``, with the default
  ``max_delay=0``: a batch of whatever waits runs as soon as the worker is free;
- ``batcher, max_delay 2 ms``: the same asking for fuller batches: a batch waits for 64 rows, or
  until its oldest request has waited 2 ms;
- ``run_async``: ``await session.run_async(feeds)``, one run per request;
- ``ort executor``: ``onnxruntime.InferenceSession.run`` through ``loop.run_in_executor``.

Sessions have one inter-op thread and one intra-op thread, except the one ``run_async`` uses, which
has two: with an intra-op pool it takes ONNX Runtime's RunAsync path, its fastest (with one thread
it would go through the loop's executor like the official binding). On a small machine a second
intra-op thread only takes CPU from the batcher's own threads.
Writes ``benchmarks/results/batching.json`` and ``batching.md``.

    python -m benchmarks.batching [--duration 1.5] [--clients 1,8,64,256]
"""

from __future__ import annotations

import asyncio
import functools
import os
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in benchmarks/__main__.py

import numpy as np
import onnxruntime as ort

import ortbind
from benchmarks import standalone
from benchmarks.workloads import small_models
from ortbind._bench.report import batching_section

MAX_BATCH = 64
FULLER_MAX_DELAY = 0.002  # the contender that asks for fuller batches; the default batcher waits for none
RUN_ASYNC_INTRA_OP_THREADS = 2
# A batched GEMM may sum in another order than the one-row run (another kernel blocking for
# another row count): float32 results agree to a few ulps of the sums, which these bound.
RTOL, ATOL = 1e-5, 1e-6

Call = Callable[[dict[str, np.ndarray]], Awaitable[Any]]


def _models() -> dict[str, tuple[bytes, np.ndarray]]:
    found = {w.name: w for w in small_models()}
    return {
        "mlp": (found["mlp_b1"].model, found["mlp_b1"].feeds["x"]),
        "convnet": (found["convnet_b1"].model, found["convnet_b1"].feeds["x"]),
    }


async def _drive(call: Call, rows: list[np.ndarray], clients: int, duration: float) -> dict[str, Any]:
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    stop = loop.time() + duration

    async def client(k: int) -> None:
        i = k
        while loop.time() < stop:
            feeds = {"x": rows[i % len(rows)]}
            i += clients
            start = time.perf_counter()
            await call(feeds)
            latencies.append(time.perf_counter() - start)

    begin = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = time.perf_counter() - begin
    lat = np.array(latencies) * 1e3
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
    }


async def _via_executor(official: ort.InferenceSession, feeds: dict[str, np.ndarray]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, official.run, None, feeds)


def _check(session: ortbind.Session, batcher: ortbind.Batcher, rows: list[np.ndarray]) -> float:
    """Every row's batched result against its own run; returns the largest difference."""

    async def all_rows() -> list[ortbind.Result]:
        return await asyncio.gather(*(batcher.run({"x": r}) for r in rows))

    worst = 0.0
    for result, row in zip(asyncio.run(all_rows()), rows, strict=True):
        for name, value in session.run({"x": row}).items():
            np.testing.assert_allclose(result[name], value, rtol=RTOL, atol=ATOL)
            worst = max(worst, float(np.max(np.abs(result[name] - value))))
    return worst


def _batch_run_ms(session: ortbind.Session, row: np.ndarray, budget: float = 1.0) -> float:
    """The median time of one run of a full batch: 200 runs, or as many as ``budget`` seconds allow."""
    batch = {"x": np.repeat(row, MAX_BATCH, axis=0)}
    session.run(batch)
    times: list[float] = []
    stop = time.perf_counter() + budget
    while len(times) < 200 and (len(times) < 5 or time.perf_counter() < stop):
        start = time.perf_counter()
        session.run(batch)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def measure(clients: list[int], duration: float) -> dict[str, Any]:
    cells: list[dict[str, Any]] = []
    facts: dict[str, Any] = {}
    for model_name, (model, row) in _models().items():
        rng = np.random.default_rng(0)
        rows = [rng.standard_normal(row.shape).astype(np.float32) for _ in range(512)]
        session = ortbind.Session(model, intra_op_threads=1, inter_op_threads=1)
        pooled = ortbind.Session(model, intra_op_threads=RUN_ASYNC_INTRA_OP_THREADS, inter_op_threads=1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        official = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        fuller = ortbind.Batcher(session, max_batch=MAX_BATCH, max_delay=FULLER_MAX_DELAY)
        with ortbind.Batcher(session, max_batch=MAX_BATCH) as batcher, fuller:
            worst = max(_check(session, batcher, rows[:256]), _check(session, fuller, rows[:256]))
            facts[model_name] = {"max_abs_difference": worst, "batch_run_ms": _batch_run_ms(session, row)}

            batchers = {"batcher": batcher, f"batcher, max_delay {FULLER_MAX_DELAY * 1e3:g} ms": fuller}
            contenders: dict[str, Call] = {
                **{name: b.run for name, b in batchers.items()},
                "run_async": pooled.run_async,
                "ort executor": functools.partial(_via_executor, official),
            }
            for n in clients:
                for name, call in contenders.items():
                    used = batchers.get(name)
                    before = used.stats if used is not None else None
                    cell = asyncio.run(_drive(call, rows, n, duration))
                    cell.update(model=model_name, contender=name, clients=n)
                    if used is not None and before is not None:
                        after = used.stats
                        cell["mean_batch_rows"] = (after.rows - before.rows) / max(1, after.batches - before.batches)
                    cells.append(cell)
                    print(
                        f"{model_name:8} {name:20} {n:4} clients: {cell['requests_per_s']:9.0f} req/s, "
                        f"p50 {cell['p50_ms']:.2f} ms, p99 {cell['p99_ms']:.2f} ms",
                        flush=True,
                    )
        session.close()
        pooled.close()
    return {
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "onnxruntime": ort.__version__},
        "settings": {
            "duration_s": duration,
            "max_batch": MAX_BATCH,
            "max_delay_s": 0.0,
            "fuller_max_delay_s": FULLER_MAX_DELAY,
            "intra_op_threads": 1,
            "run_async_intra_op_threads": RUN_ASYNC_INTRA_OP_THREADS,
            "inter_op_threads": 1,
            "rtol": RTOL,
            "atol": ATOL,
        },
        "facts": facts,
        "cells": cells,
        "targets": targets(cells, facts),
    }


def _cell(cells: list[dict[str, Any]], model: str, contender: str, clients: int) -> dict[str, Any] | None:
    return next((c for c in cells if (c["model"], c["contender"], c["clients"]) == (model, contender, clients)), None)


def targets(cells: list[dict[str, Any]], facts: dict[str, Any]) -> list[dict[str, Any]]:
    """The batcher (its defaults) against one ``run_async`` per request: at every client count no
    slower and no later at the median; with 256 clients on the MLP, 10x the requests and a p99 under
    two runs of a full batch (``max_delay`` is 0)."""
    found = []
    for model, clients in sorted({(c["model"], c["clients"]) for c in cells}, key=lambda mc: (mc[0] != "mlp", mc)):
        batched = _cell(cells, model, "batcher", clients)
        single = _cell(cells, model, "run_async", clients)
        if batched is None or single is None:
            continue
        found.append(
            {
                "target": f"{model}, {clients} clients: batcher throughput and p50 at least run_async's",
                "measured": f"{batched['requests_per_s']:,.0f} against {single['requests_per_s']:,.0f} req/s, "
                f"p50 {batched['p50_ms']:.2f} against {single['p50_ms']:.2f} ms",
                "holds": batched["requests_per_s"] >= single["requests_per_s"]
                and batched["p50_ms"] <= single["p50_ms"],
            }
        )
    batched = _cell(cells, "mlp", "batcher", 256)
    single = _cell(cells, "mlp", "run_async", 256)
    if batched is None or single is None:
        return found
    ratio = batched["requests_per_s"] / single["requests_per_s"]
    limit = 2 * facts["mlp"]["batch_run_ms"]
    # What a batch takes in the batcher, Python's work on both threads included: the time between
    # two batches' starts, from the cell's own counts.
    cycle = batched["mean_batch_rows"] / batched["requests_per_s"] * 1e3
    found += [
        {
            "target": "mlp, 256 clients: batcher throughput at least 10x per-request run_async",
            "measured": f"{ratio:.1f}x",
            "holds": ratio >= 10,
        },
        {
            "target": "mlp, 256 clients: batcher p99 under max_delay (0) plus two runs of a full batch",
            "measured": f"p99 {batched['p99_ms']:.2f} ms, limit {limit:.2f} ms (one batch every {cycle:.2f} ms)",
            "holds": batched["p99_ms"] < limit,
        },
    ]
    return found


def main(argv: list[str] | None = None) -> int:
    return standalone.main("batching", __doc__.splitlines()[0], measure, batching_section, 1.5, "1,8,64,256", argv)


if __name__ == "__main__":
    raise SystemExit(main())
