"""``onnxruntime.capi.onnxruntime_inference_collection``: the official binding's Python classes."""

from ..compiler import ModelCompiler
from ..iobinding import IOBinding
from ..ortvalue import OrtDevice, OrtDeviceVendorId, OrtValue
from ..providers import check_and_normalize_provider_args
from ..session import InferenceSession, Session

__all__ = [
    "IOBinding",
    "InferenceSession",
    "ModelCompiler",
    "OrtDevice",
    "OrtDeviceVendorId",
    "OrtValue",
    "Session",
    "check_and_normalize_provider_args",
]
