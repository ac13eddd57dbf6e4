"""piper-tts (Rhasspy's text to speech): a two-speaker voice model made here with the onnx helper
API (the library downloads real voices), loaded by ``PiperVoice.load`` from its path and JSON config
and synthesized sentence by sentence: several int64 inputs and a float one per run."""

from __future__ import annotations

import json
import string
import wave
from pathlib import Path

import numpy as np

from support.libraries.scenario import Scenario

HOP = 64
SYMBOLS = ["_", "^", "$", " ", *string.ascii_lowercase, *".,!?'"]


def voice(folder: Path) -> Path:
    """A voice whose audio is a function of its phoneme ids, its speaker and its scales."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(11)
    initializers: dict[str, np.ndarray] = {
        "table": rng.standard_normal((len(SYMBOLS), HOP)).astype(np.float32),
        "speakers": np.array([[0.0], [0.25]], np.float32),
        "flat": np.array([1, 1, -1], np.int64),
        "noise_at": np.array([0], np.int64),
        "length_at": np.array([1], np.int64),
    }
    nodes = [
        helper.make_node("Gather", ["table", "input"], ["embedded"]),
        helper.make_node("Reshape", ["embedded", "flat"], ["frames"]),
        helper.make_node("Gather", ["speakers", "sid"], ["speaker"]),
        helper.make_node("Gather", ["scales", "noise_at"], ["noise"]),
        helper.make_node("Gather", ["scales", "length_at"], ["length"]),
        helper.make_node("Mul", ["frames", "noise"], ["scaled"]),
        helper.make_node("Add", ["scaled", "speaker"], ["voiced"]),
        helper.make_node("Tanh", ["voiced"], ["bounded"]),
        helper.make_node("Mul", ["bounded", "length"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "voice",
        [
            helper.make_tensor_value_info("input", TensorProto.INT64, [1, "phonemes"]),
            helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
            helper.make_tensor_value_info("sid", TensorProto.INT64, [1]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "time"])],
        [numpy_helper.from_array(value, name) for name, value in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = folder / "voice.onnx"
    onnx.save(model, str(path))
    config = {
        "audio": {"sample_rate": 16000},
        "espeak": {"voice": "en-us"},
        "phoneme_type": "text",
        "num_symbols": len(SYMBOLS),
        "num_speakers": 2,
        "speaker_id_map": {"first": 0, "second": 1},
        "inference": {"noise_scale": 0.667, "length_scale": 1.0, "noise_w": 0.8},
        "phoneme_id_map": {symbol: [index] for index, symbol in enumerate(SYMBOLS)},
    }
    Path(f"{path}.json").write_text(json.dumps(config))
    return path


TEXT = "hello world. this is a test of a voice made from nothing! does it speak? it does, quietly."


def main() -> None:
    scenario = Scenario()
    from piper import PiperVoice, SynthesisConfig

    loaded = PiperVoice.load(voice(scenario.workdir))
    settings = SynthesisConfig(speaker_id=1, length_scale=0.9, noise_scale=0.5)

    def synthesize() -> list[np.ndarray]:
        return [chunk.audio_int16_array for chunk in loaded.synthesize(TEXT, settings)]

    scenario.record("chunks", scenario.timed("synthesize", synthesize))
    scenario.record("inputs", [(a.name, a.type, a.shape) for a in loaded.session.get_inputs()])
    wav_path = scenario.workdir / "speech.wav"
    with wave.open(str(wav_path), "wb") as wav_file:
        loaded.synthesize_wav(TEXT, wav_file)
    scenario.record("wav_bytes", len(wav_path.read_bytes()))
    scenario.finish()


if __name__ == "__main__":
    main()
