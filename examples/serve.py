"""A scoring service: ``POST /score`` with JSON rows, scored through an :class:`ortbind.Batcher`.

The body maps each input name to its rows (nested lists, or one list per row), the answer maps each
output name to the rows of this request::

    curl -s -d '{"x": [[0.1, 0.2, ...]]}' http://127.0.0.1:8000/score
    {"probs": [[0.07, 0.12, ...]]}

Concurrent requests are scored in batches along the model's batch dim (``--no-batch`` scores each
with its own ``session.run_async`` instead, for comparison). A request the model's contract refuses
gets 422 with ortbind's message. Run it with::

    python -m examples.serve --model model.onnx [--port 8000] [--no-batch]

The model path may also come from ``ORTBIND_SERVE_MODEL``. The service listens on 127.0.0.1 unless
``--host`` says otherwise; ``--port 0`` takes a free port, printed on the first line of output.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import ortbind


def create_app(
    model: str | bytes,
    *,
    batch: bool = True,
    max_batch: int = 64,
    max_delay: float = 0.002,
    intra_op_threads: int | None = 1,
) -> Starlette:
    """The ASGI app. Its session (and batcher) are made at startup and closed at shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        session = ortbind.Session(model, intra_op_threads=intra_op_threads)
        app.state.session = session
        app.state.batcher = ortbind.Batcher(session, max_batch=max_batch, max_delay=max_delay) if batch else None
        try:
            yield
        finally:
            if app.state.batcher is not None:
                await app.state.batcher.aclose()  # what is queued is still answered
            session.close()

    async def score(request: Request) -> JSONResponse:
        try:
            feeds = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(feeds, dict):
            return JSONResponse({"error": "the body must map input names to rows"}, status_code=400)
        batcher: ortbind.Batcher | None = request.app.state.batcher
        try:
            if batcher is not None:
                result = await batcher.run(feeds)
            else:
                result = await request.app.state.session.run_async(feeds)
        except ortbind.ValidationError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        except ortbind.ClosedError as error:
            return JSONResponse({"error": str(error)}, status_code=503)
        return JSONResponse({name: value.tolist() for name, value in result.items()})

    async def health(request: Request) -> JSONResponse:
        batcher: ortbind.Batcher | None = request.app.state.batcher
        stats: dict[str, Any] | None = None if batcher is None else vars(batcher.stats)
        return JSONResponse({"contract": str(request.app.state.session.contract), "batching": stats})

    return Starlette(
        routes=[Route("/score", score, methods=["POST"]), Route("/health", health, methods=["GET"])],
        lifespan=lifespan,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", default=os.environ.get("ORTBIND_SERVE_MODEL"), help="path of the ONNX model")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 takes a free port")
    parser.add_argument("--no-batch", action="store_true", help="one run_async per request, no batcher")
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--max-delay", type=float, default=0.002, help="seconds")
    parser.add_argument("--intra-op-threads", type=int, default=None, help="default: 1 batched, 2 not")
    args = parser.parse_args(argv)
    if not args.model:
        parser.error("name the model with --model or ORTBIND_SERVE_MODEL")
    threads = args.intra_op_threads or (2 if args.no_batch else 1)  # 2: run_async's RunAsync path
    app = create_app(
        args.model,
        batch=not args.no_batch,
        max_batch=args.max_batch,
        max_delay=args.max_delay,
        intra_op_threads=threads,
    )
    # IPPROTO_TCP named, so that asyncio sets TCP_NODELAY on each connection as it does for the
    # sockets it makes itself (with proto 0 it does not, and Nagle's algorithm with delayed ACKs
    # holds each keep-alive response for 40 ms).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    print(f"listening on http://{args.host}:{listener.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[listener])
    return 0


if __name__ == "__main__":
    sys.exit(main())
