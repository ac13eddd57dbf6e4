"""ONNX Runtime's own profiler, turned into the operators that take the time.

A session made with profiling on writes one JSON file (Chrome's trace format) when profiling ends:
one ``Session`` event per run (``model_run``) and one ``Node`` event per kernel call, named
``<node>_kernel_time`` with the operator type and execution provider in its ``args``. The first runs
are a warm-up (memory arenas grow, caches fill) and are left out of the tables.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contenders import Target, ortbind_session

KERNEL_SUFFIX = "_kernel_time"


@dataclass(frozen=True)
class Row:
    """One operator type or one node: its calls, total and mean time (µs), share of all kernel time."""

    name: str
    op_type: str
    provider: str
    calls: int
    total_us: float
    mean_us: float
    share: float


@dataclass(frozen=True)
class Profile:
    """The tables of one profile: per operator type and per node, most time first."""

    runs: int  # runs counted (after the warm-up)
    run_us: float  # their total time, as ONNX Runtime measured each model_run
    kernel_us: float  # the time in kernels over those runs
    by_op: list[Row] = field(default_factory=list)
    by_node: list[Row] = field(default_factory=list)
    source: str = ""  # the profile file

    def as_dict(self) -> dict[str, Any]:
        def rows(table: list[Row]) -> list[dict[str, Any]]:
            return [row.__dict__.copy() for row in table]

        return {
            "runs": self.runs,
            "run_us": self.run_us,
            "kernel_us": self.kernel_us,
            "by_op": rows(self.by_op),
            "by_node": rows(self.by_node),
            "source": self.source,
        }


def load_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    with Path(path).open() as file:
        events = json.load(file)
    if not isinstance(events, list):
        raise ValueError(f"{path} is not an ONNX Runtime profile (a JSON list of events)")
    return [e for e in events if isinstance(e, dict)]


def summarize(events: Iterable[Mapping[str, Any]], *, warmup_runs: int = 1, source: str = "") -> Profile:
    """The tables of a profile's events, leaving out the first ``warmup_runs`` runs."""
    events = list(events)
    runs = sorted(
        (e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"), key=lambda e: e["ts"]
    )
    counted = runs[warmup_runs:]
    # Kernel events of the warm-up runs end before the first counted run starts.
    start = counted[0]["ts"] if counted else float("inf")
    per_op: dict[str, list[float]] = {}
    per_node: dict[tuple[str, str, str], list[float]] = {}
    for event in events:
        name = str(event.get("name", ""))
        if event.get("cat") != "Node" or not name.endswith(KERNEL_SUFFIX) or event.get("ts", 0) < start:
            continue
        args = event.get("args") or {}
        op_type = str(args.get("op_name", "?"))
        provider = str(args.get("provider", "?")).removesuffix("ExecutionProvider")
        duration = float(event.get("dur", 0))
        per_op.setdefault(op_type, []).append(duration)
        per_node.setdefault((name[: -len(KERNEL_SUFFIX)].strip() or "(unnamed)", op_type, provider), []).append(
            duration
        )
    kernel_us = sum(sum(d) for d in per_op.values())

    def row(name: str, op_type: str, provider: str, durations: list[float]) -> Row:
        total = sum(durations)
        return Row(
            name,
            op_type,
            provider,
            len(durations),
            total,
            total / len(durations),
            total / kernel_us if kernel_us else 0.0,
        )

    by_op = [row(op, op, "", d) for op, d in per_op.items()]
    by_node = [row(node, op, provider, d) for (node, op, provider), d in per_node.items()]
    by_op.sort(key=lambda r: -r.total_us)
    by_node.sort(key=lambda r: -r.total_us)
    return Profile(len(counted), float(sum(e.get("dur", 0) for e in counted)), kernel_us, by_op, by_node, source)


def collect_profile(target: Target, calls: int, prefix: Path) -> Profile:
    """Profiles ``calls`` runs (after one warm-up run) of the target's model on its feeds, in an
    ortbind session of its own with the target's options (profiling slows every run it records)."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with ortbind_session(target, profile=prefix) as session:
        for _ in range(calls + 1):
            session.run(target.feeds)
        path = session.end_profiling()
    return summarize(load_events(path), warmup_runs=1, source=path)
