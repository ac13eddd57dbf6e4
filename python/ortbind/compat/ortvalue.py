"""``OrtValue`` and ``OrtDevice``: a value a run takes or gives, on the CPU, over a numpy array.

An ``OrtValue`` made from a numpy array holds that array and reads it in place, as the official
binding's does (``data_ptr()`` is the array's address, ``numpy()`` a view of it), so a run that takes
it copies nothing. Values a run gives back (``run_with_ort_values``, ``IOBinding.get_outputs``) hold
the output array, or the list or dict of a sequence or map output, with the model's type for it.

Where the official binding reinterprets bytes without a word (``update_inplace`` from an array of
another dtype), compat refuses instead; where it refuses a value ortbind can take (a string array),
compat takes it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from .._convert import ELEMENT_TYPES, numpy_dtype
from ..errors import NotImplementedInRuntime
from ._types import element_from_any, element_of, tensor_type
from .errors import OrtRuntimeError


class OrtDeviceVendorId(enum.IntEnum):
    """PCI vendor ids, as ONNX Runtime's OrtDevice names them."""

    NONE = 0x0000
    AMD = 0x1002
    NVIDIA = 0x10DE
    ARM = 0x13B5
    MICROSOFT = 0x1414
    HUAWEI = 0x19E5
    QUALCOMM = 0x5143
    INTEL = 0x8086


# ONNX Runtime's OrtDevice types, and the device names that map to each (with their vendor).
_DEVICE_TYPES = {"cpu": 0, "gpu": 1, "cuda": 1, "dml": 1, "webgpu": 1, "fpga": 2, "npu": 3, "cann": 3}
_VENDORS = {
    "cuda": OrtDeviceVendorId.NVIDIA,
    "dml": OrtDeviceVendorId.MICROSOFT,
    "cann": OrtDeviceVendorId.HUAWEI,
    "webgpu": OrtDeviceVendorId.NONE,
}


class OrtDevice:
    """Where a value lives: a device type, a vendor, an id and a memory type. compat keeps values on
    the CPU only; other devices can be described (``OrtDevice.make("cuda", 0)``) but hold nothing."""

    def __init__(self, device_type: int, vendor_id: int, device_id: int, mem_type: int = 0) -> None:
        self._device_type = device_type
        self._vendor_id = vendor_id
        self._device_id = device_id
        self._mem_type = mem_type

    @staticmethod
    def make(ort_device_name: str, device_id: int, vendor_id: int = -1) -> OrtDevice:
        name = ort_device_name.lower()
        if name not in _DEVICE_TYPES:
            raise OrtRuntimeError(f"Unsupported device type: {ort_device_name}")
        vendor = vendor_id if vendor_id >= 0 else int(_VENDORS.get(name, OrtDeviceVendorId.NONE))
        return OrtDevice(_DEVICE_TYPES[name], vendor, device_id)

    def device_id(self) -> int:
        return self._device_id

    def device_type(self) -> int:
        return self._device_type

    def device_vendor_id(self) -> int:
        return self._vendor_id

    def device_mem_type(self) -> int:
        return self._mem_type


def _cpu_only(device_type: str) -> None:
    if device_type.lower() != "cpu":
        raise OrtRuntimeError(
            f"Can't allocate memory on the device '{device_type}' with ortbind.compat, which keeps values "
            "on the CPU; use the session's execution provider to run on the device"
        )


class OrtValue:
    """A tensor (a numpy array held in place), or a sequence, map or absent optional a run gave."""

    __slots__ = ("_type", "_value")

    def __init__(self, value: Any, value_type: str | None = None) -> None:
        self._value = value
        self._type = value_type

    @classmethod
    def ortvalue_from_numpy(
        cls, numpy_obj: np.ndarray[Any, Any], /, device_type: str = "cpu", device_id: int = 0, vendor_id: int = -1
    ) -> OrtValue:
        """An OrtValue over ``numpy_obj`` (read in place when C-contiguous, else over a contiguous copy)."""
        _cpu_only(device_type)
        if not isinstance(numpy_obj, np.ndarray):
            raise OrtRuntimeError("Creation of OrtValues is currently only supported from numpy arrays")
        if element_of(numpy_obj.dtype) is None:
            raise OrtRuntimeError(f"numpy dtype {numpy_obj.dtype} is not an ONNX element type")
        return cls(np.asarray(numpy_obj, order="C"))

    @classmethod
    def ortvalue_from_numpy_with_onnx_type(cls, data: np.ndarray[Any, Any], /, onnx_element_type: int) -> OrtValue:
        """An OrtValue over ``data``'s bytes read as ONNX element type ``onnx_element_type``, which must
        have the same size per element (uint16 data as bfloat16, say)."""
        element = element_from_any(onnx_element_type)
        target = numpy_dtype(element)
        array = np.asarray(data, order="C")
        if target.itemsize != array.dtype.itemsize:
            raise OrtRuntimeError(
                f"{tensor_type(element)} takes {target.itemsize} bytes per element, the array's "
                f"{array.dtype} has {array.dtype.itemsize}"
            )
        return cls(array.view(target))

    @classmethod
    def ortvalue_from_shape_and_type(
        cls,
        shape: Sequence[int],
        element_type: Any,
        device_type: str = "cpu",
        device_id: int = 0,
        vendor_id: int = -1,
        memory_info: Any = None,
    ) -> OrtValue:
        """A tensor of this shape and element type (a numpy dtype or an ONNX code), zero-filled."""
        _cpu_only(device_type)
        element = element_from_any(element_type)
        if element == "string":
            return cls(np.full(tuple(shape), "", dtype=object))
        return cls(np.zeros(tuple(shape), dtype=numpy_dtype(element)))

    @classmethod
    def from_dlpack(cls, data: Any, /) -> OrtValue:
        """An OrtValue over the memory of an object that implements the DLPack protocol (a numpy array,
        a CPU tensor of another library, another OrtValue), without a copy."""
        if not hasattr(data, "__dlpack__"):
            raise TypeError("from_dlpack takes an object with __dlpack__ (a raw DLPack capsule is not supported)")
        return cls(np.from_dlpack(data))

    @classmethod
    def ort_value_from_sparse_tensor(cls, sparse_tensor: Any) -> OrtValue:
        raise NotImplementedInRuntime("ortbind.compat has no sparse tensors")

    # --- what the value is ----------------------------------------------------------------------

    def _tensor(self, what: str) -> np.ndarray[Any, Any]:
        if not isinstance(self._value, np.ndarray):
            raise OrtRuntimeError(f"{what} needs an OrtValue that holds a tensor, this one holds {self.data_type()}")
        return self._value

    def is_tensor(self) -> bool:
        return isinstance(self._value, np.ndarray)

    def is_sparse_tensor(self) -> bool:
        return False

    def is_tensor_sequence(self) -> bool:
        return isinstance(self._value, list) and all(isinstance(v, np.ndarray) for v in self._value)

    def has_value(self) -> bool:
        return self._value is not None

    def data_type(self) -> str:
        if isinstance(self._value, np.ndarray):
            return tensor_type(element_of(self._value.dtype) or str(self._value.dtype))
        return self._type or "unknown"

    def element_type(self) -> int:
        element = element_of(self._tensor("element_type()").dtype)
        return ELEMENT_TYPES[element].code if element is not None else 0

    def shape(self) -> list[int]:
        return list(self._tensor("shape()").shape)

    def device_name(self) -> str:
        return "cpu"

    def data_ptr(self) -> int:
        array = self._tensor("data_ptr()")
        if array.dtype.kind in "UOSV":
            raise OrtRuntimeError("a string tensor has no data pointer of ONNX Runtime's layout")
        address: int = array.ctypes.data
        return address

    def tensor_size_in_bytes(self) -> int:
        array = self._tensor("tensor_size_in_bytes()")
        if array.dtype.kind in "UOSV":
            raise OrtRuntimeError("the size in bytes of a string tensor is not defined")
        return int(array.nbytes)

    def numpy(self) -> np.ndarray[Any, Any]:
        """The tensor as a numpy array over the value's own memory (strings as an object array, as the
        official binding gives them)."""
        array = self._tensor("numpy()")
        view: np.ndarray[Any, Any] = array.astype(object) if array.dtype.kind == "U" else array.view()
        return view

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        array = self.numpy()
        if copy is not None:
            array = np.array(array, dtype=dtype, copy=copy)
        elif dtype is not None:
            array = np.asarray(array, dtype=dtype)
        return array

    def __dlpack__(self, *, stream: Any = None) -> Any:
        return self._tensor("__dlpack__").__dlpack__(stream=stream)

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # kDLCPU, device 0

    def update_inplace(self, data: Any) -> None:
        """Copies ``data`` (a numpy array or an OrtValue of the same element type and size) into this
        tensor's memory."""
        target = self._tensor("update_inplace()")
        source = data._tensor("update_inplace()") if isinstance(data, OrtValue) else data
        if not isinstance(source, np.ndarray):
            raise TypeError("data must be a numpy.ndarray or an OrtValue.")
        if source.dtype != target.dtype:
            raise _core.DTypeError(
                f"update_inplace copies elements of {target.dtype}, not {source.dtype} (their bytes would be "
                "read as another type)"
            )
        if source.size != target.size:
            raise OrtRuntimeError("The input size of numpy arrays does not match the size of the OrtValue.")
        np.copyto(target, source.reshape(target.shape))

    def as_sparse_tensor(self) -> Any:
        raise NotImplementedInRuntime("ortbind.compat has no sparse tensors")

    def __repr__(self) -> str:
        return f"<ortbind.compat.OrtValue {self.data_type()}>"
