"""run() passes the buffers of outputs Python has dropped back to the runtime to write into
(cpp/output_pool.hpp): never one still viewed, never one of another shape, and a run refused for an
output of data-dependent size is run again, giving what the official binding gives."""

from __future__ import annotations

import ctypes
import gc
import threading
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import ortbind
from support import models


def _value_of(array: np.ndarray[Any, Any]) -> tuple[int, bool]:
    """The OrtValue an output array's base owns, and whether that base gives it back to a pool."""
    capsule = ctypes.py_object(array.base)
    value = ctypes.pythonapi.PyCapsule_GetPointer(capsule, b"ortbind.OrtValue")
    context = ctypes.pythonapi.PyCapsule_GetContext(capsule)
    return value, context is not None


ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
ctypes.pythonapi.PyCapsule_GetContext.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetContext.argtypes = [ctypes.py_object]


def test_a_dropped_output_is_the_next_runs_output() -> None:
    session = ortbind.Session(models.add_one_element())
    first = session.run({"x": np.array([1.0], np.float32)})["y"]
    value, pooled = _value_of(first)
    assert pooled
    del first
    second = session.run({"x": np.array([2.0], np.float32)})["y"]
    assert _value_of(second) == (value, True), "the dropped output's value was not passed back"
    assert second.tolist() == [4.0]


def test_reuse_outputs_false_leaves_every_output_to_the_runtime() -> None:
    session = ortbind.Session(models.add_one_element(), reuse_outputs=False)
    for i in range(3):
        y = session.run({"x": np.array([float(i)], np.float32)})["y"]
        assert y.tolist() == [2.0 * i] and not _value_of(y)[1]


def test_an_output_or_a_view_still_held_is_never_written_again() -> None:
    session = ortbind.Session(models.add(("batch", 3)))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    kept = session.run({"x": x, "y": x})["z"]
    view = session.run({"x": x + 1, "y": x})["z"][1:]  # the base array is gone, its view is not
    expected_kept, expected_view = kept.copy(), (x + 1 + x)[1:].copy()
    for i in range(50):  # outputs dropped at once: their buffers go round
        z = session.run({"x": x * i, "y": x})["z"]
        np.testing.assert_array_equal(z, x * i + x)
    np.testing.assert_array_equal(kept, expected_kept)
    np.testing.assert_array_equal(view, expected_view)


def test_alternating_input_shapes_keep_buffers_for_each() -> None:
    session = ortbind.Session(models.add(("batch", 3)))
    values: dict[int, int] = {}
    for batch in (1, 2, 3, 1, 2, 3):
        x = np.ones((batch, 3), np.float32)
        value, pooled = _value_of(session.run({"x": x, "y": x})["z"])
        assert pooled
        assert values.setdefault(batch, value) == value, f"batch {batch} did not get its own buffer back"


def test_other_input_shapes_get_buffers_of_their_own() -> None:
    session = ortbind.Session(models.add(("batch", 3)))
    official = ort.InferenceSession(models.add(("batch", 3)), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for batch in [1, 1, 4, 4, 1, 2, 4, 2, 2, 1]:
        x = rng.standard_normal((batch, 3)).astype(np.float32)
        got = session.run({"x": x, "y": x})["z"]
        (want,) = official.run(None, {"x": x, "y": x})
        assert got.shape == want.shape and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("via", ["run", "binding"])
def test_an_output_of_data_dependent_size_is_run_again_and_right(via: str, capfd: pytest.CaptureFixture[str]) -> None:
    # Same input shape, another count of nonzero elements: the buffer passed back has the last
    # run's shape, the runtime refuses it, and ortbind runs the model again with fresh outputs,
    # without the runtime logging the refusal as an error. Through run() and through a binding.
    session = ortbind.Session(models.nonzero())
    official = ort.InferenceSession(models.nonzero(), providers=["CPUExecutionProvider"])
    run = session.run if via == "run" else session.bind().run
    for values in ([1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 0], [1, 1, 1, 0]):
        x = np.array(values, np.float32)
        # With a time limit and a token, which the second attempt keeps.
        got = run({"x": x}, timeout=60.0, cancel=ortbind.CancelToken())["y"]
        (want,) = official.run(None, {"x": x})
        assert got.shape == want.shape and got.tobytes() == want.tobytes()
        del got
        gc.collect()
    assert "onnxruntime" not in capfd.readouterr().err
    # Refused once, the session no longer passes buffers back.
    assert not _value_of(run({"x": np.ones(4, np.float32)})["y"])[1]


def test_outputs_outlive_a_closed_and_freed_session() -> None:
    session = ortbind.Session(models.add_one_element())
    results = [session.run({"x": np.array([float(i)], np.float32)})["y"] for i in range(3)]
    dropped = session.run({"x": np.array([9.0], np.float32)})
    session.close()
    del dropped  # given back after close: freed, not kept
    del session
    gc.collect()
    assert [r.tolist() for r in results] == [[0.0], [2.0], [4.0]]
    del results  # given back to a pool that is gone: freed
    gc.collect()


def test_threads_with_their_own_batch_sizes_share_one_session() -> None:
    # Each thread's input shape differs, so the pool moves between shapes under the other threads'
    # runs: an output must go back to the shapes it was made for, never to the current ones.
    session = ortbind.Session(models.add(("batch", 3)), intra_op_threads=1)
    errors: list[BaseException] = []

    def work(batch: int) -> None:
        try:
            rng = np.random.default_rng(batch)
            for _ in range(300):
                x = rng.standard_normal((batch, 3)).astype(np.float32)
                z = session.run({"x": x, "y": x})["z"]
                assert z.shape == (batch, 3)
                np.testing.assert_array_equal(z, x + x)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(batch,)) for batch in (1, 2, 3, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]


def _model(nodes: list[onnx.NodeProto], inputs: list[str], outputs: list[str], inits: list[onnx.TensorProto]) -> bytes:
    graph = helper.make_graph(
        nodes,
        "fed_outputs",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in outputs],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


@pytest.mark.parametrize("kind", ["graph input", "overridable initializer"])
def test_an_output_that_is_a_fed_input_is_a_copy_and_never_written_into(kind: str) -> None:
    # A run that feeds a value also listed as an output returns the feed's own OrtValue, over the
    # caller's buffer: the output must be an array of its own, and that buffer must never be passed
    # back to a later run (which would write into the caller's array, or return it unwritten).
    if kind == "graph input":
        model = _model([helper.make_node("Add", ["x", "w"], ["y"])], ["x", "w"], ["y", "w"], [])
    else:
        w0 = numpy_helper.from_array(np.zeros(2, np.float32), "w")
        model = _model([helper.make_node("Add", ["x", "w"], ["y"])], ["x", "w"], ["y", "w"], [w0])
    session = ortbind.Session(model)
    official = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    kept = np.array([7.0, 7.0], np.float32)
    first = session.run({"x": np.ones(2, np.float32), "w": kept})
    assert not np.shares_memory(first["w"], kept)
    del first
    gc.collect()
    for i in range(4):
        feeds = {"x": np.full(2, i, np.float32), "w": np.full(2, 10.0 + i, np.float32)}
        got = session.run(feeds)
        want = dict(zip(["y", "w"], official.run(None, feeds), strict=True))
        assert all(got[k].tobytes() == want[k].tobytes() for k in want), (got, want)
        del got
        gc.collect()
    assert kept.tolist() == [7.0, 7.0]


def test_sessions_with_another_provider_leave_outputs_to_the_runtime() -> None:
    # Another provider's outputs reach a buffer passed in by a copy from the device, which refuses a
    # wrong shape in other words: the pool is for CPU sessions only.
    if "AzureExecutionProvider" not in ortbind.runtime.available_providers():
        pytest.skip("this ONNX Runtime has no provider besides the CPU's")
    session = ortbind.Session(models.add_one_element(), providers=["AzureExecutionProvider", "CPUExecutionProvider"])
    for i in range(3):
        y = session.run({"x": np.array([float(i)], np.float32)})["y"]
        assert y.tolist() == [2.0 * i] and not _value_of(y)[1]


def test_a_binding_binds_dropped_outputs_for_its_next_run() -> None:
    session = ortbind.Session(models.add(("batch", 3)))
    x = np.ones((2, 3), np.float32)
    binding = session.bind(inputs={"y": x})
    # The binding hands back its own reference to a bound value (another OrtValue over the same
    # buffer), so the buffer is what shows; that it was bound, not allocated anew, shows in the next
    # test, where ONNX Runtime refuses one.
    first = binding.run({"x": x})["z"]
    address, pooled = first.ctypes.data, _value_of(first)[1]
    kept = binding.run({"x": x * 2})["z"]  # held: never bound again
    assert pooled and kept.ctypes.data != address
    del first
    second = binding.run({"x": x * 3})["z"]
    assert second.ctypes.data == address and _value_of(second)[1]
    np.testing.assert_array_equal(second, x * 3 + x)
    np.testing.assert_array_equal(kept, x * 2 + x)


def test_a_binding_with_preallocated_outputs_leaves_the_pool_to_its_refusals() -> None:
    # A caller's out= array of the wrong shape is refused in the same words as a buffer passed back:
    # a binding with out= arrays passes nothing back (as run(out=)), so the error is the caller's,
    # raised after one run, and the session's pool stays on.
    graph = helper.make_graph(
        [helper.make_node("NonZero", ["x"], ["nz"]), helper.make_node("Add", ["x", "x"], ["w"])],
        "nonzero_and_add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
        [
            helper.make_tensor_value_info("nz", TensorProto.INT64, [1, "k"]),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, ["n"]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    session = ortbind.Session(model.SerializeToString())
    binding = session.bind(out={"nz": np.zeros((1, 2), np.int64)})
    binding.run({"x": np.array([1, 0, 1, 0], np.float32)})
    with pytest.raises(ortbind.Error, match="computed output shape"):
        binding.run({"x": np.array([1, 1, 1, 0], np.float32)})
    assert _value_of(session.run({"x": np.ones(4, np.float32)})["w"])[1]


def test_a_binding_keys_bound_inputs_by_the_shape_bound() -> None:
    # ONNX Runtime reads a bound input with the shape it had when bound, whatever the array's shape
    # says later: the buffers of that binding's outputs are filed under the shape bound.
    session = ortbind.Session(models.add(shape=[None, None]))
    y = np.ones((2, 3), np.float32)
    binding = session.bind(inputs={"y": y})
    x = np.ones((1, 1), np.float32)
    y.shape = (3, 2)
    z = binding.run({"x": x})["z"]
    assert z.shape == (2, 3) and _value_of(z)[1]
    del z
    z = session.run({"x": x, "y": np.ones((3, 2), np.float32)})["z"]
    assert z.shape == (3, 2)
    del z
    assert _value_of(session.run({"x": x, "y": np.ones((3, 2), np.float32)})["z"])[1], "the pool was turned off"


def test_outputs_that_break_their_declared_shape_are_left_to_the_runtime() -> None:
    # ONNX Runtime checks a buffer passed in against the output's declared shape before the run,
    # and real models declare shapes their outputs do not have (a PyPI OCR model declares 19 where
    # its output has 20): such outputs are never passed back, those that fit their declaration are.
    session = ortbind.Session(models.mislabelled_output())  # y = x, declared float[1, 5]
    official = ort.InferenceSession(models.mislabelled_output(), providers=["CPUExecutionProvider"])
    for shape in [(2, 3), (2, 3), (2, 3), (1, 5), (1, 5), (1, 5)]:
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        y = session.run({"x": x})["y"]
        assert y.tobytes() == official.run(None, {"x": x})[0].tobytes() and y.shape == shape
        assert _value_of(y)[1] == (shape == (1, 5))
        del y
