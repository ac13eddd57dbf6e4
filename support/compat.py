"""What the compat tests share: one model made into a session by the official binding and by
ortbind.compat, and the comparison of what each gave back.

The official binding is imported here under its own name; compat is used as ``import ortbind.compat``
and never installed in the test process (the install tests run in child programs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnxruntime as official

import ortbind.compat as compat


def make_both(model: bytes | str, configure: Callable[[Any], None] | None = None, **kwargs: Any) -> tuple[Any, Any]:
    """The official session and compat's, each with its own SessionOptions set by ``configure``."""
    made = []
    for module in (official, compat):
        options = module.SessionOptions()
        if configure is not None:
            configure(options)
        made.append(module.InferenceSession(model, options, providers=["CPUExecutionProvider"], **kwargs))
    return made[0], made[1]


def assert_same(theirs: Any, ours: Any) -> None:
    """Bit for bit the same values, of the same types (arrays: dtype, shape and bytes; object
    arrays: their items)."""
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(theirs, np.ndarray):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (ours, theirs)
        if theirs.dtype == object:
            assert ours.tolist() == theirs.tolist()
        else:
            assert ours.tobytes() == theirs.tobytes(), (ours, theirs)
    elif isinstance(theirs, list | tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(theirs, ours, strict=True):
            assert_same(a, b)
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for key in theirs:
            assert_same(theirs[key], ours[key])
    else:
        assert ours == theirs


def run_both(
    pair: tuple[Any, Any], feeds: dict[str, Any], outputs: Sequence[str] | None = None
) -> tuple[list[Any], list[Any]]:
    """Runs both sessions on the same feeds, checks they agree, and returns both results."""
    theirs, ours = pair[0].run(outputs, feeds), pair[1].run(outputs, feeds)
    assert_same(theirs, ours)
    return theirs, ours


def failure(call: Callable[..., Any], *args: Any) -> Exception:
    """The exception ``call(*args)`` raises (it must raise one)."""
    try:
        call(*args)
    except Exception as error:
        return error
    raise AssertionError("expected an exception")
