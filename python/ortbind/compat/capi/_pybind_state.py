"""``onnxruntime.capi._pybind_state``: the official binding re-exports its extension module here."""

from .onnxruntime_pybind11_state import *  # noqa: F403
from .onnxruntime_pybind11_state import __all__ as __all__
