"""examples/serve.py under uvicorn on the loopback interface: concurrent HTTP requests, each scored
through the batcher, each answered with its own rows."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
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


ROW = [0.25] * 64
LIMIT, MAX_ROWS = 64 * 1024, 16


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _chunks(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


# (case, body as bytes, or a generator for a chunked body, status, a phrase the error must hold)
HOSTILE: list[tuple[str, Any, int, str]] = [
    ("deeply nested arrays", _nested(20_000), 400, "nests arrays or objects too deeply"),
    ("deeply nested in an input", b'{"x": ' + _nested(20_000) + b"}", 400, "too deeply"),
    ("nested past numpy's dims", json.dumps({"x": json.loads(_nested(500))}).encode(), 422, "input 'x'"),
    # 130,000 rows of 64 zeros: 17 MB, refused from its Content-Length before any of it is read
    ("a 17 MB body", json.dumps({"x": [[0] * 64] * 130_000}).encode(), 413, "max_body_bytes"),
    ("over the limit, not JSON", b"x" * (LIMIT + 1), 413, "max_body_bytes"),  # 413, not 400: never parsed
    ("chunked, over the limit", b"[" + b"0," * LIMIT + b"0]", 413, "passes"),
    ("too many rows", json.dumps({"x": [ROW] * (MAX_ROWS + 1)}).encode(), 413, "max_rows"),
    ("not JSON", b"{not json", 400, "not JSON"),
    ("not UTF-8", b'{"x": "\xff"}', 400, "not JSON"),
    ("NaN", b'{"x": [[NaN]]}', 400, "NaN is not a JSON number"),
    ("a digit string too long to read", b'{"x": [[' + b"1" * 5000 + b"]]}", 400, "not JSON"),
    ("an array body", b"[[0.5]]", 400, "not an array"),
    ("a string body", b'"x"', 400, "not a string"),
    ("strings in a row", json.dumps({"x": [["a"] * 64]}).encode(), 422, "expects float32"),
    ("null in a row", json.dumps({"x": [[*ROW[:63], None]]}).encode(), 422, "expects float32"),
    ("booleans", json.dumps({"x": [[True] * 64]}).encode(), 422, "kind bool"),
    ("a number too large for any dtype", json.dumps({"x": [[10**400, *ROW[1:]]]}).encode(), 422, "expects float32"),
    ("ragged rows", json.dumps({"x": [ROW, ROW[:10]]}).encode(), 422, "rectangular"),
    ("an object for rows", json.dumps({"x": {"a": 1}}).encode(), 422, "got dict"),
    ("numbers, not rows", json.dumps({"x": ROW[:8]}).encode(), 422, "rank 1"),
    ("a width the contract refuses", json.dumps({"x": [ROW[:63]]}).encode(), 422, "fixes it to 64"),
    ("an unknown input", json.dumps({"y": [ROW]}).encode(), 422, "'y'"),
    ("an infinite value", b'{"x": [[1e400' + b", 0.25" * 63 + b"]]}", 422, "not finite"),
]


@pytest.mark.parametrize("batch", [True, False], ids=["batched", "per-request"])
def test_hostile_bodies_get_a_4xx_that_names_the_problem_and_the_service_stays_up(batch: bool) -> None:
    app = create_app(models.mlp(), batch=batch, max_body_bytes=LIMIT, max_rows=MAX_ROWS)
    rng = np.random.default_rng(0)
    good = [rng.standard_normal((1 + k % 3, 64)).astype(np.float32) for k in range(300)]
    reference = ortbind.Session(models.mlp())

    async def send(client: httpx.AsyncClient, body: bytes, chunked: bool) -> httpx.Response:
        if chunked:  # no Content-Length: the service counts the bytes as they come

            async def stream() -> AsyncIterator[bytes]:
                for chunk in _chunks(body):
                    yield chunk

            return await client.post("/score", content=stream())
        return await client.post("/score", content=body)

    async def main(url: str) -> tuple[list[httpx.Response], list[httpx.Response]]:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            good_calls = [client.post("/score", json={"x": x.tolist()}) for x in good]
            bad_calls = [send(client, body, case.startswith("chunked")) for case, body, _, _ in HOSTILE]
            # the bad ones in among the good, each sent while good requests are in flight
            calls = good_calls[:]
            for k, call in enumerate(bad_calls):
                calls.insert(1 + k * len(good_calls) // len(bad_calls), call)
            answers = await asyncio.gather(*calls)
            health = await client.get("/health")
            assert health.status_code == 200
        return [a for a in answers if a.status_code == 200], [a for a in answers if a.status_code != 200]

    with serving(app) as url:
        answered, refused = asyncio.run(main(url))
        # still up, and still right, after all of it
        with httpx.Client(base_url=url, timeout=30) as client:
            response = client.post("/score", json={"x": good[0].tolist()})
            assert response.status_code == 200
    assert len(answered) == len(good) and len(refused) == len(HOSTILE)
    for x, response in zip(good, answered, strict=True):
        want = reference.run({"x": x})["probs"]
        np.testing.assert_allclose(np.array(response.json()["probs"], np.float32), want, rtol=RTOL, atol=ATOL)
    for (case, _, status, phrase), response in zip(HOSTILE, refused, strict=True):
        assert response.status_code == status, (case, response.text[:300])
        assert phrase in response.json()["error"], (case, response.json()["error"][:300])
