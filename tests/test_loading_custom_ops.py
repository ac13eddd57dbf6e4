"""Custom operator libraries: the onnxruntime-extensions library registered in ortbind and in the
official binding gives the same strings; a missing path or a library without RegisterCustomOps is
refused by name."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

import ortbind

extensions = pytest.importorskip(
    "onnxruntime_extensions",
    reason="needs onnxruntime-extensions (the test extra pins it; it has no free-threaded wheel)",
)
CONTRIB = "ai.onnx.contrib"


def string_graph() -> bytes:
    """Text through two of the library's string operators: a regex rewrite, then the lengths."""
    nodes = [
        helper.make_node("StringRegexReplace", ["text", "pattern", "rewrite"], ["replaced"], domain=CONTRIB),
        helper.make_node("StringLength", ["replaced"], ["length"], domain=CONTRIB),
    ]
    graph = helper.make_graph(
        nodes,
        "strings",
        [
            helper.make_tensor_value_info("text", TensorProto.STRING, ["n"]),
            helper.make_tensor_value_info("pattern", TensorProto.STRING, [1]),
            helper.make_tensor_value_info("rewrite", TensorProto.STRING, [1]),
        ],
        [
            helper.make_tensor_value_info("replaced", TensorProto.STRING, ["n"]),
            helper.make_tensor_value_info("length", TensorProto.INT64, ["n"]),
        ],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(CONTRIB, 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()


FEEDS = {
    "text": np.array(["a cat sat", "CAT cat", "", "naïve café"], dtype=object),
    "pattern": np.array([r"c(a)t"], dtype=object),
    "rewrite": np.array([r"d\1g"], dtype=object),
}


def test_string_operators_match_the_official_binding() -> None:
    import onnxruntime as ort

    library = extensions.get_library_path()
    model = string_graph()
    session = ortbind.Session(model, custom_op_libraries=[library])
    ours = session.run(FEEDS)

    options = ort.SessionOptions()
    options.register_custom_ops_library(library)
    official = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    theirs = official.run(None, FEEDS)

    assert ours["replaced"].tolist() == theirs[0].tolist() == ["a dag sat", "CAT dag", "", "naïve café"]
    assert ours["length"].dtype == theirs[1].dtype
    np.testing.assert_array_equal(ours["length"], theirs[1])


def test_library_stays_loaded_while_a_session_needs_it() -> None:
    library = extensions.get_library_path()
    first = ortbind.Session(string_graph(), custom_op_libraries=[library])
    second = ortbind.Session(string_graph(), custom_op_libraries=[library])
    first.close()
    del first
    assert second.run(FEEDS)["replaced"].tolist() == ["a dag sat", "CAT dag", "", "naïve café"]


def test_model_needing_the_library_fails_without_it() -> None:
    with pytest.raises(ortbind.Error):
        ortbind.Session(string_graph())


def test_library_path_accepts_pathlike_and_pickles() -> None:
    import pickle

    session = ortbind.Session(string_graph(), custom_op_libraries=[Path(extensions.get_library_path())])
    clone = pickle.loads(pickle.dumps(session))
    assert clone.run(FEEDS)["replaced"].tolist() == session.run(FEEDS)["replaced"].tolist()


def test_missing_library_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "libnothing.so"
    with pytest.raises(ortbind.InvalidValueError, match=r"custom op library '.*libnothing\.so' does not exist"):
        ortbind.Session(string_graph(), custom_op_libraries=[missing])


def test_library_without_registration_function_is_named() -> None:
    # A real shared library that exports no RegisterCustomOps: numpy's compiled core.
    library = Path(importlib.import_module("numpy._core._multiarray_umath").__file__ or "")
    with pytest.raises(ortbind.Error, match=r"custom op library .*_multiarray_umath.*RegisterCustomOps"):
        ortbind.Session(string_graph(), custom_op_libraries=[library])


def test_one_path_is_not_a_list() -> None:
    with pytest.raises(ortbind.KindError, match="sequence of paths"):
        ortbind.Session(string_graph(), custom_op_libraries=extensions.get_library_path())
