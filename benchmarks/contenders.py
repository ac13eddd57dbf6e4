"""The suite's contenders: the package harness's (ortbind run and run(out=), the official binding's run
and run_with_iobinding, the C++ floors) and three of the suite's own, which price ortbind's contract
and try the official binding's OrtValue path.

Each contender is made for one workload and gives a ``block(n)`` that makes n calls and returns
their n durations in nanoseconds. All use the same session options (threads fixed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ortbind
from ortbind._bench import contenders as shared
from ortbind._bench.contenders import ContenderSpec, Target
from ortbind._bench.floor import FloorBuild, build_floor
from ortbind._bench.harness import Contender, Skip, timed_block

from .workloads import Workload

INTRA_OP_THREADS = 1
INTER_OP_THREADS = 1

ENV: ortbind.Env | None = None  # set by the suite before any session is made


def _ortbind_contract(target: Target) -> Contender:
    s = shared.ortbind_session(target)
    dims = {symbol: (1, 1 << 30) for symbol in s.contract.symbols}
    checked = s.with_contract(dims=dims)
    return Contender("ortbind_contract", lambda n: timed_block(lambda: checked.run(target.feeds), n), s.close)


def _ortbind_unchecked(target: Target) -> Contender:
    s = shared.ortbind_session(target)
    s._set_contract(None)
    return Contender("ortbind_unchecked", lambda n: timed_block(lambda: s.run(target.feeds), n), s.close)


def _ort_values(target: Target) -> Contender:
    import onnxruntime as ort

    o = shared.ort_session(target)
    values = {k: ort.OrtValue.ortvalue_from_numpy(v) for k, v in target.feeds.items()}
    return Contender("ort_values", lambda n: timed_block(lambda: o.run_with_ort_values(None, values), n))


SPECS: dict[str, ContenderSpec] = {}
for _spec in (
    shared.CONTENDERS["floor"],
    shared.CONTENDERS["floor_bind"],
    shared.CONTENDERS["floor_bound"],
    shared.CONTENDERS["ortbind"],
    shared.CONTENDERS["ortbind_out"],
    shared.CONTENDERS["ortbind_bind"],
    shared.CONTENDERS["ortbind_bound"],
    ContenderSpec(
        "ortbind_contract",
        "ortbind contract",
        "session.with_contract(dims=...).run(feeds)",
        "ortbind",
        _ortbind_contract,
    ),
    ContenderSpec(
        "ortbind_unchecked",
        "ortbind no contract",
        "session.run without the model's contract (to price the check)",
        None,
        _ortbind_unchecked,
    ),
    shared.CONTENDERS["compat"],
    shared.CONTENDERS["ort"],
    shared.CONTENDERS["ort_iobinding"],
    ContenderSpec(
        "ort_values",
        "ort ort_values",
        "run_with_ort_values on OrtValues made once (outputs stay OrtValues)",
        "ort",
        _ort_values,
    ),
):
    shared.register(_spec, SPECS)

# name -> (label, description), as the report shows them
CONTENDERS: dict[str, tuple[str, str]] = {name: (s.label, s.description) for name, s in SPECS.items()}
FAMILIES: dict[str, str | None] = {name: s.family for name, s in SPECS.items()}


def target(workload: Workload, floor: FloorBuild | None = None) -> Target:
    return Target(
        workload.model,
        workload.feeds,
        intra_op_threads=INTRA_OP_THREADS,
        inter_op_threads=INTER_OP_THREADS,
        env=ENV,
        floor=floor,
        name=workload.name,
    )


def ortbind_session(workload: Workload) -> ortbind.Session:
    return shared.ortbind_session(target(workload))


def ort_session(workload: Workload) -> Any:
    return shared.ort_session(target(workload))


def make(name: str, workload: Workload, floor: FloorBuild | None) -> Contender | None:
    """The contender for this workload, or None where it does not apply."""
    if name not in SPECS:
        raise ValueError(f"unknown contender {name!r}")
    try:
        return SPECS[name].make(target(workload, floor))
    except Skip:
        return None


def floor_build(out_dir: Path) -> FloorBuild:
    """The C++ floor, compiled into the results folder; the suite cannot measure without it."""
    build = build_floor(out_dir)
    if build.binary is None:
        raise SystemExit(f"benchmarks: {build.reason}")
    return build
