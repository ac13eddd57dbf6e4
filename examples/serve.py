"""A scoring service: ``POST /score`` with JSON rows, scored through an :class:`ortbind.Batcher`.

The body maps each input name to its rows (nested lists, or one list per row), the answer maps each
output name to the rows of this request::

    curl -s -d '{"x": [[0.1, 0.2, ...]]}' http://127.0.0.1:8000/score
    {"probs": [[0.07, 0.12, ...]]}

Concurrent requests are scored in batches along the model's batch dim (``--no-batch`` scores each
with its own ``session.run_async`` instead, for comparison). Every refusal is a 4xx whose JSON
``error`` says what is wrong:

- 413: a body over ``--max-body-bytes``, answered before any of it is parsed (from its
  Content-Length, or as soon as a chunked body passes the limit); an input of more rows than
  ``--max-rows``;
- 400: a body that is not standard JSON (NaN and Infinity included), that nests too deeply to
  parse, or that is not an object mapping input names to rows;
- 422: what the model's contract refuses (names, types, ragged rows, shapes: ortbind's message), and
  an answer that JSON cannot carry (an output that is not finite);
- 503: the service is shutting down.

Run it with::

    python -m examples.serve --model model.onnx [--port 8000] [--no-batch]

The model path may also come from ``ORTBIND_SERVE_MODEL``. The service listens on 127.0.0.1 unless
``--host`` says otherwise; ``--port 0`` takes a free port, printed on the first line of output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import ortbind

MAX_BODY_BYTES = 1 << 20
MAX_ROWS = 256


class Refused(Exception):
    """A request answered with ``status`` and ``message`` before it reaches the model."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or 413 as soon as it is known to pass ``limit`` bytes (uvicorn discards the rest)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the body is {int(declared)} bytes; this service takes at most {limit} (max_body_bytes)")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"the body passes {limit} bytes, the most this service takes (max_body_bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_feeds(body: bytes, max_rows: int) -> dict[str, Any]:
    """The body's mapping of input names to rows, or the refusal that says what is wrong with it.
    The values themselves (types, ragged rows, shapes) are for the model's contract to check."""
    try:
        feeds = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:  # the decoder's own depth guard: arrays or objects nested past it
        raise Refused(400, "the body nests arrays or objects too deeply to parse") from None
    except ValueError as error:  # not UTF-8, not JSON, NaN or Infinity, an integer too long to read
        raise Refused(400, f"the body is not JSON: {error}") from None
    if not isinstance(feeds, dict):
        raise Refused(400, f"the body must be an object mapping input names to rows, not {_json_kind(feeds)}")
    for name, rows in feeds.items():
        if isinstance(rows, list) and len(rows) > max_rows:
            raise Refused(
                413, f"input {name!r} has {len(rows)} rows; this service scores at most {max_rows} (max_rows)"
            )
    return feeds


def answer(result: ortbind.Result) -> dict[str, Any]:
    """Each output's rows as JSON values; an output that is not finite cannot be one (422)."""
    for name, value in result.items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "fc" and not np.isfinite(value).all():
            raise Refused(422, f"output {name!r} holds values that are not finite, which JSON cannot carry")
    return {name: value.tolist() for name, value in result.items()}


def create_app(
    model: str | bytes,
    *,
    batch: bool = True,
    max_batch: int = 64,
    max_delay: float = 0.0,
    intra_op_threads: int | None = 1,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_rows: int = MAX_ROWS,
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
        batcher: ortbind.Batcher | None = request.app.state.batcher
        try:
            feeds = parse_feeds(await read_body(request, max_body_bytes), max_rows)
            if batcher is not None:
                result = await batcher.run(feeds)
            else:
                result = await request.app.state.session.run_async(feeds)
            return JSONResponse(answer(result))
        except Refused as refused:
            return JSONResponse({"error": str(refused)}, status_code=refused.status)
        except ortbind.ValidationError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        except ortbind.ClosedError as error:
            return JSONResponse({"error": str(error)}, status_code=503)

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
    parser.add_argument("--max-delay", type=float, default=0.0, help="seconds a batch may wait to fill")
    parser.add_argument("--max-body-bytes", type=int, default=MAX_BODY_BYTES, help="larger bodies get 413")
    parser.add_argument("--max-rows", type=int, default=MAX_ROWS, help="rows of one request; more get 413")
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
        max_body_bytes=args.max_body_bytes,
        max_rows=args.max_rows,
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
