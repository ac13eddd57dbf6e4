"""What a :class:`~ortbind.Batcher` knows of its model: the dim it batches along, the shape groups
its requests fall into, and the check of one request before it joins a batch.

The check is the session's own (``_core``'s ``_check_feeds``: the run's feed check and conversion,
without the run), made on the request alone: a batch is checked again when it runs, but by then one
bad request would fail every request stacked with it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._convert import numpy_dtype
from .contracts import Contract, TensorContract, is_placeholder
from .session import CheckedSession, Session

Dim = int | str | None
Key = tuple[tuple[int, ...], ...]
Arrays = tuple[np.ndarray[Any, Any], ...]


@dataclass(frozen=True)
class BatchPlan:
    dim: str
    names: tuple[str, ...]  # the model's inputs, in its order: the order of a request's arrays
    dtypes: tuple[np.dtype[Any] | None, ...]  # per input; None for strings, whose width varies
    outputs: tuple[str, ...]
    initializers: tuple[str, ...]  # the session's overridable initializers, which no request may feed
    fixed_key: Key | None  # every input's dims past axis 0 are fixed: all requests stack together
    check_feeds: Callable[[Any], tuple[Any, ...]]  # the session's run check, under its contract

    def check(self, feeds: Any) -> tuple[Arrays, int, Key]:
        """The request's arrays in input order, its rows, and the key of the requests it stacks with.

        Raises what ``run`` would raise for these feeds alone (names, kinds, dtypes, shapes against
        the contract), without running anything.
        """
        arrays = self.check_feeds(feeds)
        if len(arrays) > len(self.names):  # the session's overridable initializers follow its inputs
            self._refuse_initializers(arrays[len(self.names) :])
            arrays = arrays[: len(self.names)]
        rows = arrays[0].shape[0]  # every input has the batch dim at axis 0, bound to one value
        key = self.fixed_key
        if key is None:
            key = tuple([array.shape[1:] for array in arrays])
        return arrays, rows, key

    def _refuse_initializers(self, fed: Sequence[Any]) -> None:
        named = [repr(name) for name, array in zip(self.initializers, fed, strict=True) if array is not None]
        if named:
            raise _core.NameMismatchError(
                f"the request feeds the overridable initializer {', '.join(named)}: a batcher feeds only the "
                f"model's inputs ({', '.join(map(repr, self.names))}), whose rows it stacks along {self.dim!r}"
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


def plan(session: Session | CheckedSession, dim: str | None, max_batch: int) -> BatchPlan:
    """The plan for batching along ``dim`` (or the dim every input and output has at axis 0)."""
    contract: Contract = session.contract
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
    core = session.session if isinstance(session, CheckedSession) else session
    input_names = core.input_names
    assert input_names == tuple(contract.inputs)  # a contract lists the model's inputs in the model's order
    rests: list[tuple[int, ...] | None] = []
    dtypes: list[np.dtype[Any] | None] = []
    for rule in contract.inputs.values():
        assert rule is not None and rule.shape is not None  # axis 0 is dim, checked above
        dtypes.append(None if rule.dtype == "string" else numpy_dtype(rule.dtype))
        rest = rule.shape[1:]
        fixed = tuple(d for d in rest if isinstance(d, int))
        rests.append(fixed if len(fixed) == len(rest) else None)
    fixed_key = tuple(rests) if all(rest is not None for rest in rests) else None
    return BatchPlan(
        dim=dim,
        names=input_names,
        dtypes=tuple(dtypes),
        outputs=tuple(contract.outputs),
        initializers=tuple(spec.name for spec in core.overridable_initializers),
        fixed_key=fixed_key,  # type: ignore[arg-type]
        # A CheckedSession's requests are checked under its own contract, as its runs are.
        check_feeds=(
            functools.partial(core._check_feeds, contract=session._compiled)
            if isinstance(session, CheckedSession)
            else core._check_feeds
        ),
    )
