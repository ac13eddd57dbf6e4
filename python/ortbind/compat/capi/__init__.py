"""``onnxruntime.capi`` as libraries import it: the official binding's extension module's names
(``onnxruntime_pybind11_state``, also ``_pybind_state``) and its Python layer
(``onnxruntime_inference_collection``), all served by ortbind.compat."""

from . import _pybind_state, onnxruntime_inference_collection, onnxruntime_pybind11_state

__all__ = ["_pybind_state", "onnxruntime_inference_collection", "onnxruntime_pybind11_state"]
