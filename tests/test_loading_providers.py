"""Execution providers with options, and the CPU memory settings. CUDA runs through the same loader
where onnxruntime-gpu and a GPU are present, and is skipped with the reason elsewhere."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import ortbind
from support import models

X = np.random.default_rng(4).standard_normal((4, 64)).astype(np.float32)


def test_provider_names_and_pairs_are_accepted() -> None:
    expected = ortbind.Session(models.mlp()).run({"x": X})["probs"]
    session = ortbind.Session(models.mlp(), providers=[("CPUExecutionProvider", {}), "CPUExecutionProvider"])
    np.testing.assert_array_equal(session.run({"x": X})["probs"], expected)


def test_unknown_provider_is_named() -> None:
    with pytest.raises(ortbind.InvalidValueError, match="'NoSuchExecutionProvider' is not in this ONNX Runtime"):
        ortbind.Session(models.add(), providers=[("NoSuchExecutionProvider", {"a": "1"})])


def test_cpu_options_are_refused_by_name() -> None:
    with pytest.raises(ortbind.InvalidValueError, match=r"'CPUExecutionProvider' takes no options.*'arena'"):
        ortbind.Session(models.add(), providers=[("CPUExecutionProvider", {"arena": "1"})])


def test_malformed_provider_entries() -> None:
    with pytest.raises(ortbind.KindError, match="not one str"):
        ortbind.Session(models.add(), providers="CPUExecutionProvider")
    with pytest.raises(ortbind.KindError, match="pairs, not int"):
        ortbind.Session(models.add(), providers=3)  # type: ignore[arg-type]
    with pytest.raises(ortbind.KindError, match=r"\(name, \{option: value\}\)"):
        ortbind.Session(models.add(), providers=[("CPUExecutionProvider",)])  # type: ignore[list-item]
    with pytest.raises(ortbind.KindError, match="must be a mapping"):
        ortbind.Session(models.add(), providers=[("CPUExecutionProvider", "x")])  # type: ignore[list-item]


def test_provider_option_errors_name_provider_and_option() -> None:
    # Azure ships in the CPU wheel; an option it does not know is ONNX Runtime's error, with ours
    # naming the provider and the options given.
    if "AzureExecutionProvider" not in ortbind.runtime.available_providers():
        pytest.skip("this ONNX Runtime has no AzureExecutionProvider to pass a bad option to")
    try:
        ortbind.Session(models.add(), providers=[("AzureExecutionProvider", {"no_such_option": "1"})])
    except ortbind.Error as error:
        assert "'AzureExecutionProvider' with options {'no_such_option': '1'}" in str(error)
    else:
        pytest.skip("this ONNX Runtime's Azure provider ignores unknown options")


@pytest.mark.parametrize("cpu_arena", [True, False])
@pytest.mark.parametrize("memory_pattern", [True, False])
def test_memory_settings(cpu_arena: bool, memory_pattern: bool) -> None:
    import onnxruntime as ort

    session = ortbind.Session(models.mlp(), cpu_arena=cpu_arena, memory_pattern=memory_pattern)
    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = cpu_arena
    options.enable_mem_pattern = memory_pattern
    official = ort.InferenceSession(models.mlp(), options, providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(session.run({"x": X})["probs"], official.run(None, {"x": X})[0])


def cuda_skip_reason() -> str | None:
    if "CUDAExecutionProvider" not in ortbind.runtime.available_providers():
        return "the installed ONNX Runtime has no CUDAExecutionProvider (onnxruntime-gpu is not installed)"
    if shutil.which("nvidia-smi") is None:
        return "no NVIDIA GPU on this machine (nvidia-smi not found)"
    return None


@pytest.mark.skipif(cuda_skip_reason() is not None, reason=cuda_skip_reason() or "")
def test_cuda_with_options_matches_cpu() -> None:
    session = ortbind.Session(
        models.mlp(), providers=[("CUDAExecutionProvider", {"device_id": "0"}), "CPUExecutionProvider"]
    )
    np.testing.assert_allclose(
        session.run({"x": X})["probs"], ortbind.Session(models.mlp()).run({"x": X})["probs"], rtol=1e-4, atol=1e-6
    )


@pytest.mark.skipif(cuda_skip_reason() is not None, reason=cuda_skip_reason() or "")
def test_cuda_bad_option_is_named() -> None:
    with pytest.raises(ortbind.Error, match=r"'CUDAExecutionProvider' with options \{'no_such_option'"):
        ortbind.Session(models.mlp(), providers=[("CUDAExecutionProvider", {"no_such_option": "1"})])
