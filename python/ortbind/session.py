"""ortbind.Session: the native session with its signature as plain data and a model contract.

``run`` is the C++ method itself (no Python frame on the hot path); this class adds what is
cheap to do once: the signature as :class:`ValueSpec` objects, the model's contract, context
management, contracts tightened by the user, an awaitable run and pickling.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import _core
from ._convert import numpy_dtype
from .result import Result

if TYPE_CHECKING:
    from types import TracebackType

    from .contracts import CheckedSession, Contract, DimSpec, ValueDecl

Kind = Literal["tensor", "sequence", "map", "optional", "sparse_tensor", "opaque", "unknown"]
Dim = int | str | None


@dataclass(frozen=True)
class ValueSpec:
    """One input or output of a model, or what a sequence, map or optional holds.

    ``dtype`` is the numpy dtype of a tensor's elements (``str`` for string tensors, ``None`` where
    numpy has none or the value is not a tensor). ``shape`` has ints for fixed dims, strs for
    symbolic ones and None for unknown ones; ``()`` also stands for an unknown rank, which ONNX
    Runtime reports the same way. ``element`` is what a sequence, map or optional contains, and
    ``key_dtype`` a map's key type.
    """

    name: str
    kind: Kind
    type: str
    dtype: np.dtype[Any] | builtins.type[str] | None = None
    shape: tuple[Dim, ...] | None = None
    element_type: str | None = None
    key_dtype: np.dtype[Any] | builtins.type[str] | None = None
    element: ValueSpec | None = field(default=None, repr=False)

    @classmethod
    def _from_core(cls, name: str, info: tuple[Any, ...], type_text: str) -> ValueSpec:
        kind, element, shape, key, contained = info
        inner = None
        if contained is not None:
            inner = cls._from_core("", contained, _type_text(contained))
        return cls(
            name=name,
            kind=kind,
            type=type_text,
            dtype=_dtype_of(element),
            shape=tuple(shape) if shape is not None else None,
            element_type=element,
            key_dtype=_dtype_of(key),
            element=inner,
        )


def _settle(future: asyncio.Future[Result], result: Result | None, error: BaseException | None, _: object) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


def _dtype_of(element: str | None) -> np.dtype[Any] | type[str] | None:
    if element is None:
        return None
    if element == "string":
        return str
    try:
        return numpy_dtype(element)
    except (TypeError, _core.Error):
        return None


def _type_text(info: tuple[Any, ...]) -> str:
    kind, element, _shape, key, contained = info
    if kind in ("tensor", "sparse_tensor"):
        return f"{kind}({element})"
    if kind == "map":
        value = contained[1] if contained[0] == "tensor" else _type_text(contained)
        return f"map<{key}, {value}>"
    if contained is not None:
        return f"{kind}<{_type_text(contained)}>"
    return str(kind)


@dataclass(frozen=True)
class Metadata:
    producer: str
    graph_name: str
    graph_description: str
    domain: str
    description: str
    version: int
    custom: Mapping[str, str]


class Session(_core.Session):
    """An ONNX model loaded once and run many times.

    ``model`` is a path (str or os.PathLike) or bytes-like. The session holds its :class:`Env`
    (the process default when ``env`` is None). Creation releases the GIL.

    ``run(feeds, outputs=None, *, out=None, timeout=None, cancel=None)`` takes a dict of input name
    to value and returns a :class:`Result` in the requested output order (or the model's).
    Arrays of the model's dtype that are C-contiguous are wrapped, not copied; outputs are numpy
    arrays over ONNX Runtime's own buffers. ``out`` maps output names to preallocated arrays that the
    run writes into. ``timeout`` (seconds) and ``cancel`` (a :class:`CancelToken`) stop a run
    between two nodes with :class:`RunTimeout` or :class:`Cancelled`; Ctrl-C stops a run on the
    main thread and raises KeyboardInterrupt. The GIL is released during the run: several threads
    may run one session at once. Shapes and dtypes are checked against the model's contract
    (symbolic dims bound consistently across inputs) before ONNX Runtime sees the data.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | bytes | bytearray | memoryview,
        *,
        env: _core.Env | None = None,
        providers: Sequence[str] | None = None,
        optimization: Literal["disabled", "basic", "extended", "all"] = "all",
        intra_op_threads: int | None = None,
        inter_op_threads: int | None = None,
        execution_mode: Literal["sequential", "parallel"] = "sequential",
        free_dimensions: Mapping[str, int] | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(providers, str):
            raise _core.KindError("providers must be a sequence of provider names, not one str")
        options: dict[str, Any] = {
            "providers": list(providers) if providers is not None else None,
            "optimization": optimization,
            "intra_op_threads": intra_op_threads,
            "inter_op_threads": inter_op_threads,
            "execution_mode": execution_mode,
            "free_dimensions": dict(free_dimensions or {}),
            "config": dict(config or {}),
        }
        super().__init__(model, env=env, **options)
        self._options = options
        self._model_path = os.fsdecode(model) if isinstance(model, str | os.PathLike) else None
        self._model_bytes = None if self._model_path is not None else bytes(model)  # type: ignore[arg-type]
        self._pickle_by_path = False
        self._inputs = tuple(ValueSpec._from_core(*item) for item in self._describe(inputs=True))
        self._outputs = tuple(ValueSpec._from_core(*item) for item in self._describe(inputs=False))
        from .contracts import Contract

        self._contract = Contract.from_model(self._inputs, self._outputs)
        self._set_contract(self._contract._compile(self))

    # --- signature -----------------------------------------------------------------------------

    @property
    def inputs(self) -> tuple[ValueSpec, ...]:
        return self._inputs

    @property
    def outputs(self) -> tuple[ValueSpec, ...]:
        return self._outputs

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self._inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self._outputs)

    @property
    def metadata(self) -> Metadata:
        return Metadata(**self._metadata())

    @property
    def contract(self) -> Contract:
        """The model's own contract, checked on every run."""
        return self._contract

    def with_contract(
        self,
        inputs: Mapping[str, ValueDecl] | None = None,
        outputs: Mapping[str, ValueDecl] | None = None,
        dims: Mapping[str, DimSpec] | None = None,
    ) -> CheckedSession:
        """A runner whose contract is the model's, tightened by these declarations.

        ``inputs``/``outputs`` map names to ``(dtype, shape)`` (either may be None), shape entries
        being ints (fixed), strs (named dims) or None. ``dims`` fixes (``batch=1``) or bounds
        (``batch=(1, 64)``, either end None) named dims.
        """
        return self._contract.tighten(inputs=inputs, outputs=outputs, dims=dims).bind(self)

    # --- lifetime ------------------------------------------------------------------------------

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        contract = getattr(self, "_contract", None)  # absent when __init__ failed or never ran
        if contract is None:
            return "<ortbind.Session (not made)>"
        state = "closed" if self.closed else str(contract)
        return f"<ortbind.Session {state}>"

    # --- asyncio -------------------------------------------------------------------------------

    async def run_async(
        self,
        feeds: Mapping[str, Any],
        outputs: Sequence[str] | None = None,
        *,
        out: Mapping[str, np.ndarray[Any, Any]] | None = None,
        timeout: float | None = None,
    ) -> Result:
        """``run`` without blocking the event loop; same arguments and result.

        The run goes to one of ONNX Runtime's intra-op threads (``OrtApi::RunAsync``), whose callback
        hands the result to the loop. Sessions without an intra-op thread pool
        (``intra_op_threads=1``), and calls with ``out=``, run on the loop's default executor instead.
        Cancelling the awaiting task cancels the ONNX Runtime run (between two nodes) and waits for
        it to stop before the cancellation propagates, so no run outlives its task.
        """
        loop = asyncio.get_running_loop()
        token = _core.CancelToken()
        future: asyncio.Future[Result]
        if out is None and self._options["intra_op_threads"] != 1:
            future = loop.create_future()

            def done(result: Result | None, error: BaseException | None, session: Session) -> None:
                # On a runtime thread, with the GIL. The session travels to the loop so that its last
                # reference, if this is it, is dropped there and not on one of its own threads.
                with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits this
                    loop.call_soon_threadsafe(_settle, future, result, error, session)

            self._run_async(feeds, outputs, timeout=timeout, cancel=token, callback=done)
        else:
            call = functools.partial(self.run, feeds, outputs, out=out, timeout=timeout, cancel=token)
            future = loop.run_in_executor(None, call)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            token.cancel()
            with contextlib.suppress(_core.Cancelled):
                await future
            raise

    # --- pickling ------------------------------------------------------------------------------

    def __reduce__(self) -> tuple[Any, ...]:
        from ._pickle import reduce_session

        return reduce_session(self)
