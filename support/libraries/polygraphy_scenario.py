"""polygraphy (NVIDIA's model debugging toolkit): its ONNX Runtime runner on a model made here, its
comparator with its own seeded data loader (which reads the input metadata from ``NodeArg.type``
strings and shapes) and its input metadata report."""

from __future__ import annotations

from typing import Any

import numpy as np

from support.libraries.scenario import Scenario


def model() -> bytes:
    """y = relu(x @ w + b) gathered by ``index``, and the row sums of x: float and int64 inputs with a
    symbolic batch dim."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gather", ["r", "index"], ["y"], axis=1),
        helper.make_node("ReduceSum", ["x", "axes"], ["sums"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "polygraphy",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8]),
            helper.make_tensor_value_info("index", TensorProto.INT64, [3]),
        ],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3]),
            helper.make_tensor_value_info("sums", TensorProto.FLOAT, ["batch"]),
        ],
        [
            numpy_helper.from_array(rng.standard_normal((8, 16)).astype(np.float32), "w"),
            numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "b"),
            numpy_helper.from_array(np.array([1], np.int64), "axes"),
        ],
    )
    built = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    built.ir_version = 8
    return built.SerializeToString()


def main() -> None:
    scenario = Scenario()
    from polygraphy.backend.onnxrt import OnnxrtRunner, SessionFromOnnx
    from polygraphy.comparator import Comparator, DataLoader

    runner = OnnxrtRunner(SessionFromOnnx(model(), providers=["cpu"]))
    with runner:
        metadata = runner.get_input_metadata()
        described = [(name, str(meta.dtype), list(meta.shape)) for name, meta in metadata.items()]
        scenario.record("input_metadata", described)
        feeds = {"x": np.linspace(-1, 1, 32, dtype=np.float32).reshape(4, 8), "index": np.array([0, 5, 15], np.int64)}
        outputs = scenario.timed("infer", lambda: runner.infer(feeds))
        scenario.record("infer", {name: np.asarray(value) for name, value in outputs.items()})

    loader = DataLoader(seed=7, iterations=3, val_range={"index": (0, 15)})
    loader.input_metadata = None

    def compare() -> Any:
        results = Comparator.run([OnnxrtRunner(SessionFromOnnx(model()))], data_loader=loader)
        return [
            {name: np.asarray(value) for name, value in iteration.items()}
            for _, iterations in results.items()
            for iteration in iterations
        ]

    scenario.record("comparator", scenario.timed("comparator", compare))
    scenario.finish()


if __name__ == "__main__":
    main()
