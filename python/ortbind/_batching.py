"""What a :class:`~ortbind.Batcher` knows of its model: the dim it batches along, and the check of
one request against the contract before it joins a batch.

The check mirrors the one ``_core`` makes on every run (contract.cpp, with the same messages), made
here on the request alone: a batch is checked again when it runs, but by then one bad request would
fail every request stacked with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._convert import ELEMENT_TYPES, missing_message, numpy_dtype, to_array, unknown_message
from .contracts import Contract, TensorContract, is_placeholder

Dim = int | str | None
Key = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class BatchInput:
    name: str
    element: str  # the contract's element type name ("float32", "string")
    dtype: np.dtype[Any] | None  # None for strings, whose width differs between requests
    shape: tuple[Dim, ...]  # axis 0 is the batch dim
    label: str  # "input 'x'", as _core words it
    text: str  # the shape as _core prints it: (batch, 64)
    rest: tuple[int, ...] | None  # the dims past axis 0 when all are fixed: one comparison checks them


@dataclass(frozen=True)
class BatchPlan:
    dim: str
    inputs: tuple[BatchInput, ...]
    index: Mapping[str, int]
    outputs: tuple[str, ...]
    bounds: Mapping[str, tuple[int, int | None]]
    fixed_key: Key | None  # every input's dims past axis 0 are fixed: all requests stack together

    def check(self, feeds: Any) -> tuple[tuple[np.ndarray[Any, Any], ...], int, Key]:
        """The request's arrays in input order, its rows, and the key of the requests it stacks with.

        Raises what ``Session.run`` would raise for these feeds alone (names, kinds, dtypes, shapes
        against the contract), without running anything.
        """
        # The common request (a dict of arrays of the model's dtypes, fixed dims past the batch
        # dim) is checked in a few comparisons; anything else takes the full check, which also
        # words the error.
        if self.fixed_key is not None and type(feeds) is dict and len(feeds) == len(self.inputs):
            arrays = []
            rows = -1
            for spec in self.inputs:
                value = feeds.get(spec.name)
                if type(value) is not np.ndarray or value.dtype is not spec.dtype:
                    break
                shape = value.shape
                # A 0-d array matches a (n,) rule's empty rest: it takes the full check (rank).
                if not shape or shape[1:] != spec.rest or (rows >= 0 and shape[0] != rows):
                    break
                rows = shape[0]
                arrays.append(value)
            else:
                low, high = self.batch_bounds
                if low <= rows and (high is None or rows <= high):
                    return tuple(arrays), rows, self.fixed_key
        return self._check_all(feeds)

    @property
    def batch_bounds(self) -> tuple[int, int | None]:
        return self.bounds.get(self.dim, (0, None))

    def _check_all(self, feeds: Any) -> tuple[tuple[np.ndarray[Any, Any], ...], int, Key]:
        inputs = self.inputs
        if (isinstance(feeds, np.ndarray) or hasattr(feeds, "__dlpack__")) and len(inputs) == 1:
            items: Any = ((inputs[0].name, feeds),)
        elif isinstance(feeds, dict) or hasattr(feeds, "keys"):
            items = feeds.items()
        else:
            single = " (or one array for this single-input model)" if len(inputs) == 1 else ""
            raise _core.KindError(f"feeds must be a dict of input name to value{single}, not {type(feeds).__name__}")
        arrays: list[np.ndarray[Any, Any] | None] = [None] * len(inputs)
        bound: dict[str, tuple[int, str]] = {}
        for key, value in items:
            if not isinstance(key, str):
                raise _core.NameMismatchError(f"input names must be str, not {type(key).__name__} {key!r}")
            position = self.index.get(key)
            if position is None:
                raise _core.NameMismatchError(unknown_message("input", key, [i.name for i in inputs]))
            spec = inputs[position]
            if spec.dtype is not None and not isinstance(value, np.ndarray) and hasattr(value, "__dlpack__"):
                # Another framework's tensor, as the numpy array over its buffer (its element type checked).
                value = _core._from_dlpack(value, ELEMENT_TYPES[spec.element].code, spec.label)
            if isinstance(value, np.ndarray):
                self._check_shape(spec, value.shape, bound)  # before any copy, as _core does
                if spec.dtype is not None and value.dtype != spec.dtype and value.dtype.newbyteorder("=") == spec.dtype:
                    value = value.astype(spec.dtype)  # byte-swapped: _core too takes it, with one copy
            # spec.dtype is None for strings, and numpy 2 takes `dtype == None` as float64: every
            # string input takes to_array, which refuses what _core refuses.
            array = (
                value
                if type(value) is np.ndarray and spec.dtype is not None and value.dtype == spec.dtype
                else to_array(value, spec.element, spec.label)
            )
            self._check_shape(spec, array.shape, bound)
            arrays[position] = array
        missing = [spec.name for spec, array in zip(inputs, arrays, strict=True) if array is None]
        if missing:
            raise _core.NameMismatchError(missing_message(missing, [i.name for i in inputs]))
        done: tuple[np.ndarray[Any, Any], ...] = tuple(arrays)  # type: ignore[arg-type]
        return done, bound[self.dim][0], tuple([a.shape[1:] for a in done])

    def _check_shape(self, spec: BatchInput, shape: tuple[int, ...], bound: dict[str, tuple[int, str]]) -> None:
        rule = spec.shape
        if len(shape) != len(rule):
            raise _core.ShapeError(
                f"{spec.label} has rank {len(shape)}, but the contract expects rank {len(rule)}: {spec.text}"
            )
        for axis, (want, size) in enumerate(zip(rule, shape, strict=True)):
            if want is None:
                continue
            if isinstance(want, int):
                if size != want:
                    raise _core.ShapeError(
                        f"{spec.label} dim {axis} is {size}, but the contract fixes it to {want}: {spec.text}"
                    )
                continue
            prior = bound.get(want)
            if prior is None:
                low, high = self.bounds.get(want, (0, None))
                if size < low or (high is not None and size > high):
                    limit = f"{low} <= {want}" + (f" <= {high}" if high is not None else "")
                    raise _core.ShapeError(
                        f"{spec.label} dim {axis} ('{want}') is {size}, outside the contract's bound {limit}"
                    )
                bound[want] = (size, spec.name)
            elif prior[0] != size:
                where = "an earlier dim of it" if prior[1] == spec.name else repr(prior[1])
                raise _core.ShapeError(
                    f"{spec.label} dim {axis} ('{want}') is {size}, but {where} bound {want}={prior[0]}"
                )


def _text(shape: Sequence[Dim]) -> str:
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def _axis0(rule: TensorContract | None) -> Dim | str:
    if rule is None:
        return "<not a tensor>"
    if not rule.shape:
        return "<unknown rank>" if rule.shape is None else "<a scalar>"
    return rule.shape[0]


def plan(contract: Contract, dim: str | None, max_batch: int) -> BatchPlan:
    """The plan for batching along ``dim`` (or the dim every input and output has at axis 0)."""
    firsts = {f"input {name!r}": _axis0(rule) for name, rule in contract.inputs.items()}
    output_firsts = {f"output {name!r}": _axis0(rule) for name, rule in contract.outputs.items()}
    listing = ", ".join(
        f"{who}: {first if first is not None else '?'}" for who, first in {**firsts, **output_firsts}.items()
    )
    if dim is None:
        names = set(firsts.values()) | set(output_firsts.values())
        found = names.pop() if len(names) == 1 else None
        if not isinstance(found, str) or found.startswith("<"):
            raise _core.ShapeError(
                "the model has no dim that every input and output has at axis 0, so there is nothing to batch "
                f"along (axis 0 of each: {listing}); name one with dim=, after naming it in the contract "
                "(session.with_contract) where the model leaves it unnamed"
            )
        dim = found
    elif not isinstance(dim, str) or is_placeholder(dim):
        raise _core.InvalidValueError(f"dim must name a symbolic dim of the contract, not {dim!r}")
    for who, first in firsts.items():
        if first != dim:
            raise _core.ShapeError(
                f"{who} does not have dim {dim!r} at axis 0, so its rows cannot be batched (axis 0 of each: "
                f"{listing}); name it in the contract with session.with_contract where the model leaves it unnamed"
            )
    for who, first in output_firsts.items():
        # An output of unknown shape at axis 0 may still follow the batch: each batch checks that
        # its length there is the batch's rows, and fails with a ShapeError where it is not.
        if first != dim and (first is not None and first != "<unknown rank>"):
            raise _core.ShapeError(
                f"{who} does not have dim {dim!r} at axis 0, so a batch's result cannot be split back into "
                f"requests (axis 0 of each: {listing})"
            )
    for role, rules in (("input", contract.inputs), ("output", contract.outputs)):
        for name, rule in rules.items():
            if rule is not None and rule.shape is not None and dim in rule.shape[1:]:
                raise _core.ShapeError(
                    f"{role} {name!r} has dim {dim!r} past axis 0 {_text(rule.shape)}: stacking requests along "
                    "axis 0 would not stack that axis too"
                )
    low, high = contract.bounds.get(dim, (0, None))
    if high is not None and max_batch > high:
        raise _core.InvalidValueError(f"max_batch={max_batch} is over the contract's bound {low} <= {dim} <= {high}")
    inputs = []
    for name, rule in contract.inputs.items():
        assert rule is not None and rule.shape is not None  # axis 0 is dim, checked above
        dtype = None if rule.dtype == "string" else numpy_dtype(rule.dtype)
        rest = rule.shape[1:]
        fixed = tuple(d for d in rest if isinstance(d, int))
        inputs.append(
            BatchInput(
                name,
                rule.dtype,
                dtype,
                rule.shape,
                f"input {name!r}",
                _text(rule.shape),
                fixed if len(fixed) == len(rest) and dtype is not None else None,
            )
        )
    fixed_key = tuple(spec.rest for spec in inputs) if all(spec.rest is not None for spec in inputs) else None
    return BatchPlan(
        dim=dim,
        inputs=tuple(inputs),
        index={spec.name: i for i, spec in enumerate(inputs)},
        outputs=tuple(contract.outputs),
        bounds=dict(contract.bounds),
        fixed_key=fixed_key,  # type: ignore[arg-type]
    )
