"""Many threads on one session at once, each call's result checked bit for bit against the same call
made alone: run, Binding.run, run_async under each thread's own event loop, pickling and running the
rebuilt session, outputs dropped at once (their buffers go back to the session's output pool) or held
(then never written again), and a session closed while other threads run it.

The main test of the free-threaded interpreter (``make test-ft``) and of the ThreadSanitizer build
(``make tsan``). Each test runs for a bounded time, ``ORTBIND_STRESS_SECONDS`` (default 2) a test,
and at least a few rounds on every thread however slow the build; nothing here times anything.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import ortbind
from support import models

THREADS = 8
SECONDS = float(os.environ.get("ORTBIND_STRESS_SECONDS", "2"))
MIN_ROUNDS = 5  # each thread's, whatever the time
HELD = 16  # outputs a thread holds at most; older ones are dropped at random


@dataclass
class Case:
    """One call's feeds and the outputs it gave when made alone."""

    feeds: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]


@dataclass
class Worker:
    """What one thread did and what it saw go wrong."""

    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    held: list[tuple[dict[str, np.ndarray], Case]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self, how: str, got: Any, case: Case) -> None:
        self.counts[how] = self.counts.get(how, 0) + 1
        for name, want in case.expected.items():
            have = got[name]
            if have.dtype != want.dtype or have.shape != want.shape or have.tobytes() != want.tobytes():
                self.errors.append(f"{how} seed {self.seed}: {name} is {have!r}, alone it was {want!r}")

    def keep_or_drop(self, rng: random.Random, got: Any, case: Case) -> None:
        # Held outputs are checked again at the end: a buffer the pool handed to a later run while
        # an array still viewed it would show there. Dropped ones go back to the pool at once.
        if rng.random() < 0.5:
            self.held.append(({name: got[name] for name in case.expected}, case))
            if len(self.held) > HELD:
                del self.held[rng.randrange(len(self.held))]

    def check_held(self) -> None:
        for outputs, case in self.held:
            self.check("held", outputs, case)


def _cases(
    session: ortbind.Session, make_feeds: Callable[[np.random.Generator, int], dict[str, np.ndarray]]
) -> list[list[Case]]:
    """Each thread's own inputs (values no other thread feeds, batch sizes that differ from call to
    call, so the pool moves between shapes) and their outputs from runs made one at a time."""
    cases = []
    for seed in range(THREADS):
        rng = np.random.default_rng(seed)
        mine = []
        for batch in (1, 3, 2, 4):
            feeds = make_feeds(rng, batch)
            result = session.run(feeds)
            mine.append(Case(feeds, {name: result[name].copy() for name in result}))
        cases.append(mine)
    return cases


def _mlp_feeds(rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
    return {"x": rng.standard_normal((batch, 64)).astype(np.float32)}


def _in_threads(work: Callable[[Worker, random.Random], None]) -> list[Worker]:
    """Runs ``work`` on THREADS threads released together, each until the time is up and it has made
    MIN_ROUNDS rounds; returns the workers once all have finished."""
    workers = [Worker(seed) for seed in range(THREADS)]
    start = threading.Barrier(THREADS)
    deadline = time.monotonic() + SECONDS

    def loop(worker: Worker) -> None:
        rng = random.Random(worker.seed)
        try:
            start.wait()
            rounds = 0
            while rounds < MIN_ROUNDS or time.monotonic() < deadline:
                work(worker, rng)
                rounds += 1
            worker.check_held()
        except BaseException as error:  # reported by the main thread
            worker.errors.append(f"seed {worker.seed}: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=loop, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [error for worker in workers for error in worker.errors]
    assert not errors, f"{len(errors)} wrong results or errors, the first: {errors[:5]}"
    return workers


def test_every_path_at_once_on_one_session_bit_for_bit() -> None:
    # Two intra-op threads, so that run_async goes through ONNX Runtime's RunAsync (its callback on
    # a runtime thread) and not through the executor.
    session = ortbind.Session(models.mlp(), intra_op_threads=2)
    cases = _cases(session, _mlp_feeds)
    binding = session.bind()  # one binding shared by all threads: each gets its own OrtIoBinding

    def one_round(worker: Worker, rng: random.Random) -> None:
        mine = cases[worker.seed]
        case = rng.choice(mine)
        how = rng.choice(["run", "binding", "async", "pickle", "out"])
        if how == "run":
            got = session.run(case.feeds)
        elif how == "binding":
            got = binding.run(case.feeds)
        elif how == "pickle":
            # Rebuilt once per process (ortbind._pickle's cache), whichever thread comes first.
            got = pickle.loads(pickle.dumps(session)).run(case.feeds)
        elif how == "out":  # written into the caller's array, never pooled
            got = session.run(case.feeds, out={"probs": np.empty_like(case.expected["probs"])})
        else:

            async def gather() -> list[ortbind.Result]:
                return await asyncio.gather(*(session.run_async(c.feeds) for c in mine))

            for result, each in zip(asyncio.run(gather()), mine, strict=True):
                worker.check(how, result, each)
                worker.keep_or_drop(rng, result, each)
            return
        worker.check(how, got, case)
        worker.keep_or_drop(rng, got, case)

    workers = _in_threads(one_round)
    done = {how: sum(w.counts.get(how, 0) for w in workers) for how in ("run", "binding", "async", "pickle", "out")}
    assert all(done.values()), f"a path was never taken: {done}"


def test_threads_with_their_own_shapes_and_outputs_share_the_pool() -> None:
    # Eight outputs a run, each thread its own batch sizes: the buffers of dropped outputs go back
    # under the input shapes they were made for while the other threads run with theirs.
    session = ortbind.Session(models.add(("batch", 3)), intra_op_threads=1)

    def feeds(rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
        x = rng.standard_normal((batch, 3)).astype(np.float32)
        return {"x": x, "y": rng.standard_normal((batch, 3)).astype(np.float32)}

    cases = _cases(session, feeds)
    binding = session.bind()

    def one_round(worker: Worker, rng: random.Random) -> None:
        case = rng.choice(cases[worker.seed])
        run = session.run if rng.random() < 0.5 else binding.run
        got = run(case.feeds)
        worker.check("run", got, case)
        worker.keep_or_drop(rng, got, case)

    _in_threads(one_round)


def test_bindings_with_inputs_bound_once_per_thread() -> None:
    # Each thread its own binding, its input bound once and refilled in place before each call.
    session = ortbind.Session(models.mlp(), intra_op_threads=1)
    cases = _cases(session, _mlp_feeds)

    def one_round(worker: Worker, rng: random.Random) -> None:
        case = rng.choice(cases[worker.seed])
        bound = np.empty_like(case.feeds["x"])
        binding = session.bind(inputs={"x": bound})
        for _ in range(3):
            bound[...] = case.feeds["x"]
            got = binding.run()
            worker.check("bound input", got, case)
            worker.keep_or_drop(rng, got, case)

    _in_threads(one_round)


def test_close_while_other_threads_run() -> None:
    # Each round a new session that the main thread closes while the others run it: every call gives
    # the right outputs or ClosedError, never anything else, and outputs returned before the close
    # stay valid after it.
    model = models.mlp()
    cases = _cases(ortbind.Session(model, intra_op_threads=1), _mlp_feeds)
    deadline = time.monotonic() + SECONDS
    rounds = 0
    while rounds < MIN_ROUNDS or time.monotonic() < deadline:
        session = ortbind.Session(model, intra_op_threads=1)
        workers = _run_until_closed(session, cases, seed=rounds, delay=0.001 * (rounds % 5))
        assert all(worker.counts["closed"] == 1 for worker in workers)
        rounds += 1


def _run_until_closed(session: ortbind.Session, cases: list[list[Case]], seed: int, delay: float) -> list[Worker]:
    binding = session.bind()
    started = threading.Barrier(THREADS + 1)
    workers = [Worker(n) for n in range(THREADS)]

    def loop(worker: Worker) -> None:
        rng = random.Random(seed * THREADS + worker.seed)
        try:
            started.wait()
            while True:
                case = rng.choice(cases[worker.seed])
                try:
                    got = (session.run if rng.random() < 0.5 else binding.run)(case.feeds)
                except ortbind.ClosedError:
                    worker.counts["closed"] = 1
                    break
                worker.check("before close", got, case)
                worker.keep_or_drop(rng, got, case)
            worker.check_held()
        except BaseException as error:  # reported by the main thread
            worker.errors.append(f"seed {worker.seed}: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=loop, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    started.wait()
    time.sleep(delay)
    session.close()  # waits for the runs in flight; later calls raise ClosedError
    for thread in threads:
        thread.join()
    errors = [error for worker in workers for error in worker.errors]
    assert not errors, f"{len(errors)} wrong results or errors, the first: {errors[:5]}"
    return workers


def test_many_sessions_made_and_dropped_while_others_run() -> None:
    # Sessions share the process's Env and the pickling cache: threads that make, run, pickle and
    # drop their own sessions while the others do the same.
    model = models.mlp()
    cases = _cases(ortbind.Session(model, intra_op_threads=1), _mlp_feeds)

    def one_round(worker: Worker, rng: random.Random) -> None:
        session = ortbind.Session(model, intra_op_threads=1)
        case = rng.choice(cases[worker.seed])
        worker.check("new session", session.run(case.feeds), case)
        if rng.random() < 0.5:
            worker.check("pickled", pickle.loads(pickle.dumps(session)).run(case.feeds), case)
        if rng.random() < 0.5:
            session.close()

    _in_threads(one_round)


@pytest.mark.parametrize("path", ["run", "binding"])
def test_cancel_tokens_and_time_limits_from_other_threads(path: str) -> None:
    # Runs stopped by another thread's token or by their own time limit, beside runs that finish:
    # a stopped run raises Cancelled (RunTimeout for the limit), a finished one is right.
    session = ortbind.Session(models.mlp(), intra_op_threads=1)
    cases = _cases(session, _mlp_feeds)
    run = session.run if path == "run" else session.bind().run

    def one_round(worker: Worker, rng: random.Random) -> None:
        case = rng.choice(cases[worker.seed])
        token = ortbind.CancelToken()
        if rng.random() < 0.5:
            token.cancel()
        try:
            got = run(case.feeds, cancel=token, timeout=rng.choice([None, 0.0, 60.0]))
        except ortbind.Cancelled:
            worker.counts["stopped"] = worker.counts.get("stopped", 0) + 1
            return
        worker.check("finished", got, case)

    workers = _in_threads(one_round)
    assert sum(w.counts.get("stopped", 0) for w in workers) > 0
    assert sum(w.counts.get("finished", 0) for w in workers) > 0
