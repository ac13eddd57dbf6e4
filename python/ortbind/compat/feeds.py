"""Feeds where the official binding's rules are not ortbind's, and the official wording of a refusal.

A run first goes to ortbind as it is. Only when ortbind refuses a feed does compat look at it again:

- a Python ``list`` for a tensor input is converted to the declared element type as the official
  binding converts it (numpy's conversion: floats to ints truncate, bools become 0 and 1), where
  ortbind would refuse any conversion that changes a number; this is the one place compat follows
  the official binding's casting rather than ortbind's;
- a numpy array of bytes (``S``) or of ``np.void`` for a string input is decoded as UTF-8;
- an :class:`~ortbind.compat.OrtValue` stands for what it holds.

Other values go to ortbind as they are: scalars and tuples, which the official binding refuses, are
taken where ortbind takes them. Nothing else is converted: a numpy array of another dtype is refused
with the official binding's ``InvalidArgument`` and its wording (``Unexpected input data type.
Actual: (tensor(double)) , expected: (tensor(float))``), which :func:`refusal` rebuilds from the
feeds in the order ONNX Runtime checks them: input names, then each input's type, rank and fixed
dims, then output names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._convert import numpy_dtype
from ..errors import Error
from ..session import ValueSpec
from ._types import element_of, tensor_type
from .errors import (
    InvalidArgument,
    ListConversionError,
    MissingInputsError,
    ort_message,
)
from .nodeargs import NodeArg
from .ortvalue import OrtValue

_FIX = " Please fix either the inputs/outputs or the model."


def missing_inputs(inputs: Sequence[NodeArg], feed_names: Sequence[str]) -> MissingInputsError | None:
    """The official binding's first check: every input that is not optional is fed."""
    missing = [arg.name for arg in inputs if arg.name not in feed_names and not arg.type.startswith("optional")]
    if not missing:
        return None
    return MissingInputsError(f"Required inputs ({missing}) are missing from input feed ({list(feed_names)}).")


def _official_value(spec: ValueSpec | None, value: Any) -> Any:
    """``value`` converted as the official binding converts it for this input; the value itself
    where the official binding takes it as it is."""
    if isinstance(value, OrtValue):
        return value._value
    if spec is None or spec.kind != "tensor" or spec.element_type is None:
        return value
    string = spec.element_type == "string"
    if isinstance(value, list):
        try:
            return np.array(value, dtype=object if string else numpy_dtype(spec.element_type))
        except (TypeError, ValueError, OverflowError):
            raise ListConversionError("Could not create tensor from given input list") from None
    if isinstance(value, np.ndarray):
        if string and value.dtype.kind == "V":
            value = value.view(f"S{value.dtype.itemsize}")
        if string and value.dtype.kind == "S":
            return np.char.decode(value, "utf-8")
    return value


def official_feeds(specs: Mapping[str, ValueSpec], feeds: Mapping[str, Any]) -> dict[str, Any] | None:
    """The feeds converted as the official binding converts them, or None where that changes none."""
    converted = {name: _official_value(specs.get(name), value) for name, value in feeds.items()}
    if all(converted[name] is value for name, value in feeds.items()):
        return None
    return converted


def refusal(
    specs: Mapping[str, ValueSpec],
    outputs: Sequence[str],
    feeds: Mapping[str, Any],
    output_names: Sequence[str] | None,
    error: Error,
) -> tuple[type[Error], str]:
    """The class and the official wording (without its ``[ONNXRuntimeError]`` prefix) of ortbind's
    refusal ``error`` of these feeds."""
    for name in feeds:
        if name not in specs:
            return InvalidArgument, f"Invalid input name: {name}"
    for name, value in feeds.items():
        problem = _tensor_problem(specs[name], value)
        if problem:
            return InvalidArgument, problem
    for name in output_names or ():
        if name not in outputs:
            return InvalidArgument, f"Invalid output name:{name}"
    return InvalidArgument, str(error)


def _tensor_problem(spec: ValueSpec, value: Any) -> str | None:
    if spec.kind != "tensor" or spec.element_type is None or not isinstance(value, np.ndarray):
        return None
    given = element_of(value.dtype) or str(value.dtype)
    if given != spec.element_type:
        return (
            f"Unexpected input data type. Actual: ({tensor_type(given)}) , expected: "
            f"({tensor_type(spec.element_type)}) for input '{spec.name}'"
        )
    if not spec.shape:
        return None  # an unknown rank (ONNX Runtime reports it as a scalar's, and checks nothing)
    if value.ndim != len(spec.shape):
        return f"Invalid rank for input: {spec.name} Got: {value.ndim} Expected: {len(spec.shape)}{_FIX}"
    wrong = [
        f" index: {axis} Got: {got} Expected: {want}\n"
        for axis, (got, want) in enumerate(zip(value.shape, spec.shape, strict=True))
        if isinstance(want, int) and got != want
    ]
    if wrong:
        return f"Got invalid dimensions for input: {spec.name} for the following indices\n{''.join(wrong)}{_FIX}"
    return None


def worded_refusal(kind: type[Error], text: str) -> Error:
    """The refusal as the official binding raises it."""
    return kind(ort_message(2, text))
