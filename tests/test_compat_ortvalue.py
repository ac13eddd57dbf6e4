"""ortbind.compat's OrtValue and OrtDevice against the official binding's: what a value reports, the
memory it shares with its array, the protocols numpy uses, runs with OrtValues in and out."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as official
import pytest
from onnx import TensorProto

import ortbind.compat as compat
from support import models
from support.compat import assert_same, failure

X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)


def facts(value: Any) -> tuple[Any, ...]:
    return value.device_name(), value.shape(), value.data_type(), value.element_type(), value.is_tensor()


def test_a_value_from_numpy_reports_what_the_official_one_does() -> None:
    for array in (X, np.arange(4, dtype=np.int64), np.array([True, False]), np.array(3, np.int32), np.zeros((2, 0))):
        theirs, ours = official.OrtValue.ortvalue_from_numpy(array), compat.OrtValue.ortvalue_from_numpy(array)
        assert facts(ours) == facts(theirs)
        assert ours.tensor_size_in_bytes() == theirs.tensor_size_in_bytes()
        assert ours.has_value() and not ours.is_sparse_tensor() and not ours.is_tensor_sequence()
        assert_same(theirs.numpy(), ours.numpy())


def test_a_value_reads_its_array_in_place() -> None:
    array = X.copy()
    value = compat.OrtValue.ortvalue_from_numpy(array)
    assert value.data_ptr() == array.ctypes.data
    view = value.numpy()
    array[0, 0] = 100.0
    assert view[0, 0] == 100.0 and view.base is not None
    strided = compat.OrtValue.ortvalue_from_numpy(X[:, ::-1])
    np.testing.assert_array_equal(strided.numpy(), X[:, ::-1])


def test_a_value_is_taken_by_run_and_stays_valid() -> None:
    value = compat.OrtValue.ortvalue_from_numpy(X)
    made = compat.InferenceSession(models.mul_by_weights(), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(made.run(["Y"], {"X": value})[0], X * X)
    np.testing.assert_array_equal(value.numpy(), X)
    outputs = made.run_with_ort_values(["Y"], {"X": value})
    assert isinstance(outputs[0], compat.OrtValue) and outputs[0].data_type() == "tensor(float)"
    np.testing.assert_array_equal(outputs[0].numpy(), X * X)


def test_non_tensor_outputs_as_values() -> None:
    probs = np.ones((2, 3), np.float32)
    theirs = official.InferenceSession(models.zipmap()).run_with_ort_values(
        None, {"probs": official.OrtValue.ortvalue_from_numpy(probs)}
    )
    ours = compat.InferenceSession(models.zipmap()).run_with_ort_values(
        None, {"probs": compat.OrtValue.ortvalue_from_numpy(probs)}
    )
    for name in ("is_tensor", "is_tensor_sequence", "data_type"):
        assert getattr(ours[0], name)() == getattr(theirs[0], name)()
    assert isinstance(failure(ours[0].numpy), RuntimeError) and isinstance(failure(theirs[0].numpy), RuntimeError)


def test_values_with_an_onnx_type_and_from_shape_and_type() -> None:
    typed = compat.OrtValue.ortvalue_from_numpy_with_onnx_type(X, TensorProto.FLOAT)
    assert typed.is_tensor() and typed.element_type() == TensorProto.FLOAT and typed.shape() == [3, 2]
    for element_type in (np.float32, np.dtype("int64"), "int64", TensorProto.INT64, TensorProto.FLOAT16):
        theirs = official.OrtValue.ortvalue_from_shape_and_type([2, 3], element_type)
        ours = compat.OrtValue.ortvalue_from_shape_and_type([2, 3], element_type)
        assert facts(ours) == facts(theirs)
    with pytest.raises(RuntimeError):
        compat.OrtValue.ortvalue_from_shape_and_type([3], np.float32, "cuda", 0)
    with pytest.raises(RuntimeError):
        compat.OrtValue.ortvalue_from_numpy(X, "cuda", 0)


def test_the_array_protocol_shares_memory() -> None:
    value = compat.OrtValue.ortvalue_from_numpy(X)
    as_array = np.asarray(value)
    assert as_array.ctypes.data == value.data_ptr()
    assert np.asarray(value, dtype=np.float32).ctypes.data == value.data_ptr()
    wider = np.asarray(value, dtype=np.float64)
    assert wider.dtype == np.float64 and np.array_equal(wider, X)
    np.testing.assert_array_equal(np.array(value), X)
    for array in (np.array([1, 2, 3], np.int64), np.array([True, False, True])):
        assert np.asarray(compat.OrtValue.ortvalue_from_numpy(array)).dtype == array.dtype


def test_the_dlpack_protocol() -> None:
    value = compat.OrtValue.ortvalue_from_numpy(X)
    assert value.__dlpack_device__() == official.OrtValue.ortvalue_from_numpy(X).__dlpack_device__() == (1, 0)
    again = compat.OrtValue.from_dlpack(value)
    assert again.data_ptr() == value.data_ptr()
    np.testing.assert_array_equal(np.from_dlpack(value), X)
    flags = compat.OrtValue.from_dlpack(compat.OrtValue.ortvalue_from_numpy(np.array([True, False])))
    assert flags.numpy().dtype == np.bool_
    for shape in ((1, 8, 0, 128), (0,), (0, 4), (4, 0)):
        assert compat.OrtValue.from_dlpack(np.zeros(shape, np.float32)).shape() == list(shape)


def test_update_in_place() -> None:
    value = compat.OrtValue.ortvalue_from_shape_and_type([2, 2], np.float32)
    value.update_inplace(np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(value.numpy(), np.ones((2, 2)))
    value.update_inplace(compat.OrtValue.ortvalue_from_numpy(np.full((2, 2), 3.0, np.float32)))
    np.testing.assert_array_equal(value.numpy(), np.full((2, 2), 3.0))
    with pytest.raises(RuntimeError, match="does not match the size"):
        value.update_inplace(np.ones((3, 2), np.float32))
    # The official binding copies the bytes of another dtype as they are; compat refuses.
    with pytest.raises(TypeError, match="update_inplace copies elements of float32, not float64"):
        value.update_inplace(np.ones((2, 2)))


def test_devices() -> None:
    for name in ("cpu", "cuda"):
        theirs, ours = official.OrtDevice.make(name, 0), compat.OrtDevice.make(name, 0)
        for method in ("device_id", "device_type", "device_vendor_id", "device_mem_type"):
            assert getattr(ours, method)() == getattr(theirs, method)(), (name, method)
    assert int(compat.OrtDeviceVendorId.NVIDIA) == 0x10DE
