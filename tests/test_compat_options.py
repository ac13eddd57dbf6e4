"""ortbind.compat's SessionOptions, RunOptions and enums against the official binding's: the same
attributes and defaults, the same methods, and what each setting does to a session."""

from __future__ import annotations

import enum
import logging
import pathlib
import pickle
import re
from typing import Any

import numpy as np
import onnxruntime as official
import pytest

import ortbind
import ortbind.compat as compat
from support import models
from support.compat import assert_same, failure, make_both, run_both

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


def test_settings_the_core_cannot_apply_are_refused_not_ignored() -> None:
    def denotations(options: compat.SessionOptions) -> None:
        options.add_free_dimension_override_by_denotation("DATA_BATCH", 3)

    def global_threads(options: compat.SessionOptions) -> None:
        options.use_per_session_threads = False

    for configure in (denotations, global_threads):
        options = compat.SessionOptions()
        configure(options)
        with pytest.raises(compat.NotImplemented, match="not supported by ortbind's core"):
            compat.InferenceSession(models.free_dimensions(), options, providers=CPU)
    with pytest.raises(NotImplementedError, match="selection delegate"):
        compat.SessionOptions().set_provider_selection_policy_delegate(lambda *_: [])


# --- settings that reach ONNX Runtime, as the official binding's do -----------------------------


def traced_options(text: str) -> dict[str, str]:
    """The fields of ONNX Runtime's "Session Options { ... }" record (logged at info level), which
    says what the session was made with."""
    (line,) = [line for line in text.splitlines() if "Session Options {" in line]
    return dict(re.findall(r"(\w+):(\"[^\"]*\"|[^\s{}]*)", line))


def ortbind_log(caplog: pytest.LogCaptureFixture) -> str:
    ortbind.runtime.flush_logs()
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "ortbind.onnxruntime")
    caplog.clear()
    return text


TRACED = (
    "optimized_model_filepath",
    "use_deterministic_compute",
    "session_log_severity_level",
    "graph_optimization_level",
    "execution_mode",
    "enable_mem_pattern",
    "enable_cpu_mem_arena",
    "enable_profiling",
    "ep_selection_policy",
)


def test_session_options_reach_onnx_runtime_as_the_official_ones(
    tmp_path: pathlib.Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    def configure(options: Any) -> None:
        options.log_severity_level = 1  # info: ONNX Runtime then logs what it was given
        options.use_deterministic_compute = True
        options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
        options.graph_optimization_level = type(options.graph_optimization_level).ORT_ENABLE_EXTENDED
        options.enable_mem_pattern = False

    capfd.readouterr()
    with caplog.at_level(logging.DEBUG, logger="ortbind.onnxruntime"):
        make_both(models.mlp(), configure)
        theirs, ours = traced_options(capfd.readouterr().err), traced_options(ortbind_log(caplog))
    assert {key: ours[key] for key in TRACED} == {key: theirs[key] for key in TRACED}
    assert ours["use_deterministic_compute"] == "1" and ours["session_log_severity_level"] == "1"
    assert ours["optimized_model_filepath"] == f'"{tmp_path / "optimized.onnx"}"'


def test_the_optimized_model_is_written_as_the_official_binding_writes_it(tmp_path: pathlib.Path) -> None:
    x = np.random.default_rng(3).standard_normal((4, 64)).astype(np.float32)
    for level in ("ORT_ENABLE_ALL", "ORT_ENABLE_BASIC", "ORT_DISABLE_ALL"):
        written = []
        for module in (official, compat):
            options = module.SessionOptions()
            options.graph_optimization_level = module.GraphOptimizationLevel.__members__[level]
            options.optimized_model_filepath = str(tmp_path / f"{level}-{module.__name__}.onnx")
            module.InferenceSession(models.mlp(), options, providers=CPU)
            written.append(pathlib.Path(options.optimized_model_filepath).read_bytes())
        assert written[0] == written[1], level
        run_both(make_both(written[1]), {"x": x})


def test_the_optimized_model_with_external_initializers(tmp_path: pathlib.Path) -> None:
    written = []
    for module in (official, compat):
        folder = tmp_path / module.__name__
        folder.mkdir()
        options = module.SessionOptions()
        options.optimized_model_filepath = str(folder / "optimized.onnx")
        options.add_session_config_entry("session.optimized_model_external_initializers_file_name", "weights.bin")
        options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "100")
        module.InferenceSession(models.mlp(), options, providers=CPU)
        written.append([(folder / name).read_bytes() for name in ("optimized.onnx", "weights.bin")])
    assert written[0] == written[1] and len(written[1][1]) > 100


def test_deterministic_compute_runs_the_same() -> None:
    def configure(options: Any) -> None:
        options.use_deterministic_compute = True

    pair = make_both(models.mlp(), configure)
    x = np.random.default_rng(4).standard_normal((8, 64)).astype(np.float32)
    _, first = run_both(pair, {"x": x})
    _, again = run_both(pair, {"x": x})
    assert_same(first, again)


def test_session_log_severity(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    def verbose(options: Any) -> None:
        options.log_severity_level = 0

    capfd.readouterr()
    with caplog.at_level(logging.DEBUG, logger="ortbind.onnxruntime"):
        make_both(models.mlp())  # the default: the environment's level, warning
        assert "Initializing session." not in capfd.readouterr().err
        assert "Initializing session." not in ortbind_log(caplog)
        make_both(models.mlp(), verbose)
        assert "Initializing session." in capfd.readouterr().err
        assert "Initializing session." in ortbind_log(caplog)
    for severity in (5, -2):
        for module in (official, compat):
            options = module.SessionOptions()
            options.log_severity_level = severity
            with pytest.raises(RuntimeError):
                module.InferenceSession(models.mlp(), options, providers=CPU)


def test_the_default_logger_severity_is_the_environments(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG, logger="ortbind.onnxruntime"):
        try:
            for module in (official, compat):
                module.set_default_logger_severity(1)
            assert ortbind.Env.default().log_level == "info"
            make_both(models.mlp())
            assert "Initializing session." in capfd.readouterr().err
            assert "Initializing session." in ortbind_log(caplog)
        finally:
            for module in (official, compat):
                module.set_default_logger_severity(2)
        assert ortbind.Env.default().log_level == "warning"
        make_both(models.mlp())
        assert "Initializing session." not in capfd.readouterr().err
        assert "Initializing session." not in ortbind_log(caplog)


def test_run_options_logid_is_the_runs_tag(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    def verbose(options: Any) -> None:
        options.log_severity_level = 0  # the session logs each run's tag at info level

    pair = make_both(models.mlp(), verbose)
    x = np.ones((1, 64), np.float32)
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG, logger="ortbind.onnxruntime"):
        for session, module in zip(pair, (official, compat), strict=True):
            options = module.RunOptions()
            options.logid = "request-17"
            options.log_severity_level = 3
            session.run(None, {"x": x}, options)
        assert "Running with tag: request-17" in capfd.readouterr().err
        assert "Running with tag: request-17" in ortbind_log(caplog)
        binding = pair[1].io_binding()
        binding.bind_cpu_input("x", x)
        binding.bind_output("probs")
        options = compat.RunOptions()
        options.logid = "bound-9"
        pair[1].run_with_iobinding(binding, options)
        assert "Running with tag: bound-9" in ortbind_log(caplog)


def test_a_run_log_severity_out_of_range_fails_as_in_the_official_binding() -> None:
    pair = make_both(models.mlp())
    x = np.ones((1, 64), np.float32)
    for severity in (5, -2):
        errors = []
        for session, module in zip(pair, (official, compat), strict=True):
            options = module.RunOptions()
            options.log_severity_level = severity
            errors.append(failure(session.run, None, {"x": x}, options))
        assert type(errors[1]).__name__ == type(errors[0]).__name__ == "Fail"
        assert str(errors[1]).startswith("[ONNXRuntimeError] : 1 : FAIL : ")


def test_run_config_entries_reach_onnx_runtime() -> None:
    pair = make_both(models.mlp())
    x = np.ones((1, 64), np.float32)
    for value, refused in (("cpu:0", False), ("gpu:0", True), ("bogus", True)):
        outcomes = []
        for session, module in zip(pair, (official, compat), strict=True):
            options = module.RunOptions()
            options.add_run_config_entry("memory.enable_memory_arena_shrinkage", value)
            outcomes.append(
                failure(session.run, None, {"x": x}, options) if refused else session.run(None, {"x": x}, options)
            )
        if refused:
            assert isinstance(outcomes[1], compat.InvalidArgument) and str(outcomes[1]) == str(outcomes[0])
        else:
            assert_same(outcomes[0], outcomes[1])


def test_the_load_cancellation_flag_stops_sessions_being_made() -> None:
    for module in (official, compat):
        options = module.SessionOptions()
        options.set_load_cancellation_flag(True)
        with pytest.raises(module.capi.onnxruntime_pybind11_state.ModelLoadCanceled, match="MODEL_LOAD_CANCELED"):
            module.InferenceSession(models.mlp(), options, providers=CPU)
        options.set_load_cancellation_flag(False)
        module.InferenceSession(models.mlp(), options, providers=CPU)
    options = compat.SessionOptions()
    options.set_load_cancellation_flag(True)
    with pytest.raises(ortbind.Cancelled):
        compat.InferenceSession(models.mlp(), pickle.loads(pickle.dumps(options)), providers=CPU)


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
