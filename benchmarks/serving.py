"""The example service (examples/serve.py) behind uvicorn, with and without the batcher.

The service runs in its own process on 127.0.0.1 and scores the suite's MLP; this process drives it
with a bounded number of concurrent HTTP requests (aiohttp's client), each one JSON row, for a bounded time
per cell, after checking that every answer holds the rows of its own request. Reports requests/s
and p50/p99 latency; writes ``benchmarks/results/serving.json`` and ``serving.md``.

    python -m benchmarks.serving [--duration 3] [--clients 16,64]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in benchmarks/__main__.py

import aiohttp
import numpy as np

import ortbind
from benchmarks import standalone
from benchmarks.workloads import small_models
from ortbind._bench.report import serving_section

ROOT = Path(__file__).resolve().parent.parent
RTOL, ATOL = 1e-5, 1e-6  # see benchmarks/batching.py
MODES = {"batcher": [], "per-request run_async": ["--no-batch"]}


@contextlib.contextmanager
def service(model: Path, flags: list[str]) -> Iterator[str]:
    """examples/serve.py in a child process on a free loopback port; stopped by SIGTERM, as uvicorn expects."""
    command = [sys.executable, "-m", "examples.serve", "--model", str(model), "--host", "127.0.0.1", "--port", "0"]
    with subprocess.Popen([*command, *flags], cwd=ROOT, stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            line = child.stdout.readline()  # "listening on http://127.0.0.1:PORT"
            if not line.startswith("listening on "):
                raise RuntimeError(f"the service did not start: {line!r}")
            url = line.split()[-1]
            if not asyncio.run(_ready(url, child)):
                raise RuntimeError("the service did not answer /health")
            yield url
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


async def _ready(url: str, child: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession(url) as client:
        while time.monotonic() < deadline and child.poll() is None:
            with contextlib.suppress(aiohttp.ClientError):
                async with client.get("/health") as response:
                    if response.status == 200:
                        return True
            await asyncio.sleep(0.05)
    return False


async def _check(url: str, rows: np.ndarray, expected: np.ndarray) -> None:
    async with aiohttp.ClientSession(url) as client:

        async def score(row: np.ndarray) -> Any:
            async with client.post("/score", json={"x": [row.tolist()]}) as response:
                response.raise_for_status()
                return await response.json()

        answers = await asyncio.gather(*(score(row) for row in rows))
    for answer, want in zip(answers, expected, strict=True):
        np.testing.assert_allclose(np.array(answer["probs"][0], np.float32), want, rtol=RTOL, atol=ATOL)


async def _drive(url: str, bodies: list[bytes], clients: int, duration: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    headers = {"content-type": "application/json"}
    # aiohttp, not httpx, drives the load: on the development machine httpx's AsyncClient spent
    # about 6 ms of CPU per request, aiohttp's about 0.4 ms, so with httpx the client was measured.
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(url, connector=connector) as client:
        loop = asyncio.get_running_loop()
        stop = loop.time() + duration

        async def one_client(k: int) -> None:
            nonlocal errors
            i = k
            while loop.time() < stop:
                start = time.perf_counter()
                async with client.post("/score", data=bodies[i % len(bodies)], headers=headers) as response:
                    await response.read()
                    errors += response.status != 200
                latencies.append(time.perf_counter() - start)
                i += clients

        begin = time.perf_counter()
        await asyncio.gather(*(one_client(k) for k in range(clients)))
        elapsed = time.perf_counter() - begin
        async with client.get("/health") as response:
            health = await response.json()
    lat = np.array(latencies) * 1e3
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "server_batching": health["batching"],
    }


def measure(clients: list[int], duration: float) -> dict[str, Any]:
    workload = next(w for w in small_models() if w.name == "mlp_b1")
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((256, 64)).astype(np.float32)
    expected = ortbind.Session(workload.model).run({"x": rows})["probs"]
    bodies = [json.dumps({"x": [row.tolist()]}).encode() for row in rows]
    cells = []
    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "mlp.onnx"
        model.write_bytes(workload.model)
        for mode, flags in MODES.items():
            with service(model, flags) as url:
                asyncio.run(_check(url, rows[:64], expected[:64]))
                asyncio.run(_drive(url, bodies, max(clients), min(duration, 0.5)))  # warm-up
                for n in clients:
                    cell = asyncio.run(_drive(url, bodies, n, duration))
                    cell["mode"] = mode
                    cells.append(cell)
                    print(
                        f"{mode:22} {n:4} clients: {cell['requests_per_s']:7.0f} req/s, "
                        f"p50 {cell['p50_ms']:.2f} ms, p99 {cell['p99_ms']:.2f} ms, errors {cell['errors']}",
                        flush=True,
                    )
    return {
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
        "versions": {"python": platform.python_version(), "aiohttp": aiohttp.__version__, "numpy": np.__version__},
        "settings": {"duration_s": duration, "model": "mlp (the suite's mlp_b1)", "rows_per_request": 1},
        "cells": cells,
    }


def main(argv: list[str] | None = None) -> int:
    return standalone.main("serving", (__doc__ or "").splitlines()[0], measure, serving_section, 3.0, "16,64", argv)


if __name__ == "__main__":
    raise SystemExit(main())
