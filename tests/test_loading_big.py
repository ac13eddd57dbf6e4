"""Big models: external data files loaded by path, or given from memory with a model from bytes;
what a session from bytes keeps for pickling; a model over protobuf's 2 GiB limit (slow)."""

from __future__ import annotations

import mmap
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

import ortbind
from support import models

X = np.random.default_rng(3).standard_normal((2, 64)).astype(np.float32)


def save_external(model: bytes, folder: Path) -> Path:
    proto = onnx.load_from_string(model)
    path = folder / "model.onnx"
    onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)  # fmt: skip
    return path


def test_external_data_by_path_and_from_memory(tmp_path: Path) -> None:
    model = models.mlp()
    path = save_external(model, tmp_path)
    assert (tmp_path / "weights.bin").stat().st_size > 30_000
    expected = ortbind.Session(model).run({"x": X})["probs"]
    np.testing.assert_array_equal(ortbind.Session(path).run({"x": X})["probs"], expected)
    # From bytes: the graph alone, its external data from memory.
    data = (tmp_path / "weights.bin").read_bytes()
    session = ortbind.Session(path.read_bytes(), external_data={"weights.bin": data})
    np.testing.assert_array_equal(session.run({"x": X})["probs"], expected)
    # The official binding agrees.
    import onnxruntime as ort

    official = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(official.run(None, {"x": X})[0], expected)


def test_path_sessions_with_external_data_pickle(tmp_path: Path) -> None:
    path = save_external(models.mlp(), tmp_path)
    session = ortbind.Session(path)
    expected = session.run({"x": X})["probs"]
    # By default the model file's bytes travel and its external data is found in its folder.
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(session)).run({"x": X})["probs"], expected)
    ortbind.pickle_by_path(session)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(session)).run({"x": X})["probs"], expected)


def test_external_data_missing_from_memory_is_an_error(tmp_path: Path) -> None:
    path = save_external(models.mlp(), tmp_path)
    (tmp_path / "weights.bin").rename(tmp_path / "moved.bin")
    with pytest.raises(ortbind.Error):
        ortbind.Session(path.read_bytes())


def test_external_data_sessions_pickle_their_buffers(tmp_path: Path) -> None:
    path = save_external(models.mlp(), tmp_path)
    data = bytearray((tmp_path / "weights.bin").read_bytes())
    session = ortbind.Session(path.read_bytes(), external_data={"weights.bin": data})
    clone = pickle.loads(pickle.dumps(session))
    np.testing.assert_array_equal(clone.run({"x": X})["probs"], session.run({"x": X})["probs"])
    data[:4] = b"\0\0\0\0"  # a buffer changed after loading no longer is what the session holds
    with pytest.raises(ortbind.InvalidValueError, match="has changed"):
        pickle.dumps(session)


def test_bytes_sessions_keep_one_reference_not_a_copy() -> None:
    model = models.mlp()
    for given in (model, bytearray(model), memoryview(model)):
        session = ortbind.Session(given)
        assert session._model_bytes is not None and session._model_bytes.data is given
        clone = pickle.loads(pickle.dumps(session))
        np.testing.assert_array_equal(clone.run({"x": X})["probs"], session.run({"x": X})["probs"])
    assert sys.getrefcount(model) >= 2


def test_protocol_5_sends_model_bytes_out_of_band() -> None:
    model = models.mlp()
    session = ortbind.Session(model)
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(session, protocol=5, buffer_callback=buffers.append)
    assert len(data) < 2_000 and sum(memoryview(b).nbytes for b in buffers) == len(model)
    clone = pickle.loads(data, buffers=buffers)
    np.testing.assert_array_equal(clone.run({"x": X})["probs"], session.run({"x": X})["probs"])


def test_changed_model_buffer_refuses_to_pickle() -> None:
    model = bytearray(models.add())
    session = ortbind.Session(model)
    model[-1] ^= 0xFF
    with pytest.raises(ortbind.InvalidValueError, match="has changed"):
        pickle.dumps(session)


@pytest.mark.slow
def test_model_over_2_gib_by_path_and_from_memory(tmp_path: Path) -> None:
    width = 1024
    rows = (1 << 30) // (width * 4) + 1024  # two tables of just over 1 GiB each
    path = models.huge_model(tmp_path, rows, width)
    assert (tmp_path / "tables.bin").stat().st_size > 2 << 30
    i = np.array([5, 0], np.int64)
    by_path = ortbind.Session(path, optimization="disabled")
    y: Any = by_path.run({"i": i})["y"]
    assert y.shape == (2, width) and (y[0] == 7.0).all() and (y[1] == 0.0).all()
    by_path.close()
    with open(tmp_path / "tables.bin", "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        view = memoryview(data)
        try:
            from_memory = ortbind.Session(path.read_bytes(), external_data={"tables.bin": view},
                                          optimization="disabled")  # fmt: skip
            np.testing.assert_array_equal(from_memory.run({"i": i})["y"], y)
            from_memory.close()
            del from_memory
        finally:
            view.release()
