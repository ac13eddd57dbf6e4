"""onnxscript (Microsoft's ONNX authoring library) in eager mode: each operator called on numpy
arrays is a one-node model run by ``InferenceSession(model_bytes, providers=("CPUExecutionProvider",))``.
The calls cover bool, float64, int32, string and 0-d feeds, an operator without inputs (an empty
feed), a script function, and a failing operator, whose error onnxscript catches by the capi
exception classes (``onnxruntime.capi.onnxruntime_pybind11_state.Fail``, ...)."""

from __future__ import annotations

from typing import Any

import numpy as np

from support.libraries.scenario import Scenario


def main() -> None:
    scenario = Scenario()
    from onnxscript import opset18 as op

    from support.libraries.onnxscript_functions import gelu

    x64 = np.linspace(-2.0, 3.0, 7)
    x32 = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(3, 4)

    def calls() -> dict[str, Any]:
        return {
            "add_float64": op.Add(x64, x64 * 0.5),
            "and_bool": op.And(np.array([True, True, False, False]), np.array([True, False, True, False])),
            "cast_int32": op.Cast(np.arange(-3, 4, dtype=np.int32), to=1),
            "mul_0d": op.Mul(np.array(3.5, np.float32), np.array(2.0, np.float32)),
            "concat_strings": op.Concat(np.array(["a", "bc"], dtype=object), np.array(["def"], dtype=object), axis=0),
            "constant": op.Constant(value_floats=[1.5, -2.0]),
            "matmul": op.MatMul(x32, x32.T),
            "reduce_sum": op.ReduceSum(x32, np.array([1], np.int64), keepdims=0),
            "softmax": op.Softmax(x32, axis=-1),
            "gelu": gelu(x32),
        }

    results = scenario.timed("eager_ops", calls)
    for name, value in results.items():
        scenario.record(name, np.asarray(getattr(value, "value", value)))  # onnxscript wraps arrays
    try:
        op.Add(np.ones(3, np.float32), np.ones(4, np.float32))
        scenario.record("error", None)
    except Exception as error:
        scenario.record("error", [type(error).__name__, type(error.__cause__).__name__])
    scenario.finish()


if __name__ == "__main__":
    main()
