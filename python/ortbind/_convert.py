"""The slow paths of feeding values, called from ``_core`` when an input is not already an array of
the model's element type, and the helpers that word its name errors.

The rule: a numpy array must already have the model's dtype (ortbind never casts an array, a cast
that changes numbers would go unnoticed). Untyped Python values (scalars, lists) are converted to
the declared dtype when every number survives the conversion: ints to floats only when exact, no
floats to ints, no bools to numbers.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core


@dataclass(frozen=True)
class ElementType:
    """One row of the core's element table (``_core.ELEMENT_TYPES``)."""

    name: str
    code: int  # ONNX Runtime's ONNXTensorElementDataType (ONNX's TensorProto code up to int4)
    ml_dtypes: str | None  # the ml_dtypes attribute that holds it in numpy, if numpy has none
    number_kind: str | None  # 'f', 'i', 'u', 'b' or 'c'; None for strings
    bits: int  # per element in ONNX Runtime's buffer (4 for the packed types)


ELEMENT_TYPES: dict[str, ElementType] = {row[0]: ElementType(*row) for row in _core.ELEMENT_TYPES}


def numpy_dtype(element: str) -> np.dtype[Any]:
    info = ELEMENT_TYPES.get(element)
    if info is not None and info.ml_dtypes is not None:
        try:
            import ml_dtypes
        except ImportError:
            raise _core.DTypeError(f"{element} tensors need the ml_dtypes package (pip install ml_dtypes)") from None
        if not hasattr(ml_dtypes, info.ml_dtypes):
            raise _core.DTypeError(f"{element} tensors need a newer ml_dtypes (pip install -U ml_dtypes)")
        dtype: np.dtype[Any] = np.dtype(getattr(ml_dtypes, info.ml_dtypes))
        return dtype
    return np.dtype(element)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype}"
    return type(value).__name__


def _strings(value: Any, what: str) -> np.ndarray[Any, Any]:
    array = _string_array(value, what)
    # ONNX Runtime takes C strings: an embedded NUL would cut a string short without a word.
    for item in array.flat:
        if "\0" in item:
            raise _core.InvalidValueError(f"{what} holds a string with a NUL character: {item!r}")
    return array


def _string_array(value: Any, what: str) -> np.ndarray[Any, Any]:
    if isinstance(value, str):
        return np.array(value)
    array = value if isinstance(value, np.ndarray) else None
    if array is None:
        try:
            array = np.array(value, dtype=object)
        except ValueError as error:
            raise _core.InvalidValueError(f"{what} is not a rectangular nest of str: {error}") from None
    if array.dtype.kind == "U":
        return array
    if array.dtype.kind == "S":
        raise _core.DTypeError(f"{what} expects str, got bytes (numpy {array.dtype}); decode them to str")
    if array.dtype.kind != "O":
        raise _core.DTypeError(f"{what} expects str, got {_describe(value)}")
    for item in array.flat:
        if not isinstance(item, str):
            raise _core.DTypeError(f"{what} expects str elements, got {type(item).__name__}: {item!r}")
    return np.asarray(array, order="C")  # not ascontiguousarray, which makes a 0-d array 1-d


def to_array(value: Any, element: str, what: str) -> np.ndarray[Any, Any]:
    """An array of exactly ``element`` for ``value``, or the error that says why not."""
    if value is None:
        raise _core.KindError(f"{what} expects a tensor of {element}, got None")
    if element == "string":
        return _strings(value, what)
    target = numpy_dtype(element)
    if isinstance(value, bytes | bytearray):
        raise _core.KindError(
            f"{what} expects a tensor of {element}, got {type(value).__name__}: raw bytes are not numbers "
            "(np.frombuffer(value, dtype) says what they hold)"
        )
    if not isinstance(value, np.ndarray | np.generic) and (
        isinstance(value, memoryview) or hasattr(value, "__array__") or hasattr(value, "__array_interface__")
    ):
        value = np.asarray(value)  # array-likes (pandas, torch on CPU, ...) are typed: no cast below
    if isinstance(value, np.ndarray | np.generic):
        given = value.dtype
        if given == target:
            return np.asarray(value, order="C")
        hint = "" if given.kind in "OSUV" else f"; convert it yourself, e.g. value.astype(np.{target.name})"
        raise _core.DTypeError(f"{what} expects {target.name}, got {_describe(value)}{hint}")
    if isinstance(value, dict | set | str | bytes) or not isinstance(value, int | float | complex | bool | Sequence):
        raise _core.KindError(f"{what} expects a tensor of {element}, got {type(value).__name__}")
    try:
        natural = np.array(value)
    except ValueError as error:
        raise _core.InvalidValueError(f"{what} is not a rectangular nest of numbers: {error}") from None
    return _convert_exactly(natural, target, ELEMENT_TYPES[element].number_kind or "", what)


def _convert_exactly(
    natural: np.ndarray[Any, Any], target: np.dtype[Any], want: str, what: str
) -> np.ndarray[Any, Any]:
    kind = natural.dtype.kind
    if natural.size == 0 and kind == "f":
        return np.zeros(natural.shape, dtype=target)  # [] parses as float64: no number to change
    allowed = {
        "f": "iuf",
        "c": "iufc",
        "i": "iu",
        "u": "iu",
        "b": "b",
    }.get(want, "")
    if kind not in allowed:
        raise _core.DTypeError(
            f"{what} expects {target.name}, got Python values of kind {natural.dtype.name}, "
            "which cannot be converted without changing them"
        )
    with np.errstate(over="ignore"):
        converted: np.ndarray[Any, Any] = natural.astype(target)
    if kind in "fc" and np.any(np.isfinite(natural) & ~np.isfinite(converted)):
        # Rounding to the narrower float is the declared type's precision; overflowing to inf is not.
        raise _core.InvalidValueError(f"{what} expects {target.name}, and some given values overflow it")
    exact_only = kind in "iu"  # ints become floats or other ints only when every value survives
    if exact_only:
        with np.errstate(invalid="ignore", over="ignore"):
            back = converted.astype(natural.dtype)
        if not np.array_equal(back, natural):
            raise _core.InvalidValueError(
                f"{what} expects {target.name}, and the given integers do not all fit in it exactly"
            )
    return converted


def string_array(items: list[str], dims: list[int]) -> np.ndarray[Any, Any]:
    return np.array(items, dtype=str).reshape(dims)


def to_dict(keys: Any, values: Any) -> dict[Any, Any]:
    return dict(zip(keys.tolist(), values.tolist() if isinstance(values, np.ndarray) else values, strict=True))


def _listing(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def unknown_message(role: str, name: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {role} {name!r}{hint}; the model's {role}s are: {_listing(names)}"


def missing_message(missing: Sequence[str], names: Sequence[str]) -> str:
    noun = "input" if len(missing) == 1 else "inputs"
    return f"missing {noun} {_listing(missing)}; the model's inputs are: {_listing(names)}"
