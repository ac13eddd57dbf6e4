"""Shape contracts: a model's signature as plain data, tightened by the user, checked before the run.

A :class:`Contract` maps every input and output to a :class:`TensorContract` (its dtype and shape:
ints fixed, strs symbolic, None free). Symbolic dims bind to the value they first take in a call
and must agree everywhere else in that call; ``bounds`` limits them. The contract is compiled once
per session (``_core.CompiledContract``) and checked in C++ on each run.

The contract derived from a model checks what ONNX Runtime itself refuses (dtype, rank, fixed
dims) and binds a symbolic dim across inputs only where the model gives it a real name: the names
converters write for "unknown" (``?``, ``unk__12``, ``-1``, ``None``, empty, ...) and a name
repeated within one shape are unknown dims. The model's declared output shapes are described but
never checked (converters get them wrong, and ONNX Runtime only logs a warning). What a user
declares with :meth:`Contract.tighten` is checked in full, outputs included.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from . import _core
from ._convert import unknown_message

if TYPE_CHECKING:
    from ._core import CompiledContract, Session

Dim = int | str | None
ValueDecl = tuple[DTypeLike | type[str] | None, Sequence[Dim] | None]
DimSpec = int | tuple[int | None, int | None]
_UNBOUNDED = (0, None)
# Dim names that converters write where a dim has no name (tf2onnx's unk__N, paddle2onnx's ?, ...).
_PLACEHOLDER = re.compile(r"\s*(\?|unk__\d+|-?\d+|none|null|nan|unknown|dynamic|\*|_*)\s*", re.IGNORECASE)


def is_placeholder(name: str) -> bool:
    """Whether a model's dim name stands for "unknown" rather than naming a dim."""
    return _PLACEHOLDER.fullmatch(name) is not None


def _model_shape(shape: tuple[Dim, ...]) -> tuple[Dim, ...]:
    # A name used twice within one shape is a converter's placeholder too ([?, 3, ?, ?]).
    repeated = {name for name, count in Counter(d for d in shape if isinstance(d, str)).items() if count > 1}
    return tuple(None if isinstance(d, str) and (d in repeated or is_placeholder(d)) else d for d in shape)


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
    return str(np.dtype(dtype).name)


@dataclass(frozen=True)
class Contract:
    """A model's signature with symbolic dims and their bounds. Plain data; ``str()`` prints it."""

    inputs: Mapping[str, TensorContract | None]
    outputs: Mapping[str, TensorContract | None]
    bounds: Mapping[str, tuple[int, int | None]] = field(default_factory=dict)
    # The outputs whose shapes are checked after a run: those a user declared, never the model's own.
    checked_outputs: frozenset[str] = frozenset()

    @classmethod
    def from_model(cls, inputs: Sequence[Any], outputs: Sequence[Any]) -> Contract:
        """The contract of a model's signature (``Session.inputs`` and ``Session.outputs``)."""

        def rule(spec: Any) -> TensorContract | None:
            if spec.kind != "tensor" or spec.element_type is None:
                return None
            # ONNX Runtime reports an unknown rank as (): only ranks >= 1 are checked.
            return TensorContract(spec.element_type, _model_shape(spec.shape) if spec.shape else None)

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
                raise _core.NameMismatchError(
                    f"dims names {name!r}, which no input or output of the contract has; "
                    f"its named dims are: {', '.join(map(repr, bounds)) or 'none'}"
                )
            low, high = (spec, spec) if isinstance(spec, int) else spec
            low = 0 if low is None else low
            if low < 0 or (high is not None and high < low):
                raise _core.InvalidValueError(f"dims[{name!r}] = {spec!r} is not a valid range")
            bounds[name] = (low, high)
        return Contract(new_inputs, new_outputs, bounds, self.checked_outputs | frozenset(outputs or {}))

    def compile(self, session: Session) -> CompiledContract:
        """This contract in the form ``session`` checks in C++ (``run(..., contract=...)``)."""
        return session._compile_contract(
            inputs=[None if r is None else r.shape for r in self.inputs.values()],
            outputs=[None if r is None else r.shape for r in self.outputs.values()],
            symbols=[(name, *self.bounds.get(name, _UNBOUNDED)) for name in self.symbols],
            check_computed=[name in self.checked_outputs for name in self.outputs],
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
            raise _core.NameMismatchError(unknown_message(role, name, list(rules)))
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
