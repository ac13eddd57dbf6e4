"""Weights shared across sessions: initializers from the caller's arrays (kept alive by the session)
and a PrepackedWeights container; overridable initializers fed by name. Each compared with the
official binding where it has the feature."""

from __future__ import annotations

import gc
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import ortbind
from support import models


def mlp_weights(model: bytes, scale: float = 2.0) -> dict[str, np.ndarray[Any, Any]]:
    """The model's initializers, scaled: replacing them must change the answer."""
    graph = onnx.load_from_string(model).graph
    return {init.name: (numpy_helper.to_array(init) * scale).astype(np.float32) for init in graph.initializer}


def official(model: bytes, initializers: dict[str, np.ndarray[Any, Any]] | None = None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    values = []
    for name, array in (initializers or {}).items():
        value = ort.OrtValue.ortvalue_from_numpy(array)
        values.append(value)  # the official binding also needs them alive
        options.add_initializer(name, value)
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    session._kept = values
    return session


X = np.random.default_rng(1).standard_normal((4, 64)).astype(np.float32)


def test_initializers_from_arrays_match_the_official_binding() -> None:
    model = models.mlp()
    weights = mlp_weights(model)
    ours = ortbind.Session(model, initializers=weights).run({"x": X})["probs"]
    theirs = official(model, weights).run(None, {"x": X})[0]
    np.testing.assert_array_equal(ours, theirs)
    assert not np.array_equal(ours, ortbind.Session(model).run({"x": X})["probs"])


def test_session_keeps_the_arrays_alive() -> None:
    model = models.mlp()
    expected = ortbind.Session(model, initializers=mlp_weights(model)).run({"x": X})["probs"]
    session = ortbind.Session(model, initializers=mlp_weights(model))  # no other reference to the arrays
    gc.collect()
    np.testing.assert_array_equal(session.run({"x": X})["probs"], expected)


def test_arrays_are_released_with_the_session() -> None:
    model = models.mlp()
    weights = mlp_weights(model)
    before = {name: sys.getrefcount(array) for name, array in weights.items()}
    for _ in range(3):
        session = ortbind.Session(model, initializers=weights, prepacked_weights=ortbind.PrepackedWeights())
        session.run({"x": X})
        session.close()
        del session
    gc.collect()
    assert {name: sys.getrefcount(array) for name, array in weights.items()} == before


def test_arrays_are_read_in_place() -> None:
    # Optimization off: constant folding would copy the weights into new initializers.
    model = models.mlp()
    weights = mlp_weights(model, scale=1.0)
    session = ortbind.Session(model, initializers=weights, optimization="disabled",
                              config={"session.disable_prepacking": "1"})  # fmt: skip
    before = session.run({"x": X})["probs"].copy()
    weights["b2"][:] += 100.0  # the session reads the caller's buffer
    after = session.run({"x": X})["probs"]
    assert not np.array_equal(before, after)


def test_non_contiguous_arrays_are_copied_once() -> None:
    model = models.mlp()
    weights = mlp_weights(model)
    strided = {**weights, "w1": np.asfortranarray(weights["w1"])}
    np.testing.assert_array_equal(
        ortbind.Session(model, initializers=strided).run({"x": X})["probs"],
        ortbind.Session(model, initializers=weights).run({"x": X})["probs"],
    )


def test_initializer_of_another_dtype_fails_the_run_as_in_the_official_binding() -> None:
    # ONNX Runtime checks a supplied initializer against the model only when a kernel reads it.
    model = models.mlp()
    weights = mlp_weights(model)
    weights["b1"] = weights["b1"].astype(np.float64)
    with pytest.raises(ortbind.Error, match="type mismatch"):
        ortbind.Session(model, initializers=weights).run({"x": X})
    with pytest.raises(Exception, match="type mismatch"):
        official(model, weights).run(None, {"x": X})


def test_initializer_that_is_not_an_array_is_refused() -> None:
    with pytest.raises(ortbind.KindError, match="initializer 'w1' must be a numpy array, not list"):
        ortbind.Session(models.mlp(), initializers={"w1": [1.0]})  # type: ignore[dict-item]


def test_prepacked_container_shared_by_sessions() -> None:
    model = models.mlp()
    weights = mlp_weights(model)
    container = ortbind.PrepackedWeights()
    sessions = [
        ortbind.Session(model, initializers=weights, prepacked_weights=container, intra_op_threads=n) for n in (1, 2)
    ]
    expected = official(model, weights).run(None, {"x": X})[0]
    del container  # each session holds it
    gc.collect()
    for session in sessions:
        np.testing.assert_array_equal(session.run({"x": X})["probs"], expected)


def test_sessions_made_at_once_share_one_container() -> None:
    # Creation releases the GIL: several threads fill and read the container together.
    model = models.mlp()
    weights = mlp_weights(model)
    container = ortbind.PrepackedWeights()
    with ThreadPoolExecutor(4) as pool:
        sessions = list(
            pool.map(lambda _: ortbind.Session(model, initializers=weights, prepacked_weights=container), range(8))
        )
    expected = official(model, weights).run(None, {"x": X})[0]
    for session in sessions:
        np.testing.assert_array_equal(session.run({"x": X})["probs"], expected)


def test_sessions_with_shared_weights_pickle() -> None:
    model = models.mlp()
    weights = mlp_weights(model)
    container = ortbind.PrepackedWeights()
    a = ortbind.Session(model, initializers=weights, prepacked_weights=container)
    b = ortbind.Session(model, initializers=weights, prepacked_weights=container, intra_op_threads=1)
    a2, b2 = pickle.loads(pickle.dumps((a, b)))
    # One container in the receiver too: the token travels, not the memory.
    assert a2._options["prepacked_weights"] is b2._options["prepacked_weights"]
    np.testing.assert_array_equal(a2.run({"x": X})["probs"], a.run({"x": X})["probs"])
    np.testing.assert_array_equal(b2.run({"x": X})["probs"], b.run({"x": X})["probs"])


def overridable_model() -> bytes:
    """y = x * scale, where scale is an initializer the graph also lists as an input."""
    scale = numpy_helper.from_array(np.array([2.0, 3.0], np.float32), "scale")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "scale"], ["y"])],
        "overridable",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2]),
            helper.make_tensor_value_info("scale", TensorProto.FLOAT, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        [scale],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()


def test_overridable_initializers_are_described_and_fed_by_name() -> None:
    session = ortbind.Session(overridable_model())
    assert session.input_names == ("x",)
    (spec,) = session.overridable_initializers
    assert (spec.name, spec.dtype, spec.shape) == ("scale", np.dtype(np.float32), (2,))
    x = np.ones((3, 2), np.float32)
    np.testing.assert_array_equal(session.run({"x": x})["y"], x * [2.0, 3.0])
    scale = np.array([5.0, 7.0], np.float32)
    ours = session.run({"x": x, "scale": scale})["y"]
    theirs = official(overridable_model()).run(None, {"x": x, "scale": scale})[0]
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours, x * scale)
    # A single array still feeds the one model input.
    np.testing.assert_array_equal(session.run(x)["y"], x * [2.0, 3.0])


def test_overridable_initializer_of_wrong_dtype_is_refused() -> None:
    session = ortbind.Session(overridable_model())
    with pytest.raises(ortbind.Error, match="scale"):
        session.run({"x": np.ones((1, 2), np.float32), "scale": np.array(["a", "b"])})
