"""ortbind.Batcher: many small requests run as one batch along the model's batch dim.

One worker thread per batcher forms batches and runs them. A request, once the session's own run
check has passed it, joins the queue of the requests it can be stacked with (same dims past axis
0). Whenever the worker is free it runs the queue that is ready: with ``max_delay`` 0 any queue
that holds a request (continuous batching: batches grow while the one before runs), else one that
holds ``max_batch`` rows or whose oldest request has waited ``max_delay`` seconds; of the queues
ready, the one with the oldest first request runs first. The run is the session's own ``run``
(under its contract, GIL released); each request gets the rows of its own as views into the
batch's outputs.

Only one batch is in flight per batcher, so the stacking buffers (one set per shape group, kept for
the few most recent groups) are never written while a run reads them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import math
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from ._batching import BatchPlan, Key, plan
from .result import Result
from .session import CheckedSession, RunMethod, Session

if TYPE_CHECKING:
    from types import TracebackType

# Stacking buffers are kept for this many shape groups (sequence lengths, image sizes, ...).
_KEPT_GROUPS = 8
_QUEUED, _TAKEN, _WITHDRAWN = 0, 1, 2


@dataclass(frozen=True)
class BatcherStats:
    """Counts since the batcher was made: requests accepted, requests withdrawn (cancelled before
    their batch started), batches run, rows run in them, and batches that failed."""

    requests: int
    withdrawn: int
    batches: int
    rows: int
    failed_batches: int


class _Request:
    __slots__ = ("arrays", "future", "key", "loop", "rows", "since", "state")

    def __init__(
        self,
        arrays: tuple[np.ndarray[Any, Any], ...],
        rows: int,
        key: Key,
        future: concurrent.futures.Future[Result] | asyncio.Future[Result],
        loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self.arrays = arrays
        self.rows = rows
        self.key = key
        self.future = future
        self.loop = loop  # None for a concurrent.futures.Future
        self.since = time.monotonic()
        self.state = _QUEUED


class QueueFullError(_core.Error):
    """A request came while ``max_queue`` requests were already waiting for a batch."""


def _own_error(error: BaseException) -> BaseException:
    """A copy of ``error`` for one request of a failed batch: the same class, message and
    attributes (``OutputShapeError.result``), with ``__cause__`` the original. Sharing one object
    would let each caller's ``raise`` grow its ``__traceback__``, keeping every frame alive."""
    try:
        own = copy.copy(error)  # type(error)(*error.args), then its __dict__
    except Exception:
        return error  # an exception that cannot be remade from its args: shared, as a last resort
    if type(own) is not type(error) or own is error:
        return error
    notes = getattr(error, "__notes__", None)
    if isinstance(notes, list):
        own.__notes__ = list(notes)  # type: ignore[attr-defined]
    own.__traceback__ = None
    own.__cause__ = error  # also sets __suppress_context__
    return own


def _settle_all(items: list[tuple[asyncio.Future[Result], Result | None, BaseException | None]]) -> None:
    for future, result, error in items:
        if future.done():  # its task was cancelled after the batch started
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]


def _settle(
    loop: asyncio.AbstractEventLoop | None, future: Any, result: Result | None, error: BaseException | None
) -> None:
    """Settles one request's future from the worker (a concurrent one at once, an asyncio one on its
    loop). A future the caller has already settled or cancelled is left as it is."""
    if loop is not None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits it
            loop.call_soon_threadsafe(_settle_all, [(future, result, error)])
        return
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class _Group:
    """The requests that stack together (same dims past the batch dim), oldest first, and their rows."""

    __slots__ = ("requests", "rows")

    def __init__(self) -> None:
        self.requests: deque[_Request] = deque()
        self.rows = 0


class _Engine:
    """The queues and the worker thread. Holds no reference to the Batcher, so that a batcher
    dropped without ``close()`` is collected and its finalizer stops the worker.

    Every field the callers and the worker share is read and written under ``lock`` (never under
    the GIL alone); only ``closing``, and then ``refusal``, are also read without it, for a quick
    refusal that ``put`` makes again under it. The worker waits for work on ``wake``, a lock it
    holds while it runs: a caller releases it, under ``lock``, only while the worker says it is
    ``sleeping``, so that one wake-up is never lost nor given twice.
    """

    refusal = "the batcher is closed: it takes no new requests"

    def __init__(
        self, run: RunMethod, plan: BatchPlan, max_batch: int, max_delay: float, max_queue: int | None
    ) -> None:
        self.run = run
        self.plan = plan
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.lock = threading.Lock()
        self.wake = threading.Lock()
        self.wake.acquire()
        self.sleeping = False
        self.groups: dict[Key, _Group] = {}
        self.queued = 0
        self.closing = False
        self.closed_session: BaseException | None = None  # the first ClosedError a request's check met
        self.running: list[_Request] = []  # the batch in flight: failed by _break should the worker die
        self.buffers: OrderedDict[Key, list[np.ndarray[Any, Any] | None]] = OrderedDict()
        self.counts = [0, 0, 0, 0, 0]  # BatcherStats' fields, in order
        self.thread = threading.Thread(target=self.work, name="ortbind-batcher", daemon=True)
        self.thread.start()
        with _ENGINES_LOCK:
            _ENGINES.add(self)

    # --- callers' side ---------------------------------------------------------------------------

    def put(self, request: _Request) -> None:
        with self.lock:
            if self.closing:
                raise _core.ClosedError(self.refusal)
            if self.max_queue is not None and self.queued >= self.max_queue:
                raise QueueFullError(
                    f"the batcher's queue is full: {self.queued} requests wait for a batch (max_queue={self.max_queue})"
                )
            group = self.groups.get(request.key)
            if group is None:
                group = self.groups[request.key] = _Group()
            group.requests.append(request)
            group.rows += request.rows
            self.queued += 1
            self.counts[0] += 1
            # A busy worker looks at the queues when its batch ends. An idle one is woken for any
            # request when batches do not wait to fill (max_delay 0); else it sleeps until the
            # oldest request's deadline, and needs waking only for a first request, or for a
            # queue that just became full.
            if self.sleeping and (
                self.max_delay == 0 or self.queued == 1 or group.rows >= self.max_batch > group.rows - request.rows
            ):
                self.sleeping = False
                self.wake.release()

    def withdraw(self, request: _Request) -> None:
        """Its caller no longer waits (a cancelled task): a request not yet taken stays in its
        deque, skipped when the worker reaches it, and counts no more as waiting."""
        with self.lock:
            if request.state == _QUEUED:
                request.state = _WITHDRAWN
                self.groups[request.key].rows -= request.rows
                self.queued -= 1
                self.counts[1] += 1

    def refuse_for_closed_session(self, error: BaseException) -> BaseException:
        """The error for a request whose check found the session closed: a copy of the first such
        error, as a failed batch gives each of its requests a copy of its one error."""
        with self.lock:
            if self.closed_session is None:
                error.__traceback__ = None  # kept for the batcher's life: it holds no caller's frames
                self.closed_session = error
            first = self.closed_session
        return _own_error(first)

    def close(self, wait: bool) -> None:
        with self.lock:
            self.closing = True
            if self.sleeping:
                self.sleeping = False
                self.wake.release()
        if wait and threading.current_thread() is not self.thread:
            self.thread.join()

    # --- the worker ------------------------------------------------------------------------------

    def work(self) -> None:
        try:
            while True:
                taken = self._wait_for_batch()
                if not taken:
                    return
                self._run_batch(taken)
                del taken  # nothing of a batch (its arrays, its results) is kept while the worker waits
        except BaseException as error:  # a bug, or worse: no request is left waiting for a dead worker
            self._break(error)

    def _wait_for_batch(self) -> list[_Request]:
        """The next batch to run, once there is one; none once the batcher is closed and drained."""
        while True:
            with self.lock:
                self.running = []
                taken, timeout = self._next_batch()
                if taken:
                    self.running = taken
                elif self.closing and self.queued == 0:
                    return []
                else:
                    self.sleeping = True
            if taken:
                taken = self._still_awaited(taken)
                if taken:
                    return taken
                continue
            woken = self.wake.acquire(timeout=-1 if timeout is None else max(timeout, 0.0))
            if not woken:
                with self.lock:
                    if self.sleeping:
                        self.sleeping = False
                    else:  # a caller released wake after the timeout, before this took the lock
                        self.wake.acquire(blocking=False)

    def _break(self, error: BaseException) -> None:
        """The worker is stopping on ``error``: refuse new requests, fail the waiting ones."""
        message = f"the batcher's worker stopped on an unexpected {type(error).__name__}: {error}"
        with self.lock:
            self.refusal = message  # first: callers read closing, then refusal, without the lock
            self.closing = True
            doomed = [r for r in self.running if r.state == _TAKEN]
            for group in self.groups.values():
                for request in group.requests:
                    if request.state == _QUEUED:
                        request.state = _TAKEN
                        self.queued -= 1
                        doomed.append(request)
            self.groups.clear()
            self.running = []
        for request in doomed:
            failure = _core.ClosedError(message)
            failure.__cause__ = error
            with contextlib.suppress(Exception):
                _settle(request.loop, request.future, None, failure)

    def _next_batch(self) -> tuple[list[_Request], float | None]:
        """The requests of the batch to run now, or none and how long to wait. Lock held.

        A queue is ready when its batch need not wait any longer: with ``max_delay`` 0 as soon as
        it holds a request, else once it is full or its oldest request has waited ``max_delay``
        (or the batcher is closing). Of the queues ready, the one whose first request has waited
        longest runs first: a full queue never starves an older, smaller one.
        """
        ready: _Group | None = None
        oldest: _Group | None = None
        now = time.monotonic()
        due = now - self.max_delay  # a request that came before this is past its deadline
        for key in list(self.groups):
            group = self.groups[key]
            queue = group.requests
            while queue and queue[0].state == _WITHDRAWN:
                queue.popleft()
            if not queue:
                del self.groups[key]
                continue
            since = queue[0].since
            if oldest is None or since < oldest.requests[0].since:
                oldest = group
            if (self.closing or since <= due or group.rows >= self.max_batch) and (
                ready is None or since < ready.requests[0].since
            ):
                ready = group
        if ready is not None:
            return self._take(ready), None
        if oldest is None:
            return [], None
        return [], oldest.requests[0].since + self.max_delay - now

    def _take(self, group: _Group) -> list[_Request]:
        taken: list[_Request] = []
        rows = 0
        queue = group.requests
        while queue and rows < self.max_batch:
            request = queue[0]
            if request.state == _WITHDRAWN:
                queue.popleft()
                continue
            if taken and rows + request.rows > self.max_batch:
                break
            queue.popleft()
            request.state = _TAKEN
            taken.append(request)
            rows += request.rows
        group.rows -= rows
        self.queued -= len(taken)
        return taken

    def _still_awaited(self, taken: list[_Request]) -> list[_Request]:
        """The requests taken whose futures still wait for them, marked running. Without the lock:
        marking a ``concurrent.futures.Future`` takes that future's own lock.

        A cancelled future's request is withdrawn here; one marked running can no longer be
        cancelled (concurrent.futures), or is dropped when its batch ends (asyncio)."""
        alive: list[_Request] = []
        dropped: list[_Request] = []
        for request in taken:
            future = request.future
            try:
                awaited = future.set_running_or_notify_cancel() if request.loop is None else not future.done()  # type: ignore[union-attr]
            except RuntimeError:  # the caller settled the future itself: nobody waits for this request
                awaited = False
            (alive if awaited else dropped).append(request)
        if dropped:
            with self.lock:
                for request in dropped:
                    request.state = _WITHDRAWN
                self.counts[1] += len(dropped)
        return alive

    def _run_batch(self, taken: list[_Request]) -> None:
        rows = 0
        for request in taken:
            rows += request.rows
        results: list[Result] = []
        error: BaseException | None = None
        stacked: list[np.ndarray[Any, Any]] = []
        try:
            if len(taken) == 1:
                feeds = dict(zip(self.plan.names, taken[0].arrays, strict=True))
            else:
                stacked = self._stack(taken, rows)
                feeds = dict(zip(self.plan.names, stacked, strict=True))
            results = self._split(self.run(feeds), taken, rows, stacked)
        except BaseException as failure:  # every request of the batch gets it; the worker goes on
            error = failure
        with self.lock:
            self.counts[2] += 1
            self.counts[3] += rows
            self.counts[4] += error is not None
        self._deliver(taken, results, error)

    def _deliver(self, taken: list[_Request], results: list[Result], error: BaseException | None) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for k, request in enumerate(taken):
            result = None if error is not None else results[k]
            own = None if error is None else _own_error(error)  # each caller raises its own
            loop = request.loop
            if loop is None:
                _settle(None, request.future, result, own)
                continue
            items = by_loop.get(loop)
            if items is None:
                items = by_loop[loop] = []
            items.append((request.future, result, own))
        for loop, items in by_loop.items():
            # One wake-up of each loop per batch, not one per request.
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits these
                loop.call_soon_threadsafe(_settle_all, items)

    def _stack(self, taken: list[_Request], rows: int) -> list[np.ndarray[Any, Any]]:
        """Each input's rows of every request, in one array per input: one copy, into a buffer
        kept for the shape group (only the worker touches the buffers, one batch at a time)."""
        key = taken[0].key
        buffers = self.buffers.get(key)
        if buffers is None:
            buffers = [
                None if dtype is None else np.empty((self.max_batch, *rest), dtype)
                for dtype, rest in zip(self.plan.dtypes, key, strict=True)
            ]
            self.buffers[key] = buffers
            if len(self.buffers) > _KEPT_GROUPS:
                self.buffers.popitem(last=False)
        else:
            self.buffers.move_to_end(key)
        stacked: list[np.ndarray[Any, Any]] = []
        for i, buffer in enumerate(buffers):
            parts = [r.arrays[i] for r in taken]
            if buffer is None:  # strings: their width varies, so no buffer is kept
                stacked.append(np.concatenate(parts))
            else:
                stacked.append(np.concatenate(parts, out=buffer[:rows]))
        return stacked

    def _split(
        self, result: Result, taken: list[_Request], rows: int, stacked: list[np.ndarray[Any, Any]]
    ) -> list[Result]:
        names = self.plan.outputs
        values = []
        for name in names:
            value = result[name]
            if not isinstance(value, np.ndarray) or value.ndim == 0 or value.shape[0] != rows:
                shape = value.shape if isinstance(value, np.ndarray) else type(value).__name__
                raise _core.ShapeError(
                    f"output {name!r} is {shape} for a batch of {rows} rows along {self.plan.dim!r}: it does not "
                    "follow the batch dim, so the batch cannot be split back into requests"
                )
            # ONNX Runtime gives each run new output buffers; should one ever alias a stacking
            # buffer, the next batch would overwrite it under the caller, so it is copied.
            if any(np.may_share_memory(value, s) for s in stacked):
                value = value.copy()
            values.append(value)
        if len(taken) == 1:
            return [result]
        parts = []
        start = 0
        if len(names) == 1:
            name, value = names[0], values[0]
            for request in taken:
                end = start + request.rows
                parts.append(Result({name: value[start:end]}))
                start = end
            return parts
        for request in taken:
            end = start + request.rows
            parts.append(Result({name: v[start:end] for name, v in zip(names, values, strict=True)}))
            start = end
        return parts


# Every live engine, for the fork handler; added to under _ENGINES_LOCK (batchers may be made on
# any thread), and each removed by its weak reference's callback.
_ENGINES: weakref.WeakSet[_Engine] = weakref.WeakSet()
_ENGINES_LOCK = threading.Lock()


def _after_fork_in_child() -> None:
    # A forked child has no worker thread, and its copies of the locks may have been held by other
    # threads at the fork: without this, its requests would wait forever. The child has one
    # thread here, so nothing else reads what this replaces.
    global _ENGINES_LOCK
    _ENGINES_LOCK = threading.Lock()
    for engine in list(_ENGINES):
        engine.lock = threading.Lock()
        engine.sleeping = False
        engine.refusal = "the batcher was made in the parent process, and its worker does not survive fork"
        engine.closing = True


os.register_at_fork(after_in_child=_after_fork_in_child)


class Batcher:
    """Collects requests to one session and runs them as batches along the model's batch dim.

    ``Batcher(session, *, max_batch=64, max_delay=0.0, dim=None, max_queue=None)``. With the default
    ``max_delay=0`` a batch starts as soon as the worker is free, with every request waiting (up to
    ``max_batch`` rows): a lone request runs at once, and batches grow while a batch is running
    (continuous batching). A ``max_delay`` above 0 asks for fuller batches: a batch then waits until
    ``max_batch`` rows wait, or its oldest request has waited ``max_delay`` seconds. ``dim`` names
    the symbolic dim to batch along; by default the one every input and output has at axis 0 of the
    contract (``session`` may be a :class:`CheckedSession` whose contract names it). Each request is
    checked on its own, by the session's own run check, before it joins a batch. With ``max_queue``,
    a request that finds that many requests waiting is refused with :class:`QueueFullError`.

    A request's arrays are not copied: they are read when its batch runs, so they must not change
    until its result arrives.

    ``await batcher.run(feeds)`` (asyncio) and ``batcher.submit(feeds)`` (a
    ``concurrent.futures.Future``) give each caller a :class:`Result` with the rows of its request
    only. Batching assumes that the model's rows are independent: row i of each output depends only
    on row i of the inputs.
    """

    def __init__(
        self,
        session: Session | CheckedSession,
        *,
        max_batch: int = 64,
        max_delay: float = 0.0,
        dim: str | None = None,
        max_queue: int | None = None,
    ) -> None:
        if not isinstance(session, Session | CheckedSession):
            raise _core.KindError(f"Batcher needs an ortbind Session or CheckedSession, not {type(session).__name__}")
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise _core.InvalidValueError(f"max_batch must be an int >= 1, not {max_batch!r}")
        if isinstance(max_delay, bool) or not isinstance(max_delay, int | float) or not 0 <= max_delay < math.inf:
            raise _core.InvalidValueError(f"max_delay must be a number of seconds >= 0, not {max_delay!r}")
        if max_queue is not None and (isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1):
            raise _core.InvalidValueError(f"max_queue must be None or an int >= 1, not {max_queue!r}")
        if session.closed:
            raise _core.ClosedError("the session is closed")
        self._session = session
        self._plan = plan(session, dim, max_batch)
        self._engine = _Engine(session.run, self._plan, max_batch, float(max_delay), max_queue)
        self._finalizer = weakref.finalize(self, self._engine.close, False)

    @property
    def session(self) -> Session | CheckedSession:
        return self._session

    @property
    def dim(self) -> str:
        """The symbolic dim requests are stacked along."""
        return self._plan.dim

    @property
    def max_batch(self) -> int:
        return self._engine.max_batch

    @property
    def max_delay(self) -> float:
        return self._engine.max_delay

    @property
    def max_queue(self) -> int | None:
        return self._engine.max_queue

    @property
    def closed(self) -> bool:
        return self._engine.closing

    @property
    def stats(self) -> BatcherStats:
        with self._engine.lock:
            return BatcherStats(*self._engine.counts)

    async def run(self, feeds: Any) -> Result:
        """The result of ``session.run(feeds)``, computed in a batch with other requests.

        Cancelling the awaiting task withdraws the request if its batch has not started.
        """
        loop = asyncio.get_running_loop()
        engine = self._engine
        if engine.closing:  # before the check: a closed batcher refuses whatever comes
            raise _core.ClosedError(engine.refusal)
        try:
            arrays, rows, key = self._plan.check(feeds)
        except _core.ClosedError as error:
            raise engine.refuse_for_closed_session(error)  # noqa: B904 (its __cause__ is the first one)
        future: asyncio.Future[Result] = loop.create_future()
        request = _Request(arrays, rows, key, future, loop)
        engine.put(request)
        try:
            return await future
        except asyncio.CancelledError:
            engine.withdraw(request)
            raise

    def submit(self, feeds: Any) -> concurrent.futures.Future[Result]:
        """A future of ``session.run(feeds)``, computed in a batch with other requests.

        Validation errors are raised here, at once; a session closed underneath the batcher fails
        the future with ``ClosedError``. ``future.cancel()`` withdraws the request if its batch has
        not started.
        """
        engine = self._engine
        if engine.closing:
            raise _core.ClosedError(engine.refusal)
        future: concurrent.futures.Future[Result] = concurrent.futures.Future()
        try:
            arrays, rows, key = self._plan.check(feeds)
        except _core.ClosedError as error:
            future.set_exception(engine.refuse_for_closed_session(error))
            return future
        engine.put(_Request(arrays, rows, key, future, None))
        return future

    def close(self) -> None:
        """Run what is queued, then stop; later requests raise :class:`ClosedError`. The session
        stays open (the batcher does not own it)."""
        self._engine.close(wait=True)

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop while the queue drains."""
        self._engine.close(wait=False)
        await asyncio.get_running_loop().run_in_executor(None, self._engine.thread.join)

    def __enter__(self) -> Batcher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Batcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"max_batch={self.max_batch}, max_delay={self.max_delay}"
        return f"<ortbind.Batcher along {self.dim!r}, {state}>"
