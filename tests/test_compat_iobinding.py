"""ortbind.compat's IOBinding against the official binding's on the CPU: inputs bound as arrays, by
address and as OrtValues; outputs bound to the device, to memory and to OrtValues; rebinding and
clearing; a refused run."""

from __future__ import annotations

import numpy as np
import onnxruntime as official
import pytest
from onnx import TensorProto

import ortbind.compat as compat
from support import models
from support.compat import assert_same

X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)
OTHER = np.array([[2.0, 4.0], [6.0, 8.0], [10.0, 12.0]], dtype=np.float32)
W = X  # mul_by_weights multiplies by [[1, 2], [3, 4], [5, 6]]


def session() -> compat.InferenceSession:
    return compat.InferenceSession(models.mul_by_weights(), providers=["CPUExecutionProvider"])


def test_an_array_input_and_an_output_on_the_device() -> None:
    made = session()
    binding = made.io_binding()
    assert binding.get_outputs() == [] and binding.copy_outputs_to_cpu() == []
    binding.bind_cpu_input("X", X)
    binding.bind_output("Y")
    made.run_with_iobinding(binding)
    binding.synchronize_outputs()
    np.testing.assert_array_equal(binding.copy_outputs_to_cpu()[0], X * W)


@pytest.mark.parametrize(
    "dtype",
    [
        np.float32,
        np.float64,
        np.int32,
        np.uint32,
        np.int64,
        np.uint64,
        np.int16,
        np.uint16,
        np.int8,
        np.uint8,
        np.float16,
        np.bool_,
    ],
)
def test_every_numeric_type_bound_as_a_value_and_by_address(dtype: type) -> None:
    x: np.ndarray = np.arange(8).reshape((-1, 2)).astype(dtype)
    model = models.identity(models.ELEMENT_TYPES[np.dtype(dtype).name], shape=[None, 2])
    results = []
    for module in (official, compat):
        made = module.InferenceSession(model, providers=["CPUExecutionProvider"])
        binding = made.io_binding()
        binding.bind_ortvalue_input("x", module.OrtValue.ortvalue_from_numpy(x))
        binding.bind_output("y")
        made.run_with_iobinding(binding)
        by_value = binding.get_outputs()[0].numpy()
        binding = made.io_binding()
        binding.bind_input("x", "cpu", 0, dtype, list(x.shape), x.ctypes.data)
        binding.bind_output("y")
        made.run_with_iobinding(binding)
        results.append((by_value, binding.copy_outputs_to_cpu()[0]))
    assert_same(results[0], results[1])
    np.testing.assert_array_equal(results[1][0], x)


def test_an_input_by_address_and_a_preallocated_output() -> None:
    made = session()
    binding = made.io_binding()
    source = X.copy()
    binding.bind_input("X", "cpu", 0, np.float32, [3, 2], source.ctypes.data)
    binding.synchronize_inputs()
    output = compat.OrtValue.ortvalue_from_shape_and_type([3, 2], np.float32)
    binding.bind_output("Y", "cpu", 0, np.float32, [3, 2], output.data_ptr())
    made.run_with_iobinding(binding)
    np.testing.assert_array_equal(binding.copy_outputs_to_cpu()[0], X * W)
    np.testing.assert_array_equal(output.numpy(), X * W)  # written where it was bound
    assert binding.get_outputs()[0].data_ptr() == output.data_ptr()
    source[:] = OTHER  # bound by address: the next run reads the refill
    made.run_with_iobinding(binding)
    np.testing.assert_array_equal(output.numpy(), OTHER * W)


def test_an_output_on_the_device_can_be_read_again_and_rebound_inputs_count() -> None:
    made = session()
    binding = made.io_binding()
    binding.bind_input("X", "cpu", 0, TensorProto.FLOAT, [3, 2], X.ctypes.data)
    binding.bind_output("Y", "cpu")
    made.run_with_iobinding(binding)
    for _ in range(2):
        outputs = binding.get_outputs()
        assert len(outputs) == 1 and outputs[0].device_name() == "cpu"
        np.testing.assert_array_equal(outputs[0].numpy(), X * W)
    binding.bind_input("X", "cpu", 0, np.float32, [3, 2], OTHER.ctypes.data)
    made.run_with_iobinding(binding)
    np.testing.assert_array_equal(binding.get_outputs()[0].numpy(), OTHER * W)


def test_ortvalues_as_input_and_output() -> None:
    made = session()
    binding = made.io_binding()
    binding.bind_ortvalue_input("X", compat.OrtValue.ortvalue_from_numpy(X))
    output = compat.OrtValue.ortvalue_from_shape_and_type([3, 2], np.float32)
    binding.bind_ortvalue_output("Y", output)
    made.run_with_iobinding(binding)
    np.testing.assert_array_equal(output.numpy(), X * W)
    binding.bind_ortvalue_input("X", compat.OrtValue.ortvalue_from_numpy(OTHER))
    made.run_with_iobinding(binding)
    np.testing.assert_array_equal(output.numpy(), OTHER * W)
    assert binding.get_outputs()[0] is output


def test_refusals_match_the_official_binding() -> None:
    messages = []
    for module in (official, compat):
        made = module.InferenceSession(models.add(), providers=["CPUExecutionProvider"])
        binding = made.io_binding()
        binding.bind_cpu_input("x", np.ones((2, 3), np.float32))
        binding.bind_cpu_input("y", np.ones((2, 3), np.float32))
        with pytest.raises(RuntimeError) as no_output:
            made.run_with_iobinding(binding)
        binding.bind_output("z")
        binding.bind_cpu_input("x", np.ones((2, 3)))
        with pytest.raises(RuntimeError) as wrong_type:
            made.run_with_iobinding(binding)
        with pytest.raises(RuntimeError) as unknown:
            binding.bind_cpu_input("q", np.ones(1))
        with pytest.raises(ValueError, match="`element_type` and `shape` are to be provided") as no_shape:
            binding.bind_output("z", "cpu", 0, np.float32, None, 123)
        other = module.InferenceSession(models.add(), providers=["CPUExecutionProvider"])
        with pytest.raises(ValueError) as foreign:
            other.run_with_iobinding(binding)
        messages.append([str(e.value) for e in (no_output, wrong_type, unknown, no_shape, foreign)])
    theirs, ours = messages
    assert ours[0] == theirs[0] == "Error in execution: At least one output should be requested."
    assert ours[1].startswith(theirs[1])
    assert ours[2:] == theirs[2:]


def test_clearing_bindings() -> None:
    made = session()
    binding = made.io_binding()
    binding.bind_cpu_input("X", X)
    binding.bind_output("Y")
    made.run_with_iobinding(binding)
    binding.clear_binding_outputs()
    assert binding.get_outputs() == []
    binding.bind_output("Y")
    binding.clear_binding_inputs()
    with pytest.raises(RuntimeError, match="Error in execution"):
        made.run_with_iobinding(binding)


def test_a_terminated_run() -> None:
    made = session()
    binding = made.io_binding()
    binding.bind_cpu_input("X", X)
    binding.bind_output("Y")
    options = compat.RunOptions()
    options.terminate = True
    with pytest.raises(RuntimeError, match="Error in execution: Exiting due to terminate flag being set to true"):
        made.run_with_iobinding(binding, options)
