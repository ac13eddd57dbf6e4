"""onnxsim (the ONNX simplifier): a model with foldable constants, made here, simplified with its
equality check on given inputs, then run through onnxsim's own ``run_model``. onnxsim folds
constants by running throwaway sessions (``ORT_DISABLE_ALL``, ``enable_mem_pattern = False``, one
thread) and runs with ``RunOptions`` whose ``log_severity_level`` it sets."""

from __future__ import annotations

import numpy as np

from support.libraries.scenario import Scenario


def model() -> bytes:
    """y = Reshape(x * (a + b) + Sqrt(c), [4, 2]) where a, b, c and the shape are constants or
    computed from constants: what a simplifier folds."""
    from onnx import TensorProto, helper, numpy_helper

    constants: dict[str, np.ndarray] = {
        "a": np.arange(8, dtype=np.float32).reshape(2, 4),
        "b": np.full((2, 4), 0.5, np.float32),
        "c": np.linspace(1, 4, 8, dtype=np.float32).reshape(2, 4),
        "half": np.array([4], np.int64),
        "two": np.array([2], np.int64),
    }
    nodes = [
        helper.make_node("Add", ["a", "b"], ["ab"]),
        helper.make_node("Sqrt", ["c"], ["root"]),
        helper.make_node("Mul", ["x", "ab"], ["scaled"]),
        helper.make_node("Add", ["scaled", "root"], ["shifted"]),
        helper.make_node("Concat", ["half", "two"], ["shape"], axis=0),
        helper.make_node("Reshape", ["shifted", "shape"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "foldable",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 2])],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    built = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    built.ir_version = 8
    return built.SerializeToString()


def main() -> None:
    scenario = Scenario()
    import onnx
    import onnxsim
    from onnxsim.backend import run_model

    original = onnx.load_from_string(model())
    x = np.linspace(-2, 2, 8, dtype=np.float32).reshape(2, 4)

    def simplify() -> tuple[onnx.ModelProto, bool]:
        simplified, ok = onnxsim.simplify(original, check_n=2, input_data={"x": x})
        return simplified, bool(ok)

    simplified, ok = scenario.timed("simplify", simplify)
    scenario.record("check", ok)
    scenario.record("nodes", [node.op_type for node in simplified.graph.node])
    scenario.record("folded", {t.name: onnx.numpy_helper.to_array(t) for t in simplified.graph.initializer})
    scenario.record("run_model", dict(scenario.timed("run_model", lambda: run_model(simplified, {"x": x}))))
    scenario.record("original", dict(run_model(original, {"x": x})))
    scenario.finish()


if __name__ == "__main__":
    main()
