"""The real-library tier: libraries from PyPI that call ``onnxruntime.InferenceSession``, run unmodified
with the official binding and with ``ortbind.compat.install()``.

Each :class:`Library` is pinned: its own version, and every package its environment holds through
``constraints/<name>.txt`` (what ``pip freeze`` listed when the tier was set up). Its scenario script
(``<name>_scenario.py``) makes the inputs, calls the library's own public functions and prints what
they returned as JSON (:mod:`support.libraries.scenario`). :mod:`support.libraries.environment`
keeps one virtual environment per library, with the official ``onnxruntime`` and ortbind installed
in it, under ``$ORTBIND_LIBRARY_CACHE`` (else ``~/.cache/ortbind/libraries``).

This package is imported by the pytest driver and the benchmark; the scenario scripts import only
:mod:`support.libraries.scenario`, which needs nothing beyond numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ONNXRUNTIME = "onnxruntime==1.32.0"


@dataclass(frozen=True)
class Library:
    name: str
    author: str
    requirements: tuple[str, ...]
    uses: str  # what of onnxruntime the scenario exercises, for the report

    @property
    def scenario(self) -> Path:
        return HERE / f"{self.name}_scenario.py"

    @property
    def constraints(self) -> Path:
        return HERE / "constraints" / f"{self.name}.txt"


LIBRARIES: tuple[Library, ...] = (
    Library(
        "magika",
        "Google",
        ("magika==1.0.3",),
        "InferenceSession(PosixPath); plain lists fed to an int32 input; disable_telemetry_events",
    ),
    Library(
        "rapidocr",
        "RapidAI",
        ("rapidocr==3.10.0",),
        "SessionOptions attributes; a CPU provider options dict; get_modelmeta().custom_metadata_map",
    ),
    Library(
        "insightface",
        "DeepInsight",
        ("insightface==2.1", "onnx"),
        "an InferenceSession subclass pickled by calling __init__ again; _providers, _provider_options",
    ),
    Library(
        "onnxscript",
        "Microsoft (ONNX Script)",
        ("onnxscript==0.7.2", "onnx"),
        "sessions from bytes, providers as a tuple; bool/float64/int32/string/0-d feeds; capi exceptions",
    ),
    Library(
        "polygraphy",
        "NVIDIA",
        ("polygraphy==0.53.6", "onnx"),
        "NodeArg.type strings and shapes; sessions from bytes with SessionOptions",
    ),
    Library(
        "onnxsim",
        "daquexian",
        ("onnxsim==0.8.1", "onnx"),
        "RunOptions; enable_mem_pattern=False; ORT_DISABLE_ALL",
    ),
    Library(
        "livekit_silero",
        "LiveKit",
        ("livekit-plugins-silero==1.8.9",),
        "Silero VAD: a stateful streaming loop with a 0-d int64 input; session config entries",
    ),
    Library(
        "piper",
        "Rhasspy",
        ("piper-tts==1.8.0", "onnx"),
        "several int64 inputs; sessions from a path with SessionOptions; a voice made with the onnx helper",
    ),
)

BY_NAME = {library.name: library for library in LIBRARIES}
