"""ortbind.compat's SessionOptions, RunOptions and enums against the official binding's: the same
attributes and defaults, the same methods, and what each setting does to a session."""

from __future__ import annotations

import enum
import pathlib

import numpy as np
import onnxruntime as official
import pytest

import ortbind
import ortbind.compat as compat
from support import models
from support.compat import make_both, run_both

CPU = ["CPUExecutionProvider"]
X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)


def public_attributes(options: object) -> dict[str, object]:
    return {
        name: getattr(options, name)
        for name in dir(options)
        if not name.startswith("_") and not callable(getattr(options, name))
    }


def test_session_options_have_the_official_attributes_and_defaults() -> None:
    theirs, ours = public_attributes(official.SessionOptions()), public_attributes(compat.SessionOptions())
    assert set(ours) == set(theirs)
    for name, value in theirs.items():
        if isinstance(ours[name], enum.IntEnum):
            assert int(ours[name]) == int(value), name  # type: ignore[call-overload]
        else:
            assert ours[name] == value, name
        assert str(ours[name]) == str(value), name  # enums print as the official ones
    assert compat.SessionOptions().graph_optimization_level == compat.GraphOptimizationLevel.ORT_ENABLE_ALL


def test_run_options_have_the_official_attributes_and_defaults() -> None:
    theirs, ours = public_attributes(official.RunOptions()), public_attributes(compat.RunOptions())
    assert set(theirs) <= set(ours) and set(ours) - set(theirs) == {"timeout"}
    for name, value in theirs.items():
        assert ours[name] == value, name


def test_enums_have_the_official_members_and_values() -> None:
    for name in ("GraphOptimizationLevel", "ExecutionMode", "ExecutionOrder"):
        theirs, ours = getattr(official, name), getattr(compat, name)
        assert {k: int(v) for k, v in ours.__members__.items()} == {k: int(v) for k, v in theirs.__members__.items()}
        for member, value in theirs.__members__.items():
            assert str(ours[member]) == str(value) and ours[member] == int(value)


def test_settings_are_typed_like_the_official_properties() -> None:
    options = compat.SessionOptions()
    options.graph_optimization_level = compat.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    assert options.graph_optimization_level == compat.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.execution_mode = compat.ExecutionMode.ORT_PARALLEL
    assert options.execution_mode == compat.ExecutionMode.ORT_PARALLEL
    with pytest.raises(TypeError):
        options.intra_op_num_threads = "2"
    with pytest.raises(TypeError):
        options.enable_profiling = 1
    with pytest.raises(ValueError):
        options.graph_optimization_level = 42


def test_config_entries_and_a_missing_key() -> None:
    options = compat.SessionOptions()
    options.add_session_config_entry("CONFIG_KEY", "CONFIG_VAL")
    assert options.get_session_config_entry("CONFIG_KEY") == "CONFIG_VAL"
    with pytest.raises(RuntimeError, match="SessionOptions does not have configuration with key: INVALID_KEY"):
        options.get_session_config_entry("INVALID_KEY")


def test_optimization_levels_and_execution_modes_run_the_same() -> None:
    feeds = {"input1:0": np.array([[True, True], [False, False]]), "input:0": np.array([[True, False], [True, False]])}
    for level in compat.GraphOptimizationLevel.__members__:
        for mode in compat.ExecutionMode.__members__:

            def configure(options: object, level: str = level, mode: str = mode) -> None:
                module = official if isinstance(options, official.SessionOptions) else compat
                options.graph_optimization_level = module.GraphOptimizationLevel.__members__[level]  # type: ignore[attr-defined]
                options.execution_mode = module.ExecutionMode.__members__[mode]  # type: ignore[attr-defined]

            run_both(make_both(models.logical_and(), configure), feeds)


def test_threads_arena_and_memory_pattern_settings_run_the_same() -> None:
    def configure(options: object) -> None:
        for name, value in (
            ("intra_op_num_threads", 1),
            ("inter_op_num_threads", 1),
            ("enable_cpu_mem_arena", False),
            ("enable_mem_pattern", False),
            ("enable_mem_reuse", False),
            ("log_severity_level", 3),
        ):
            setattr(options, name, value)

    run_both(make_both(models.mul_by_weights(), configure), {"X": X})


def test_free_dimension_override_by_name() -> None:
    options = compat.SessionOptions()
    options.add_free_dimension_override_by_name("Dim1", 4)
    options.add_free_dimension_override_by_name("Dim2", 6)
    made = compat.InferenceSession(models.free_dimensions(), sess_options=options, providers=CPU)
    assert made.get_inputs()[0].shape == [4, 6, 5]


def test_settings_the_core_cannot_apply_are_refused_not_ignored(tmp_path: pathlib.Path) -> None:
    def denotations(options: compat.SessionOptions) -> None:
        options.add_free_dimension_override_by_denotation("DATA_BATCH", 3)

    def optimized_model(options: compat.SessionOptions) -> None:
        options.optimized_model_filepath = str(tmp_path / "optimized.onnx")

    def deterministic(options: compat.SessionOptions) -> None:
        options.use_deterministic_compute = True

    for configure in (denotations, optimized_model, deterministic):
        options = compat.SessionOptions()
        configure(options)
        with pytest.raises(compat.NotImplemented, match="not supported by ortbind's core"):
            compat.InferenceSession(models.free_dimensions(), options, providers=CPU)
    with pytest.raises(NotImplementedError):
        compat.SessionOptions().add_provider("CUDAExecutionProvider", {})


def test_add_initializer_replaces_the_model_initializer() -> None:
    options = compat.SessionOptions()
    weights = compat.OrtValue.ortvalue_from_numpy(np.array([[2.0, 1.0], [4.0, 3.0], [6.0, 5.0]], np.float32))
    options.add_initializer("W", weights)
    made = compat.InferenceSession(models.mul_by_weights(), sess_options=options, providers=CPU)
    np.testing.assert_array_equal(made.run(["Y"], {"X": X})[0], [[2.0, 2.0], [12.0, 12.0], [30.0, 30.0]])


def test_external_initializers_from_memory() -> None:
    data = np.array([3.0, 4.0], np.float32).tobytes()

    def from_memory(options: object) -> None:
        options.add_external_initializers_from_files_in_memory(["weights_not_on_disk.bin"], [data], [len(data)])  # type: ignore[attr-defined]

    _, ours = run_both(make_both(models.add_external_weights(), from_memory), {"x": np.ones(2, np.float32)})
    np.testing.assert_array_equal(ours[0], [4.0, 5.0])


def test_external_initializers_from_ortvalues() -> None:
    weights = compat.OrtValue.ortvalue_from_numpy(np.array([[2.0, 1.0], [4.0, 3.0], [6.0, 5.0]], np.float32))
    options = compat.SessionOptions()
    options.add_external_initializers(["W"], [weights])
    made = compat.InferenceSession(models.mul_by_weights(), options, providers=CPU)
    np.testing.assert_array_equal(made.run(None, {"X": X})[0], [[2.0, 2.0], [12.0, 12.0], [30.0, 30.0]])
    # An initializer whose data is in a file that is not there needs ONNX Runtime's
    # AddExternalInitializers, which ortbind's core does not call: ONNX Runtime's refusal shows.
    options = compat.SessionOptions()
    options.add_external_initializers(["w"], [compat.OrtValue.ortvalue_from_numpy(np.ones(2, np.float32))])
    with pytest.raises(compat.Fail, match="External data path"):
        compat.InferenceSession(models.add_external_weights(), options, providers=CPU)


def test_register_custom_ops_library() -> None:
    extensions = pytest.importorskip("onnxruntime_extensions", reason="the test extra pins onnxruntime-extensions")
    from tests.test_loading_custom_ops import FEEDS, string_graph  # the graph and feeds those tests use

    library = extensions.get_library_path()
    options = compat.SessionOptions()
    options.register_custom_ops_library(library)
    ours = compat.InferenceSession(string_graph(), options, providers=CPU)
    again = compat.InferenceSession(string_graph(), options, providers=CPU)  # the same options twice
    theirs_options = official.SessionOptions()
    theirs_options.register_custom_ops_library(library)
    theirs = official.InferenceSession(string_graph(), theirs_options, providers=CPU)
    run_both((theirs, ours), FEEDS)
    run_both((theirs, again), FEEDS)


def test_run_options_terminate_and_timeout_are_settable() -> None:
    options = compat.RunOptions()
    options.terminate = True
    assert options.terminate
    options.terminate = False
    options.timeout = 1.5
    assert options.run_arguments()["timeout"] == 1.5
    with pytest.raises(TypeError):
        options.terminate = "yes"  # type: ignore[assignment]


def test_an_adapter_must_be_loaded_before_it_is_activated() -> None:
    with pytest.raises(compat.errors.OrtRuntimeError, match="has not been loaded"):
        compat.RunOptions().add_active_adapter(compat.LoraAdapter())


def test_sessions_options_are_plain_python_objects() -> None:
    options = compat.SessionOptions()
    options.add_session_config_entry("a", "b")
    twin = options.copy()
    twin.add_session_config_entry("a", "c")
    assert options.get_session_config_entry("a") == "b"
    assert compat.capi.onnxruntime_pybind11_state.get_default_session_options().intra_op_num_threads == 0
    assert isinstance(compat.InferenceSession(models.mul_by_weights(), options).ortbind, ortbind.Session)
