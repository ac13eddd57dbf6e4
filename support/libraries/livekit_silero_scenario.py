"""livekit-plugins-silero (LiveKit's voice activity detection): the plugin's own session and model
wrapper run window by window over audio synthesized here. Each window feeds the state the last one
returned, and the sample rate as a 0-d int64 input; the session is made with session config entries
and one thread."""

from __future__ import annotations

import numpy as np

from support.libraries.scenario import Scenario

RATE = 16000


def audio() -> np.ndarray:
    """Four seconds: silence, a voiced vowel-like tone (a harmonic series under a syllable envelope),
    noise, and the tone again."""
    rng = np.random.default_rng(5)
    t = np.arange(RATE) / RATE
    pitch = 140 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)
    parts = [np.zeros(RATE), 0.3 * voiced, 0.05 * rng.standard_normal(RATE), 0.3 * voiced[::-1]]
    return np.concatenate(parts).astype(np.float32)


def main() -> None:
    scenario = Scenario()
    from livekit.plugins.silero.onnx_model import OnnxModel, new_inference_session

    model = OnnxModel(onnx_session=new_inference_session(force_cpu=True), sample_rate=RATE)
    samples = audio()
    size = model.window_size_samples
    windows = [samples[i : i + size] for i in range(0, len(samples) - size + 1, size)]

    def stream() -> list[float]:
        model.reset()
        return [model(window) for window in windows]

    probabilities = scenario.timed("stream", stream)
    scenario.record("windows", len(windows))
    scenario.record("probabilities", probabilities)
    scenario.record("speech_windows", sum(p > 0.5 for p in probabilities))
    scenario.finish()


if __name__ == "__main__":
    main()
