"""``IOBinding``: inputs and outputs bound by name once, then run as often as wanted.

compat keeps the bindings itself and runs them through ortbind's ``Session.run`` with ``out=``:
an input is read from the bound array or memory at every run (refill it in place between runs),
an output bound to memory (``bind_output`` with a pointer, ``bind_ortvalue_output``) is written
there, and an output bound to the device alone is a fresh array after each run (the official
binding writes later runs into the first run's buffer, under the values already handed out).
Memory given by address must stay valid while it is bound, as in the official binding. Everything
lives on the CPU; another device is refused.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._convert import numpy_dtype
from ..errors import Error
from ._types import element_from_any
from .errors import OrtRuntimeError
from .ortvalue import OrtValue

if TYPE_CHECKING:
    from .options import RunOptions
    from .session import Session


def _cpu(device_type: str) -> None:
    if device_type.lower() != "cpu":
        raise OrtRuntimeError(f"ortbind.compat binds values on the CPU only, not on '{device_type}'")


def _array_at(buffer_ptr: int, element_type: Any, shape: Sequence[int]) -> np.ndarray[Any, Any]:
    """A numpy array over ``prod(shape)`` elements at ``buffer_ptr``, which the caller owns."""
    element = element_from_any(element_type)
    if element == "string":
        raise OrtRuntimeError("string tensors cannot be bound by address")
    dtype = numpy_dtype(element)
    count = math.prod(shape)
    if count == 0:
        return np.empty(tuple(shape), dtype=dtype)
    memory = (ctypes.c_byte * (count * dtype.itemsize)).from_address(buffer_ptr)
    array: np.ndarray[Any, Any] = np.frombuffer(memoryview(memory), dtype=dtype, count=count)
    return array.reshape(tuple(shape))


class IOBinding:
    """Inputs and outputs of one session bound by name (``session.io_binding()``)."""

    def __init__(self, session: Session) -> None:
        self._owner = session
        self._session = session._sess  # the native session it runs: run_with_iobinding checks it is its own
        self._inputs: dict[str, Any] = {}
        # Each bound output: None to let the run allocate it, else the array the run writes into.
        self._outputs: dict[str, np.ndarray[Any, Any] | None] = {}
        self._bound_ortvalues: dict[str, OrtValue] = {}
        self._results: list[OrtValue] = []

    def _known_input(self, name: str) -> None:
        if name not in self._owner._specs:
            raise OrtRuntimeError(f"Failed to find NodeArg with name: {name} in the def list")

    def bind_cpu_input(self, name: str, arr_on_cpu: np.ndarray[Any, Any]) -> None:
        """Binds the array itself: every run reads it as it is then."""
        self._known_input(name)
        if not isinstance(arr_on_cpu, np.ndarray):
            raise OrtRuntimeError("Unable to create OrtValue from the given python object")
        self._inputs[name] = arr_on_cpu

    def bind_input(
        self,
        name: str,
        device_type: str,
        device_id: int,
        element_type: Any,
        shape: Sequence[int],
        buffer_ptr: int,
    ) -> None:
        """Binds ``prod(shape)`` elements at address ``buffer_ptr`` (a numpy dtype or an ONNX code)."""
        _cpu(device_type)
        self._known_input(name)
        self._inputs[name] = _array_at(buffer_ptr, element_type, shape)

    def bind_ortvalue_input(self, name: str, ortvalue: OrtValue) -> None:
        self._known_input(name)
        self._inputs[name] = ortvalue._value

    def bind_output(
        self,
        name: str,
        device_type: str = "cpu",
        device_id: int = 0,
        element_type: Any = None,
        shape: Sequence[int] | None = None,
        buffer_ptr: int | None = None,
    ) -> None:
        """Binds an output to the device (each run allocates it) or to memory at ``buffer_ptr``."""
        _cpu(device_type)
        if buffer_ptr is None:
            self._outputs[name] = None
        elif element_type is None or shape is None:
            raise ValueError("`element_type` and `shape` are to be provided if pre-allocated memory is provided")
        else:
            self._outputs[name] = _array_at(buffer_ptr, element_type, shape)
        self._bound_ortvalues.pop(name, None)

    def bind_ortvalue_output(self, name: str, ortvalue: OrtValue) -> None:
        """Binds an output to an OrtValue's tensor: each run writes into it."""
        self._outputs[name] = ortvalue._tensor("bind_ortvalue_output")
        self._bound_ortvalues[name] = ortvalue

    def synchronize_inputs(self) -> None:
        """Nothing to wait for: values on the CPU are ready when bound."""

    def synchronize_outputs(self) -> None:
        """Nothing to wait for: a run's outputs on the CPU are ready when it returns."""

    def get_outputs(self) -> list[OrtValue]:
        """The outputs of the last run, in the order they were bound."""
        return list(self._results)

    def copy_outputs_to_cpu(self) -> list[Any]:
        """Copies of the last run's outputs, as numpy arrays (or lists and dicts)."""
        return [value.numpy().copy() if value.is_tensor() else value._value for value in self._results]

    def clear_binding_inputs(self) -> None:
        self._inputs.clear()

    def clear_binding_outputs(self) -> None:
        self._outputs.clear()
        self._bound_ortvalues.clear()
        self._results = []

    def _run(self, run_options: RunOptions | None) -> None:
        if not self._outputs:
            raise OrtRuntimeError("Error in execution: At least one output should be requested.")
        names = list(self._outputs)
        out = {name: array for name, array in self._outputs.items() if array is not None}
        owner = self._owner
        try:
            arguments = run_options.run_arguments() if run_options is not None else {}
            result = owner._sess.run(self._inputs, names, out=out or None, **arguments)
        except Error as error:
            text = owner._refusal_text(error, self._inputs, names, run_options)
            raise OrtRuntimeError(f"Error in execution: {text}") from error
        types = owner._output_types
        self._results = [
            self._bound_ortvalues.get(name) or OrtValue(value, types.get(name)) for name, value in result.items()
        ]
