"""Shape contracts: a model's signature as plain data, tightened by the user, checked before the run.

A :class:`Contract` maps every input and output to a :class:`TensorContract` (its dtype and shape:
ints fixed, strs symbolic, None free). Symbolic dims bind to the value they first take in a call
and must agree everywhere else in that call, outputs included; ``bounds`` limits them. The
contract is compiled once per session (``_core.CompiledContract``) and checked in C++ on each run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from . import _core
from ._convert import unknown_message

if TYPE_CHECKING:
    from .result import Result
    from .session import Session, ValueSpec

Dim = int | str | None
ValueDecl = tuple[DTypeLike | type[str] | None, Sequence[Dim] | None]
DimSpec = int | tuple[int | None, int | None]
_UNBOUNDED = (0, None)


@dataclass(frozen=True)
class TensorContract:
    """What one tensor must be: ``dtype`` an element type name (``"float32"``, ``"string"``),
    ``shape`` the dims, or None where only the rank is unknown."""

    dtype: str
    shape: tuple[Dim, ...] | None

    def __str__(self) -> str:
        return f"{self.dtype}{_shape_text(self.shape)}"


def _shape_text(shape: tuple[Dim, ...] | None) -> str:
    dims = "?" if shape is None else ", ".join("?" if d is None else str(d) for d in shape)
    return f"[{dims}]"


def _element_name(dtype: DTypeLike | type[str]) -> str:
    if dtype is str:
        return "string"
    return np.dtype(dtype).name


@dataclass(frozen=True)
class Contract:
    """A model's signature with symbolic dims and their bounds. Plain data; ``str()`` prints it."""

    inputs: Mapping[str, TensorContract | None]
    outputs: Mapping[str, TensorContract | None]
    bounds: Mapping[str, tuple[int, int | None]] = field(default_factory=dict)

    @classmethod
    def from_model(cls, inputs: Sequence[ValueSpec], outputs: Sequence[ValueSpec]) -> Contract:
        def rule(spec: ValueSpec) -> TensorContract | None:
            if spec.kind != "tensor" or spec.element_type is None:
                return None
            # ONNX Runtime reports an unknown rank as (): only ranks >= 1 are checked.
            return TensorContract(spec.element_type, spec.shape or None)

        contract = cls({s.name: rule(s) for s in inputs}, {s.name: rule(s) for s in outputs})
        return cls(contract.inputs, contract.outputs, {name: _UNBOUNDED for name in contract.symbols})

    @property
    def symbols(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for rule in (*self.inputs.values(), *self.outputs.values()):
            if rule is not None and rule.shape is not None:
                seen.update((d, None) for d in rule.shape if isinstance(d, str))
        return tuple(seen)

    def tighten(
        self,
        inputs: Mapping[str, ValueDecl] | None = None,
        outputs: Mapping[str, ValueDecl] | None = None,
        dims: Mapping[str, DimSpec] | None = None,
    ) -> Contract:
        """This contract with the user's declarations laid over it.

        Declarations may name dims the model leaves free or unnamed, rename symbolic dims, fix them
        and bound them; they may not contradict the model (another dtype, rank or fixed size), since
        the model would refuse such a call anyway.
        """
        new_inputs = _overlay(self.inputs, inputs or {}, "input")
        new_outputs = _overlay(self.outputs, outputs or {}, "output")
        draft = Contract(new_inputs, new_outputs)
        bounds = {name: self.bounds.get(name, _UNBOUNDED) for name in draft.symbols}
        for name, spec in (dims or {}).items():
            if name not in bounds:
                raise _core.InputNameError(
                    f"dims names {name!r}, which no input or output of the contract has; "
                    f"its named dims are: {', '.join(map(repr, bounds)) or 'none'}"
                )
            low, high = (spec, spec) if isinstance(spec, int) else spec
            low = 0 if low is None else low
            if low < 0 or (high is not None and high < low):
                raise _core.InvalidValueError(f"dims[{name!r}] = {spec!r} is not a valid range")
            bounds[name] = (low, high)
        return Contract(new_inputs, new_outputs, bounds)

    def bind(self, session: Session) -> CheckedSession:
        return CheckedSession(session, self)

    def _compile(self, session: _core.Session) -> _core.CompiledContract:
        symbols = self.symbols
        return session._compile_contract(
            inputs=[None if r is None else r.shape for r in self.inputs.values()],
            outputs=[None if r is None else r.shape for r in self.outputs.values()],
            symbols=[(name, *self.bounds.get(name, _UNBOUNDED)) for name in symbols],
        )

    def __str__(self) -> str:
        def side(rules: Mapping[str, TensorContract | None]) -> str:
            return ", ".join(f"{name}: {rule if rule is not None else 'any'}" for name, rule in rules.items())

        text = f"({side(self.inputs)}) -> ({side(self.outputs)})"
        limits = []
        for name, (low, high) in self.bounds.items():
            if (low, high) == _UNBOUNDED:
                continue
            if low == high:
                limits.append(f"{name} = {low}")
            else:
                limits.append(f"{low} <= {name}" + (f" <= {high}" if high is not None else ""))
        return text + (" where " + ", ".join(limits) if limits else "")


def _overlay(
    rules: Mapping[str, TensorContract | None], decls: Mapping[str, ValueDecl], role: str
) -> dict[str, TensorContract | None]:
    result = dict(rules)
    for name, decl in decls.items():
        if name not in rules:
            raise _core.InputNameError(unknown_message(role, name, list(rules)))
        model = rules[name]
        if model is None:
            raise _core.KindError(f"{role} {name!r} is not a tensor; a contract can only describe tensors")
        dtype, shape = decl
        element = model.dtype
        if dtype is not None:
            element = _element_name(dtype)
            if element != model.dtype:
                raise _core.DTypeError(
                    f"the contract declares {role} {name!r} as {element}, but the model's is {model.dtype}"
                )
        new_shape = model.shape
        if shape is not None:
            new_shape = _merge_shape(role, name, model.shape, tuple(shape))
        result[name] = TensorContract(element, new_shape)
    return result


def _merge_shape(role: str, name: str, model: tuple[Dim, ...] | None, declared: tuple[Dim, ...]) -> tuple[Dim, ...]:
    if model is None:
        return declared
    if len(model) != len(declared):
        raise _core.ShapeError(
            f"the contract declares {role} {name!r} with rank {len(declared)}, but the model's has "
            f"rank {len(model)}: {_shape_text(model)}"
        )
    merged: list[Dim] = []
    for axis, (m, d) in enumerate(zip(model, declared, strict=True)):
        if isinstance(m, int) and isinstance(d, int) and m != d:
            raise _core.ShapeError(
                f"the contract fixes {role} {name!r} dim {axis} to {d}, but the model fixes it to {m}"
            )
        if isinstance(d, int) and isinstance(m, int):
            merged.append(m)
        else:
            merged.append(m if d is None else d)
    return tuple(merged)


class CheckedSession:
    """A session run under a tightened contract: ``run`` checks it (in C++) before ONNX Runtime
    sees the data, and checks the outputs against the same bindings afterwards."""

    run: Callable[..., Result]

    def __init__(self, session: Session, contract: Contract) -> None:
        self.session = session
        self.contract = contract
        self._compiled = contract._compile(session)
        # A partial of the C++ method: no Python frame per call.
        self.run = functools.partial(session.run, contract=self._compiled)

    def __repr__(self) -> str:
        return f"<ortbind.CheckedSession {self.contract}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (CheckedSession, (self.session, self.contract))

    def __getattr__(self, name: str) -> Any:
        if name == "session":  # not set yet (during unpickling): no delegation loop
            raise AttributeError(name)
        return getattr(self.session, name)
