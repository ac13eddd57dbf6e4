"""LoRA adapters: an adapter built in the test (ONNX Runtime's adapter format, written with the
official binding's AdapterFormat) loaded from a file or bytes and activated per run, compared with
the official binding's RunOptions.add_active_adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import ortbind

DELTA = np.array([[1.0, -2.0, 0.5]], np.float32)


def lora_model() -> bytes:
    """y = x @ w + lora_b, where lora_b (zeros) is an overridable initializer an adapter replaces."""
    w = numpy_helper.from_array(np.arange(9, dtype=np.float32).reshape(3, 3), "w")
    lora_b = numpy_helper.from_array(np.zeros((1, 3), np.float32), "lora_b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "lora_b"], ["y"])],
        "lora",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3]),
            helper.make_tensor_value_info("lora_b", TensorProto.FLOAT, [1, 3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [w, lora_b],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()


@pytest.fixture(scope="module")
def adapter_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import onnxruntime as ort

    path = tmp_path_factory.mktemp("lora") / "delta.onnx_adapter"
    adapter = ort.AdapterFormat()
    adapter.set_adapter_version(1)
    adapter.set_model_version(1)
    adapter.set_parameters({"lora_b": ort.OrtValue.ortvalue_from_numpy(DELTA)})
    adapter.export_adapter(str(path))
    return path


X = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)


def official_run(model: bytes, adapter_file: Path | None) -> Any:
    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    options = ort.RunOptions()
    if adapter_file is not None:
        adapter = ort.LoraAdapter()
        adapter.Load(str(adapter_file))
        options.add_active_adapter(adapter)
    return session.run(None, {"x": X}, options)[0]


def test_adapter_from_file_matches_the_official_binding(adapter_file: Path) -> None:
    model = lora_model()
    session = ortbind.Session(model)
    adapter = ortbind.LoraAdapter(adapter_file)
    ours = session.run({"x": X}, adapters=[adapter])["y"]
    np.testing.assert_array_equal(ours, official_run(model, adapter_file))
    np.testing.assert_allclose(ours, X @ np.arange(9, dtype=np.float32).reshape(3, 3) + DELTA, rtol=1e-6)


def test_adapter_applies_only_to_its_run(adapter_file: Path) -> None:
    model = lora_model()
    session = ortbind.Session(model)
    adapter = ortbind.LoraAdapter(adapter_file.read_bytes())
    plain = session.run({"x": X})["y"]
    np.testing.assert_array_equal(plain, official_run(model, None))
    adapted = session.run({"x": X}, adapters=[adapter])["y"]
    np.testing.assert_array_equal(adapted, official_run(model, adapter_file))
    np.testing.assert_array_equal(session.run({"x": X})["y"], plain)  # the next run is plain again


def test_adapter_with_timeout_and_cancel(adapter_file: Path) -> None:
    session = ortbind.Session(lora_model())
    adapter = ortbind.LoraAdapter(adapter_file)
    token = ortbind.CancelToken()
    result = session.run({"x": X}, adapters=(adapter,), timeout=30.0, cancel=token)["y"]
    np.testing.assert_array_equal(result, official_run(lora_model(), adapter_file))
    token.cancel()
    with pytest.raises(ortbind.Cancelled):
        session.run({"x": X}, adapters=[adapter], cancel=token)


@pytest.mark.parametrize("threads", [None, 1])  # with and without an intra-op pool
def test_adapter_in_run_async(adapter_file: Path, threads: int | None) -> None:
    import asyncio

    session = ortbind.Session(lora_model(), intra_op_threads=threads)
    adapter = ortbind.LoraAdapter(adapter_file)

    async def both() -> tuple[Any, Any]:
        adapted = await session.run_async({"x": X}, adapters=[adapter])
        plain = await session.run_async({"x": X})
        return adapted["y"], plain["y"]

    adapted, plain = asyncio.run(both())
    np.testing.assert_array_equal(adapted, official_run(lora_model(), adapter_file))
    np.testing.assert_array_equal(plain, official_run(lora_model(), None))


def test_native_run_async_refuses_adapters(adapter_file: Path) -> None:
    # ONNX Runtime's RunAsync would run without them (the official binding only warns).
    session = ortbind.Session(lora_model())
    adapter = ortbind.LoraAdapter(adapter_file)
    with pytest.raises(ortbind.InvalidValueError, match="RunAsync does not apply LoRA adapters"):
        session._run_async({"x": X}, adapters=[adapter], callback=lambda *_: None)


def test_adapters_must_be_a_sequence_of_adapters(adapter_file: Path) -> None:
    session = ortbind.Session(lora_model())
    adapter = ortbind.LoraAdapter(adapter_file)
    with pytest.raises(ortbind.KindError, match="not one LoraAdapter"):
        session.run({"x": X}, adapters=adapter)  # type: ignore[arg-type]
    with pytest.raises(ortbind.KindError, match="LoraAdapter"):
        session.run({"x": X}, adapters=["delta.onnx_adapter"])  # type: ignore[list-item]


def test_bad_adapter_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ortbind.Error):
        ortbind.LoraAdapter(tmp_path / "missing.onnx_adapter")
    with pytest.raises(ortbind.Error):
        ortbind.LoraAdapter(b"not an adapter")
    with pytest.raises(ortbind.KindError):
        ortbind.LoraAdapter(3)  # type: ignore[arg-type]
