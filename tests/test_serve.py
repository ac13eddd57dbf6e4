"""examples/serve.py under uvicorn on the loopback interface: concurrent HTTP requests, each scored
through the batcher, each answered with its own rows."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn

import ortbind
from benchmarks import serving as serving_benchmark
from examples.serve import create_app
from support import models

RTOL, ATOL = 1e-5, 1e-6  # as in test_batcher.py: a batched GEMM may sum in another order
CLIENTS = 50


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn in a thread, on a free loopback port; shut down (lifespan included) on exit."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # see examples/serve.py
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.01)
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
    assert not thread.is_alive()


@pytest.fixture(params=[True, False], ids=["batched", "per-request"])
def service(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    app = create_app(models.mlp(), batch=request.param, max_delay=0.005)
    with serving(app) as url:
        yield url, app


def test_concurrent_requests_get_their_own_rows(service: tuple[str, Any]) -> None:
    url, app = service
    rng = np.random.default_rng(0)
    bodies = [rng.standard_normal((1 + k % 3, 64)).astype(np.float32) for k in range(CLIENTS)]
    reference = ortbind.Session(models.mlp())

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=CLIENTS)) as client:
            return await asyncio.gather(*(client.post("/score", json={"x": x.tolist()}) for x in bodies))

    responses = asyncio.run(main())
    for x, response in zip(bodies, responses, strict=True):
        assert response.status_code == 200, response.text
        answer = response.json()
        assert list(answer) == ["probs"]
        want = reference.run({"x": x})["probs"]
        np.testing.assert_allclose(np.array(answer["probs"], np.float32), want, rtol=RTOL, atol=ATOL)
    batcher = app.state.batcher
    if batcher is not None:
        assert batcher.stats.requests == CLIENTS and batcher.stats.rows == sum(len(x) for x in bodies)


def test_a_refused_request_gets_the_contract_message(service: tuple[str, Any]) -> None:
    url, _ = service
    with httpx.Client(base_url=url, timeout=30) as client:
        response = client.post("/score", json={"x": [[0.5] * 63]})
        assert response.status_code == 422
        assert response.json()["error"] == "input 'x' dim 1 is 63, but the contract fixes it to 64: (batch, 64)"
        assert client.post("/score", content=b"not json").status_code == 400
        assert client.get("/health").json()["contract"] == "(x: float32[batch, 64]) -> (probs: float32[batch, 10])"


def test_shutdown_closes_the_batcher_and_the_session() -> None:
    app = create_app(models.mlp())
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.post("/score", json={"x": [[0.0] * 64]}).status_code == 200
        assert not app.state.batcher.closed
    assert app.state.batcher.closed and app.state.session.closed


def test_the_serving_benchmark_runs(tmp_path: Path) -> None:
    assert serving_benchmark.main(["--duration", "0.2", "--clients", "4", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "serving.json").read_text())
    assert [(c["mode"], c["clients"]) for c in results["cells"]] == [("batcher", 4), ("per-request run_async", 4)]
    assert all(c["requests"] > 0 and c["errors"] == 0 for c in results["cells"])
