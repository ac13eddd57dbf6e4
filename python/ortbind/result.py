"""The result of a run: a read-only mapping of output name to value, in the requested order.

``Result`` is a ``dict`` subclass so that ``_core`` fills it at C speed and ``result["y"]`` costs a
dict lookup; it adds positional access (``result[0]``), typed extraction and ``one()``, and refuses
to be changed.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar, overload

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._convert import unknown_message

_S = TypeVar("_S", bound=np.generic)


def _read_only(*_: Any, **__: Any) -> NoReturn:
    raise TypeError("a run's Result is read-only")


class Result(dict[str, Any]):
    __slots__ = ()

    def __missing__(self, key: object) -> Any:
        if isinstance(key, int) and not isinstance(key, bool):
            values = list(self.values())
            if -len(values) <= key < len(values):
                return values[key]
            raise IndexError(f"output index {key} is out of range for {len(values)} outputs")
        if isinstance(key, str):
            raise _core.NameMismatchError(unknown_message("output", key, list(self)))
        raise _core.NameMismatchError(f"outputs are named by str or indexed by int, not {type(key).__name__}")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (list(self.items()),))

    def __repr__(self) -> str:
        return f"Result({dict.__repr__(self)})"

    def _name(self, key: str | int) -> str:
        if isinstance(key, int):
            names = list(self)
            if not -len(names) <= key < len(names):
                raise IndexError(f"output index {key} is out of range for {len(names)} outputs")
            return names[key]
        self[key]
        return key

    @overload
    def extract(self, key: str | int, expected: type[_S]) -> NDArray[_S]: ...
    @overload
    def extract(self, key: str | int, expected: type[str]) -> NDArray[np.str_]: ...
    @overload
    def extract(self, key: str | int, expected: type[list[Any]]) -> list[Any]: ...
    @overload
    def extract(self, key: str | int, expected: type[dict[Any, Any]]) -> dict[Any, Any]: ...
    @overload
    def extract(self, key: str | int, expected: str | np.dtype[Any]) -> NDArray[Any]: ...

    def extract(self, key: str | int, expected: Any) -> Any:
        """The output ``key`` if it is exactly of type ``expected``, else ``DTypeError`` (never a cast).

        ``expected`` is a numpy dtype (``np.float32``, ``"int64"``) for numeric tensors, ``str`` for
        string tensors, ``list`` for sequences, ``dict`` for maps. An absent optional raises
        ``KindError``; use :meth:`extract_optional` where absence is expected.
        """
        name = self._name(key)
        value = self[name]
        if value is None:
            raise _core.KindError(f"output {name!r} is an absent optional; use extract_optional")
        return _check_type(name, value, expected)

    @overload
    def extract_optional(self, key: str | int, expected: type[_S]) -> NDArray[_S] | None: ...
    @overload
    def extract_optional(self, key: str | int, expected: type[str]) -> NDArray[np.str_] | None: ...
    @overload
    def extract_optional(self, key: str | int, expected: type[list[Any]]) -> list[Any] | None: ...
    @overload
    def extract_optional(self, key: str | int, expected: type[dict[Any, Any]]) -> dict[Any, Any] | None: ...
    @overload
    def extract_optional(self, key: str | int, expected: str | np.dtype[Any]) -> NDArray[Any] | None: ...

    def extract_optional(self, key: str | int, expected: Any) -> Any:
        """As :meth:`extract`, with ``None`` for an absent optional output."""
        name = self._name(key)
        value = self[name]
        return None if value is None else _check_type(name, value, expected)

    def one(self) -> Any:
        """The only output's value; ``InvalidValueError`` (a ``ValueError``) when there are several."""
        if len(self) != 1:
            raise _core.InvalidValueError(f"one() needs exactly one output, this result has {len(self)}: {list(self)}")
        return next(iter(self.values()))


def _rebuild(items: list[tuple[str, Any]]) -> Result:
    result = Result()
    dict.update(result, items)
    return result


def _check_type(name: str, value: Any, expected: Any) -> Any:
    if expected is list or expected is dict:
        if not isinstance(value, expected):
            raise _core.DTypeError(f"output {name!r} is {_what(value)}, not a {expected.__name__}")
        return value
    if expected is str:
        if isinstance(value, np.ndarray) and value.dtype.kind == "U":
            return value
        raise _core.DTypeError(f"output {name!r} is {_what(value)}, not a tensor of str")
    wanted = np.dtype(expected)
    if isinstance(value, np.ndarray) and value.dtype == wanted:
        return value
    raise _core.DTypeError(f"output {name!r} is {_what(value)}, not a tensor of {wanted.name}")


def _what(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "a tensor of str" if value.dtype.kind == "U" else f"a tensor of {value.dtype.name}"
    if isinstance(value, list):
        return "a sequence"
    if isinstance(value, dict):
        return "a map"
    return type(value).__name__
