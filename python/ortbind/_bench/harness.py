"""The timing method shared by the benchmark suite and ``ortbind bench``.

Every contender runs in one process and on one thread (the C++ floors too, a library loaded with ctypes): after
a warm-up, the contenders take turns (A B C, B C A, ...) running blocks of calls, each call timed
alone with the cyclic GC paused. Medians and p99 are over every call of every round; a ratio is the
median of per-round ratios (a contender's block median over the reference's block median in the
same round), since a machine's speed shifts for seconds at a time and a ratio of medians gathered at
different moments would mix those states.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _nothing() -> None:
    return None


@dataclass
class Contender:
    """One way to run a model, ready to time: ``block(n)`` makes n calls and returns their n
    durations in nanoseconds; ``close()`` releases what it holds."""

    name: str
    block: Callable[[int], list[int]]
    close: Callable[[], None] = _nothing


class Skip(Exception):
    """A contender does not apply to this model (the message says why)."""


def timed_block(fn: Callable[[], object], n: int) -> list[int]:
    """n calls, each timed alone; the cyclic GC is paused during the block, as timeit does."""
    clock = time.perf_counter_ns
    samples = [0] * n
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(n):
            start = clock()
            fn()
            samples[i] = clock() - start
    finally:
        if enabled:
            gc.enable()
    return samples


@dataclass
class Measurement:
    """What :func:`measure` gathered: per contender, every call (ns) and each round's block median (ns)."""

    samples: dict[str, list[int]]
    round_medians: dict[str, list[float]]
    calls_per_block: int
    rounds: int
    warmup: int
    families: dict[str, str | None] = field(default_factory=dict)

    def ratio(self, name: str, reference: str) -> float | None:
        """The median over rounds of ``name``'s block median over ``reference``'s in the same round."""
        if name not in self.round_medians or reference not in self.round_medians:
            return None
        ours = np.asarray(self.round_medians[name])
        theirs = np.asarray(self.round_medians[reference])
        return float(np.median(ours / theirs))

    def difference_us(self, name: str, reference: str) -> float | None:
        """The median over rounds of ``name``'s block median minus ``reference``'s (µs)."""
        if name not in self.round_medians or reference not in self.round_medians:
            return None
        extra = (np.asarray(self.round_medians[name]) - np.asarray(self.round_medians[reference])) / 1000.0
        return float(np.median(extra))

    def fastest_ratio(self, family: str, reference_family: str) -> float | None:
        """Round by round, the fastest contender of ``family`` over the fastest of
        ``reference_family``; the median of those ratios."""
        ours = [self.round_medians[n] for n, f in self.families.items() if f == family]
        theirs = [self.round_medians[n] for n, f in self.families.items() if f == reference_family]
        if not ours or not theirs:
            return None
        return float(np.median(np.min(ours, axis=0) / np.min(theirs, axis=0)))

    def stats(self, references: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
        """Per contender: median, p99, mean (µs), calls/s, n, every sample (ns) and the ratio to
        each reference present (``ratio_to_<reference>``)."""
        result: dict[str, dict[str, Any]] = {}
        for name, values in self.samples.items():
            array = np.asarray(values, dtype=np.float64) / 1000.0
            median = float(np.median(array))
            entry: dict[str, Any] = {
                "median_us": median,
                "p99_us": float(np.percentile(array, 99)),
                "mean_us": float(array.mean()),
                "calls_per_s": 1e6 / median if median > 0 else math.inf,
                "n": len(values),
                "samples_ns": values,
            }
            for reference in references:
                ratio = self.ratio(name, reference)
                if ratio is not None:
                    entry[f"ratio_to_{reference}"] = ratio
            result[name] = entry
        return result


BlockCallback = Callable[[str, str], None]  # (contender name, phase: "warmup" or "round")


def measure(
    contenders: Mapping[str, Contender],
    *,
    warmup: int,
    rounds: int,
    calls: int,
    families: Mapping[str, str | None] | None = None,
    on_block: BlockCallback | None = None,
) -> Measurement:
    """Warms every contender up with ``warmup`` calls, then runs ``rounds`` rounds in rotation, each
    contender a block of ``calls`` calls per round. Closes nothing: the caller owns the contenders."""
    samples: dict[str, list[int]] = {name: [] for name in contenders}
    round_medians: dict[str, list[float]] = {name: [] for name in contenders}
    for name, contender in contenders.items():
        contender.block(max(1, warmup))
        if on_block is not None:
            on_block(name, "warmup")
    order = list(contenders)
    for r in range(rounds):
        shift = r % len(order) if order else 0
        for name in order[shift:] + order[:shift]:
            block = contenders[name].block(calls)
            samples[name].extend(block)
            round_medians[name].append(float(np.median(block)))
            if on_block is not None:
                on_block(name, "round")
    return Measurement(
        samples,
        round_medians,
        calls,
        rounds,
        warmup,
        {name: (families or {}).get(name) for name in contenders},
    )


@dataclass(frozen=True)
class Plan:
    """How many calls to warm up with, how many rounds, and how many calls per block."""

    warmup: int
    rounds: int
    calls: int


def plan_for_duration(
    contenders: Mapping[str, Contender], duration_s: float, *, rounds: int = 20, min_rounds: int = 3
) -> Plan:
    """A plan whose timed part takes about ``duration_s`` seconds: a few timed calls of each contender
    (which also warm it up) give its cost per call; blocks are sized so that ``rounds`` rounds fit,
    with fewer rounds (no fewer than ``min_rounds``) of one call each for a model too slow for that."""
    if not contenders:
        return Plan(1, min_rounds, 1)
    budget_ns = duration_s * 1e9
    per_call: list[float] = []
    for contender in contenders.values():
        # Calls until 2% of the budget or 20 calls, whichever comes first (at least two).
        spent: list[int] = []
        while len(spent) < 2 or (len(spent) < 20 and sum(spent) < 0.02 * budget_ns):
            spent.extend(contender.block(1))
        per_call.append(float(np.median(spent)))
    one_round = sum(per_call)
    calls = int(budget_ns / (rounds * one_round))
    if calls >= 1:
        return Plan(warmup=max(1, min(calls, 50)), rounds=rounds, calls=min(calls, 100_000))
    fitting = int(budget_ns / one_round)
    return Plan(warmup=1, rounds=max(min_rounds, min(rounds, fitting)), calls=1)
