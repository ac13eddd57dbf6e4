"""The contenders of every benchmark: ortbind's ways to run, the official binding's, the C++ floors,
and three that price something (a tightened contract, no contract, the official binding's OrtValues).

A contender is made for one :class:`Target` (a model, its feeds and the session options) by its
:class:`ContenderSpec`'s ``make``, which returns a :class:`~ortbind._bench.harness.Contender` or
raises :class:`~ortbind._bench.harness.Skip` saying why it does not apply. Adding one is a
function and one :func:`register` call; ``family`` says which binding's "fastest path" it counts for
(None for a contender that only prices something).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core, compat
from .._convert import ELEMENT_TYPES
from ..session import Session
from .floor import Floor, FloorBuild
from .harness import Contender, Skip, timed_block

# numpy dtype -> ONNX Runtime's element code, for the official binding's io binding and the C++
# floor's input files: from ortbind's one element table, the real numbers numpy holds natively.
ONNX_ELEMENT: dict[np.dtype[Any], int] = {
    np.dtype(e.name): e.code
    for e in ELEMENT_TYPES.values()
    if e.ml_dtypes is None and e.number_kind in ("f", "i", "u", "b")
}

Model = str | os.PathLike[str] | bytes


@dataclass
class Target:
    """What the contenders run: a model (a path, so that external data resolves, or bytes), the feeds
    every call gets, the session options all contenders share, and the C++ floor build to use."""

    model: Model
    feeds: dict[str, np.ndarray[Any, Any]]
    intra_op_threads: int = 1
    inter_op_threads: int = 1
    env: _core.Env | None = None
    floor: FloorBuild | None = None
    name: str = "model"
    # The official binding's log level (3: errors; 4: fatal only, where errors are reported anyway).
    ort_log_severity: int = 3


@dataclass(frozen=True)
class ContenderSpec:
    name: str
    label: str
    description: str
    family: str | None  # "ortbind", "ort", "compat" or "floor": whose fastest path it counts for
    make: Callable[[Target], Contender]


CONTENDERS: dict[str, ContenderSpec] = {}


def register(spec: ContenderSpec, registry: dict[str, ContenderSpec] | None = None) -> ContenderSpec:
    (CONTENDERS if registry is None else registry)[spec.name] = spec
    return spec


def ortbind_session(target: Target, **options: Any) -> Session:
    """An ortbind session of the target's model with the options every contender shares, and
    ``options`` (profile=...) beside them."""
    model = target.model if isinstance(target.model, bytes) else os.fspath(target.model)
    return Session(
        model,
        env=target.env,
        intra_op_threads=target.intra_op_threads,
        inter_op_threads=target.inter_op_threads,
        **options,
    )


def ort_options(target: Target) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = target.intra_op_threads
    options.inter_op_num_threads = target.inter_op_threads
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = target.ort_log_severity
    return options


def ort_session(target: Target) -> Any:
    """The official binding's session with the same options as ortbind's, on the CPU."""
    import onnxruntime as ort

    model = target.model if isinstance(target.model, bytes) else os.fspath(target.model)
    return ort.InferenceSession(model, ort_options(target), providers=["CPUExecutionProvider"])


def compat_session(target: Target) -> compat.InferenceSession:
    """ortbind.compat's InferenceSession with the official binding's options, on the CPU."""
    options = compat.SessionOptions()
    options.intra_op_num_threads = target.intra_op_threads
    options.inter_op_num_threads = target.inter_op_threads
    model = target.model if isinstance(target.model, bytes) else os.fspath(target.model)
    return compat.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _numeric(values: Any) -> bool:
    return all(isinstance(v, np.ndarray) and v.dtype in ONNX_ELEMENT for v in values)


def _ortbind_run(target: Target) -> Contender:
    session, feeds = ortbind_session(target), target.feeds
    return Contender("ortbind", lambda n: timed_block(lambda: session.run(feeds), n), session.close)


def _ortbind_out(target: Target) -> Contender:
    session, feeds = ortbind_session(target), target.feeds
    first = session.run(feeds)
    if not _numeric(first.values()):
        session.close()
        raise Skip("out= takes numeric tensors only, and an output of this model is not one")
    out = {name: np.empty_like(value) for name, value in first.items()}
    return Contender("ortbind_out", lambda n: timed_block(lambda: session.run(feeds, out=out), n), session.close)


def _bindable(session: Session, feeds: dict[str, np.ndarray[Any, Any]]) -> dict[str, np.ndarray[Any, Any]]:
    """The feeds a binding can hold once: numeric arrays of the model's dtype, contiguous (the others
    are given per call)."""
    dtypes = {spec.name: spec.dtype for spec in session.inputs}
    return {
        k: v
        for k, v in feeds.items()
        if isinstance(v, np.ndarray) and v.dtype in ONNX_ELEMENT and v.dtype == dtypes.get(k) and v.flags.c_contiguous
    }


def _ortbind_bind(target: Target) -> Contender:
    session, feeds = ortbind_session(target), target.feeds
    binding = session.bind()
    return Contender("ortbind_bind", lambda n: timed_block(lambda: binding.run(feeds), n), session.close)


def _ortbind_bound(target: Target) -> Contender:
    session = ortbind_session(target)
    first = session.run(target.feeds)
    once = _bindable(session, target.feeds)
    out = {k: np.empty_like(v) for k, v in first.items() if isinstance(v, np.ndarray) and v.dtype in ONNX_ELEMENT}
    # Copies of the feeds: a binding views the arrays it holds, and the other contenders share these.
    once = {k: v.copy() for k, v in once.items()}
    binding = session.bind(inputs=once, out=out)
    rest = {k: v for k, v in target.feeds.items() if k not in once}
    run = binding.run if not rest else (lambda: binding.run(rest))
    return Contender("ortbind_bound", lambda n: timed_block(run, n), session.close)


def _ortbind_contract(target: Target) -> Contender:
    session = ortbind_session(target)
    dims = {symbol: (1, 1 << 30) for symbol in session.contract.symbols}
    checked = session.with_contract(dims=dims)
    return Contender("ortbind_contract", lambda n: timed_block(lambda: checked.run(target.feeds), n), session.close)


def _ortbind_unchecked(target: Target) -> Contender:
    session = ortbind_session(target)
    session._set_contract(None)
    return Contender("ortbind_unchecked", lambda n: timed_block(lambda: session.run(target.feeds), n), session.close)


def _compat_run(target: Target) -> Contender:
    session, feeds = compat_session(target), target.feeds
    return Contender("compat", lambda n: timed_block(lambda: session.run(None, feeds), n), session.ortbind.close)


def _ort_run(target: Target) -> Contender:
    session, feeds = ort_session(target), target.feeds
    return Contender("ort", lambda n: timed_block(lambda: session.run(None, feeds), n))


def _ort_iobinding(target: Target) -> Contender:
    session, feeds = ort_session(target), target.feeds
    if not _numeric(feeds.values()):
        raise Skip("bind_cpu_input takes numeric tensors only, and an input of this model is not one")
    first = session.run(None, feeds)
    if not _numeric(first):
        raise Skip("outputs are bound to numeric buffers only, and an output of this model is not one")
    binding = session.io_binding()
    for name, value in feeds.items():
        binding.bind_cpu_input(name, value)
    outs = [np.empty_like(v) for v in first]
    for meta, out in zip(session.get_outputs(), outs, strict=True):
        binding.bind_output(meta.name, "cpu", 0, out.dtype, list(out.shape), out.ctypes.data)

    def block(n: int) -> list[int]:
        # ``outs`` must live as long as the binding writes into them: the closure holds both.
        held = (binding, outs)
        return timed_block(lambda: session.run_with_iobinding(held[0]), n)

    return Contender("ort_iobinding", block)


def _ort_values(target: Target) -> Contender:
    import onnxruntime as ort

    session = ort_session(target)
    values = {k: ort.OrtValue.ortvalue_from_numpy(v) for k, v in target.feeds.items()}
    return Contender("ort_values", lambda n: timed_block(lambda: session.run_with_ort_values(None, values), n))


def _floor(command: str, name: str) -> Callable[[Target], Contender]:
    def make(target: Target) -> Contender:
        if target.floor is None:
            raise Skip("no C++ floor was built for this run")
        if target.floor.binary is None:
            raise Skip(target.floor.reason)
        unsupported = sorted(k for k, v in target.feeds.items() if v.dtype not in ONNX_ELEMENT)
        if unsupported:
            raise Skip(f"the C++ floor reads numeric inputs only; {', '.join(unsupported)} are not")
        floor = Floor(
            target.floor.binary,
            target.model,
            [(key, value, ONNX_ELEMENT[value.dtype]) for key, value in target.feeds.items()],
            command,
            intra_op_threads=target.intra_op_threads,
            inter_op_threads=target.inter_op_threads,
        )
        return Contender(name, floor.block, floor.close)

    return make


register(
    ContenderSpec(
        "floor",
        "C++ floor",
        "OrtApi::Run in a C++ loop over the same library file, inputs wrapped once",
        "floor",
        _floor("run", "floor"),
    )
)
register(
    ContenderSpec(
        "floor_bind",
        "C++ bound floor",
        "OrtApi::RunWithBinding on one OrtIoBinding kept across calls: inputs rebound per call, outputs bound"
        " to the CPU once and fetched after each call",
        "floor",
        _floor("bind", "floor_bind"),
    )
)
register(
    ContenderSpec(
        "floor_bound",
        "C++ bound-once floor",
        "OrtApi::RunWithBinding with inputs bound once and outputs bound once, never fetched (ONNX Runtime"
        " reuses their buffers): the least work of a bound run",
        "floor",
        _floor("bound", "floor_bound"),
    )
)
register(
    ContenderSpec("ortbind", "ortbind run", "session.run(feeds): dict in, numpy views out", "ortbind", _ortbind_run)
)
register(
    ContenderSpec("ortbind_out", "ortbind run(out=)", "session.run(feeds, out=preallocated)", "ortbind", _ortbind_out)
)
register(
    ContenderSpec(
        "ortbind_bind",
        "ortbind bind",
        "session.bind(); binding.run(feeds): ONNX Runtime's I/O binding kept, inputs rebound per call, fresh outputs",
        "ortbind",
        _ortbind_bind,
    )
)
register(
    ContenderSpec(
        "ortbind_bound",
        "ortbind bound",
        "session.bind(inputs=feeds, out=preallocated); binding.run(): inputs and outputs bound once",
        "ortbind",
        _ortbind_bound,
    )
)
register(
    ContenderSpec(
        "ortbind_contract",
        "ortbind contract",
        "session.with_contract(dims=...).run(feeds)",
        "ortbind",
        _ortbind_contract,
    )
)
register(
    ContenderSpec(
        "ortbind_unchecked",
        "ortbind no contract",
        "session.run without the model's contract (to price the check)",
        None,
        _ortbind_unchecked,
    )
)
register(
    ContenderSpec(
        "compat",
        "compat run",
        "ortbind.compat.InferenceSession.run(None, feeds): the official binding's API on ortbind",
        "compat",
        _compat_run,
    )
)
register(ContenderSpec("ort", "ort run", "onnxruntime.InferenceSession.run(None, feeds)", "ort", _ort_run))
register(
    ContenderSpec(
        "ort_iobinding", "ort iobinding", "run_with_iobinding, inputs and outputs bound once", "ort", _ort_iobinding
    )
)

register(
    ContenderSpec(
        "ort_values",
        "ort ort_values",
        "run_with_ort_values on OrtValues made once (outputs stay OrtValues)",
        "ort",
        _ort_values,
    )
)


def make(spec: ContenderSpec, target: Target) -> Contender:
    """The contender for this target, or :class:`Skip`; an error of the model in one binding only is
    a skip that says so, since the other contenders may still run."""
    try:
        return spec.make(target)
    except Skip:
        raise
    except (_core.Error, RuntimeError, ValueError, TypeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Skip(f"{type(error).__name__}: {first}") from error


def references(names: list[str]) -> list[str]:
    """The references ratios are taken to: the floors and the official binding's run, those present."""
    return [r for r in ("floor", "floor_bind", "floor_bound", "ort") if r in names]
