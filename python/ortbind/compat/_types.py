"""Element types as the official binding names them, derived from ortbind's one element table.

ONNX Runtime spells a type ``tensor(float)``, ``seq(tensor(int64))``, ``map(string,tensor(float))``
or ``optional(tensor(float))``, with ONNX's element names (``float``, ``double``, ``float8e4m3fn``);
ortbind's table (``_core.ELEMENT_TYPES``) uses numpy's (``float32``, ``float64``,
``float8_e4m3fn``). The two differ only by the renames below.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._convert import ELEMENT_TYPES, numpy_dtype
from ..session import ValueSpec

_RENAMED = {"float32": "float", "float64": "double"}

# ortbind element name -> ONNX Runtime's name
ORT_NAMES: dict[str, str] = {name: _RENAMED.get(name, name.replace("_", "")) for name in ELEMENT_TYPES}
# ONNX element code -> ortbind element name
BY_CODE: dict[int, str] = {info.code: name for name, info in ELEMENT_TYPES.items()}


def _numpy_elements() -> dict[np.dtype[Any], str]:
    found: dict[np.dtype[Any], str] = {}
    for name, info in ELEMENT_TYPES.items():
        if info.number_kind is None:
            continue  # strings: str, bytes and object arrays all map to it
        try:
            found[numpy_dtype(name)] = name
        except (TypeError, _core.Error):
            continue  # ml_dtypes is missing or too old for this one
    return found


# numpy dtype -> ortbind element name, for the numeric types numpy (or ml_dtypes) holds as they are
BY_DTYPE = _numpy_elements()


def element_of(dtype: np.dtype[Any]) -> str | None:
    """The element type of a numpy dtype: ``string`` for str, bytes and object arrays."""
    if dtype.kind in "UOSV":
        return "string"
    return BY_DTYPE.get(dtype)


def element_from_any(element_type: Any) -> str:
    """An element type given as the official binding takes one: an ONNX code (``1``) or anything
    numpy reads as a dtype (``np.float32``, ``"int64"``)."""
    if isinstance(element_type, int | np.integer) and not isinstance(element_type, bool):
        found = BY_CODE.get(int(element_type))
        if found is None:
            raise _core.InvalidValueError(f"{element_type} is not an ONNX element type code")
        return found
    dtype = np.dtype(element_type)
    found = element_of(dtype)
    if found is None:
        raise _core.DTypeError(f"numpy dtype {dtype} is not an ONNX element type")
    return found


def tensor_type(element: str) -> str:
    return f"tensor({ORT_NAMES.get(element, element)})"


def type_text(spec: ValueSpec) -> str:
    """What ``NodeArg.type`` says for a value of this spec."""
    if spec.kind in ("tensor", "sparse_tensor") and spec.element_type is not None:
        return f"{spec.kind}({ORT_NAMES.get(spec.element_type, spec.element_type)})"
    if spec.element is not None:
        inner = type_text(spec.element)
        if spec.kind == "sequence":
            return f"seq({inner})"
        if spec.kind == "optional":
            return f"optional({inner})"
        if spec.kind == "map" and spec.key_dtype is not None:
            key = "string" if spec.key_dtype is str else element_of(np.dtype(spec.key_dtype))
            return f"map({ORT_NAMES.get(key or '', key)},{inner})"
    return spec.type


def node_shape(spec: ValueSpec) -> list[int | str | None]:
    """What ``NodeArg.shape`` says: the dims of a tensor (an optional one's too), ``[]`` for anything
    else or an unknown rank."""
    if spec.kind == "optional" and spec.element is not None:
        return node_shape(spec.element)
    if spec.kind != "tensor" or spec.shape is None:
        return []
    return list(spec.shape)
