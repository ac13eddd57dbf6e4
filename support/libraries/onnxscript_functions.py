"""An onnxscript function for the onnxscript scenario, evaluated eagerly. onnxscript reads the
function's source and its module's names, so it is defined at a module's top level (imported by the
scenario after ortbind.compat is installed) and its annotations are left to be evaluated."""

from onnxscript import FLOAT, script
from onnxscript import opset18 as op


@script()  # type: ignore[untyped-decorator]  # onnxscript is not annotated
def gelu(x: FLOAT[...]) -> FLOAT[...]:
    half = op.Constant(value_float=0.5)
    root_two = op.Constant(value_float=1.4142135)
    one = op.Constant(value_float=1.0)
    return op.Mul(op.Mul(x, half), op.Add(op.Erf(op.Div(x, root_two)), one))
