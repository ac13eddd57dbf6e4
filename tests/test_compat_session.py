"""ortbind.compat's InferenceSession against the official binding, behaviour by behaviour: each test
here checks on the CPU what one of the official binding's own tests checks (docs/compat.md lists
which), comparing with the official binding where both can run."""

from __future__ import annotations

import pathlib
import pickle
import threading
import weakref
from typing import Any

import numpy as np
import onnxruntime as official
import pytest
from onnx import TensorProto

import ortbind
import ortbind.compat as compat
from ortbind.compat.capi.onnxruntime_inference_collection import check_and_normalize_provider_args
from support import models
from support.compat import assert_same, failure, make_both, run_both
from tests.helpers import chain_nodes, run_child

CPU = ["CPUExecutionProvider"]
X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)


def session(model: bytes | str, **kwargs: Any) -> compat.InferenceSession:
    return compat.InferenceSession(model, providers=CPU, **kwargs)


# --- making a session --------------------------------------------------------------------------


def test_signature_and_run_match_the_official_binding() -> None:
    pair = make_both(models.mul_by_weights())
    for theirs, ours in ((pair[0].get_inputs(), pair[1].get_inputs()), (pair[0].get_outputs(), pair[1].get_outputs())):
        assert [(a.name, a.shape, a.type, str(a)) for a in ours] == [(a.name, a.shape, a.type, str(a)) for a in theirs]
    _, ours = run_both(pair, {"X": X}, ["Y"])
    np.testing.assert_array_equal(ours[0], X * X)


def test_session_from_path_pathlib_bytes_and_keywords(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "mul.onnx"
    path.write_bytes(models.mul_by_weights())
    made = [
        compat.InferenceSession(str(path)),
        compat.InferenceSession(path, None, CPU),
        compat.InferenceSession(path.read_bytes(), compat.SessionOptions(), CPU, None),
        compat.InferenceSession(path_or_bytes=str(path), sess_options=None, providers=CPU, provider_options=None),
    ]
    for each in made:
        assert isinstance(each, compat.InferenceSession)
        np.testing.assert_array_equal(each.run(None, {"X": X})[0], X * X)
    assert made[0]._model_path == str(path) and made[0]._model_bytes is None
    assert made[2]._model_path is None and made[2]._model_bytes == path.read_bytes()


def test_a_model_of_another_type_is_a_type_error() -> None:
    theirs, ours = failure(official.InferenceSession, 12), failure(compat.InferenceSession, 12)
    assert isinstance(ours, TypeError) and str(ours) == str(theirs)


def test_load_errors_have_the_official_class_and_message() -> None:
    for model in ("/nonexistent/model.onnx", b"not a model"):
        theirs, ours = failure(official.InferenceSession, model), failure(compat.InferenceSession, model)
        assert type(ours).__name__ == type(theirs).__name__
        assert isinstance(ours, ortbind.Error) and str(ours) == str(theirs)


def test_model_metadata_matches() -> None:
    pair = make_both(models.with_metadata())
    fields = ("producer_name", "graph_name", "graph_description", "domain", "description", "version")
    theirs, ours = pair[0].get_modelmeta(), pair[1].get_modelmeta()
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]
    assert ours.producer_name == "onnx-caffe2" and ours.version == 7
    assert ours.custom_metadata_map == theirs.custom_metadata_map == {"vocabulary": "a b c", "author": "tests"}


def test_session_options_given_are_kept_and_reported_as_a_copy() -> None:
    options = compat.SessionOptions()
    options.intra_op_num_threads = 2
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    made = session(models.mul_by_weights(), sess_options=options)
    reported = made.get_session_options()
    assert reported is not options and made._sess_options_initial is options
    assert reported.intra_op_num_threads == 2
    assert reported.get_session_config_entry("session.intra_op.allow_spinning") == "0"


# --- providers ---------------------------------------------------------------------------------


def test_available_providers_and_the_cpu_last() -> None:
    assert compat.get_available_providers() == official.get_available_providers()
    assert compat.get_all_providers() == official.get_all_providers()
    assert compat.get_all_providers()[-1] == "CPUExecutionProvider"
    made = compat.InferenceSession(models.mul_by_weights(), providers=compat.get_available_providers())
    assert "CPUExecutionProvider" in made.get_providers()
    assert compat.get_device() == official.get_device()


def test_an_unavailable_provider_warns_and_is_skipped() -> None:
    wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    with pytest.warns(UserWarning, match="Specified provider 'CUDAExecutionProvider' is not in available") as theirs:
        made_official = official.InferenceSession(models.mul_by_weights(), providers=wanted)
    with pytest.warns(UserWarning, match="Specified provider 'CUDAExecutionProvider' is not in available") as ours:
        made = compat.InferenceSession(models.mul_by_weights(), providers=wanted)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert made.get_providers() == made_official.get_providers() == ["CPUExecutionProvider"]
    assert ours[0].filename == __file__  # the warning points at the caller


def test_cpu_provider_options_are_accepted_like_the_official_binding() -> None:
    providers = [("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})]
    theirs = official.InferenceSession(models.mul_by_weights(), providers=providers)
    ours = compat.InferenceSession(models.mul_by_weights(), providers=providers)
    assert ours.get_provider_options() == theirs.get_provider_options()
    assert ours.get_providers() == theirs.get_providers()
    np.testing.assert_array_equal(ours.run(None, {"X": X})[0], X * X)


def test_providers_as_a_tuple_and_with_provider_options() -> None:
    made = compat.InferenceSession(models.mul_by_weights(), providers=("CPUExecutionProvider",))
    assert made.get_providers() == ["CPUExecutionProvider"]
    made = compat.InferenceSession(models.mul_by_weights(), providers=CPU, provider_options=[{"a": 1}])
    assert made.get_provider_options() == {"CPUExecutionProvider": {}}


def test_set_providers_remakes_the_session_and_refuses_an_unknown_type() -> None:
    made = session(models.mul_by_weights())
    made.set_providers(["CPUExecutionProvider"])
    assert made.get_providers() == ["CPUExecutionProvider"]
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="Unknown Provider Type: InvalidProvider"):
        made.set_providers(["InvalidProvider"])


def test_an_unknown_provider_falls_back_to_the_cpu_as_the_official_binding(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.warns(UserWarning):
        theirs = official.InferenceSession(models.mul_by_weights(), providers=["Bogus"])
    official_out = capsys.readouterr().out
    with pytest.warns(UserWarning):
        ours = compat.InferenceSession(models.mul_by_weights(), providers=["Bogus"])
    assert capsys.readouterr().out == official_out
    assert ours.get_providers() == theirs.get_providers() == ["CPUExecutionProvider"]


def test_check_and_normalize_provider_args() -> None:
    valid = ["a", "b", "c"]
    assert check_and_normalize_provider_args(None, None, valid) == ([], [])
    assert check_and_normalize_provider_args(["a", "b"], None, valid) == (["a", "b"], [{}, {}])
    assert check_and_normalize_provider_args([("a", {1: 2}), "b"], None, valid) == (["a", "b"], [{"1": "2"}, {}])
    assert check_and_normalize_provider_args(["a", "b"], [{1: 2}, {}], valid) == (["a", "b"], [{"1": "2"}, {}])
    with pytest.warns(UserWarning, match="Duplicate provider 'a'"):
        got = check_and_normalize_provider_args(["a", "b", "a"], [{"x": 1}, {}, {"y": 2}], valid)
    assert got == (["a", "b"], [{"x": "1"}, {}])
    cases: list[tuple[Any, Any]] = [(3, None), ([3], None), (["a"], 3), (["a"], ["not dict"]), (["a", "b"], [{1: 2}])]
    for providers, options in cases:
        with pytest.raises(ValueError):
            check_and_normalize_provider_args(providers, options, valid)
    with pytest.raises(ValueError):
        check_and_normalize_provider_args([("a", {1: 2})], [{3: 4}], valid)


# --- feeds -------------------------------------------------------------------------------------


def test_lists_are_converted_as_the_official_binding_converts_them() -> None:
    pair = make_both(models.mul_by_weights())
    run_both(pair, {"X": X.tolist()})
    ints = make_both(models.identity(TensorProto.INT32))
    for value in ([1.7, -2.5, 3.0], [True, False], [1, 2, 3]):
        run_both(ints, {"x": value})
    refused: list[Any] = [[[1, 2], [3]], ["a", "b"], [2**40]]
    for value in refused:
        theirs, ours = failure(ints[0].run, None, {"x": value}), failure(ints[1].run, None, {"x": value})
        assert isinstance(ours, RuntimeError) and isinstance(ours, ortbind.Error)
        assert str(ours) == str(theirs) == "Could not create tensor from given input list"


def test_string_inputs_of_every_kind_match() -> None:
    pair = make_both(models.identity_string())
    assert pair[1].get_inputs()[0].type == "tensor(string)"
    for x in (
        np.array(["this", "is", "identity", "test"], dtype=str).reshape(2, 2),
        np.array(["Olá", "你好", "여보세요", "hello"], dtype=str).reshape(2, 2),
        np.array(["this", "is", "identity", "test"], dtype=object).reshape(2, 2),
        np.array([b"must", b"have", b"same", b"size"], dtype=np.void).reshape(2, 2),
    ):
        _, ours = run_both(pair, {"input:0": x})
        assert ours[0].dtype == object
    run_both(pair, {"input:0": [["this", "is"], ["identity", "test"]]})


def test_bytes_for_a_string_input_are_decoded_whole() -> None:
    pair = make_both(models.identity_string())
    x = np.array([b"this", b"is", b"identity", b"test"]).reshape(2, 2)
    ours = pair[1].run(None, {"input:0": x})[0]
    assert ours.tolist() == [["this", "is"], ["identity", "test"]]
    # The official binding reads an entry as long as the array's item size past its end ("identity"
    # fills all 8 bytes): its own test compares only the first 8 bytes of each string.
    theirs = pair[0].run(None, {"input:0": x})[0]
    np.testing.assert_array_equal(theirs.astype("|S8"), x)
    assert theirs[1, 0] != ours[1, 0]


def test_boolean_float64_int32_zero_d_and_empty_feeds() -> None:
    pair = make_both(models.logical_and())
    assert [a.name for a in pair[1].get_inputs()] == ["input1:0", "input:0"]
    a = np.array([[True, True], [False, False]])
    b = np.array([[True, False], [True, False]])
    run_both(pair, {"input1:0": a, "input:0": b})
    for elem, value in ((TensorProto.DOUBLE, np.arange(3.0)), (TensorProto.INT32, np.arange(3, dtype=np.int32))):
        run_both(make_both(models.identity(elem)), {"x": value})
    run_both(make_both(models.identity(TensorProto.INT64, shape=())), {"x": np.array(16000, dtype=np.int64)})
    run_both(make_both(models.constant_only()), {})


def test_a_non_contiguous_input_and_an_unnamed_dim() -> None:
    pair = make_both(models.matmul_unnamed_batch())
    assert pair[1].get_inputs()[0].shape == ["None", 2] and pair[1].get_outputs()[0].shape == ["None", 1]
    x = np.array([[2.0, 1.0], [4.0, 3.0], [6.0, 5.0]], dtype=np.float32)[:, [1, 0]]
    _, ours = run_both(pair, {"X": x})
    np.testing.assert_array_equal(ours[0], [[5.0], [11.0], [17.0]])
    run_both(pair, {"X": np.ascontiguousarray(x)})


def test_symbolic_dims_broadcast_as_in_the_official_binding() -> None:
    run_both(make_both(models.add()), {"x": np.ones((1, 3), np.float32), "y": np.ones((2, 3), np.float32)})


def test_sequences_and_optional_inputs() -> None:
    length = make_both(models.sequence_length())
    assert length[1].get_inputs()[0].type == "seq(tensor(float))"
    run_both(length, {"seq": [X, X]})
    construct = make_both(models.sequence_construct())
    assert construct[1].get_outputs()[0].type == "seq(tensor(int64))"
    t = np.array([1, 0, 3, 44, 23, 11], dtype=np.int64).reshape(2, 3)
    run_both(construct, {"tensor1": t, "tensor2": t + 1})
    run_both(make_both(models.sequence_insert()), {"tensor": t, "input_seq": []})
    optional = make_both(models.optional_sequence_identity())
    assert optional[1].get_inputs()[0].type == optional[0].get_inputs()[0].type
    run_both(optional, {"x": [np.array([1, 2, 3, 4, 5], np.float32)]})
    opt = make_both(models.optional_model())
    assert [(a.shape, a.type) for a in opt[1].get_inputs()] == [(a.shape, a.type) for a in opt[0].get_inputs()]
    run_both(opt, {})
    run_both(opt, {"opt": np.ones(2, np.float32)})
    run_both(make_both(models.zipmap()), {"probs": np.ones((2, 3), np.float32)})
    run_both(make_both(models.dict_vectorizer()), {"features": {"a": 1.0, "c": 2.0}})


def test_string_outputs_are_object_arrays() -> None:
    _, ours = run_both(make_both(models.string_model()), {"text": np.array(["yes", "no"])})
    assert ours[0].dtype == object and ours[0].tolist() == ["yes", "no"]


# --- refusals ----------------------------------------------------------------------------------


def test_missing_inputs_raise_the_official_value_error() -> None:
    pair = make_both(models.logical_and())
    a = np.array([[True, True], [False, False]])
    theirs, ours = failure(pair[0].run, [], {"input:0": a}), failure(pair[1].run, [], {"input:0": a})
    assert isinstance(ours, ValueError) and isinstance(ours, ortbind.NameMismatchError)
    assert str(ours) == str(theirs) == "Required inputs (['input1:0']) are missing from input feed (['input:0'])."


def test_refused_feeds_have_the_official_class_and_wording() -> None:
    pair = make_both(models.add())
    good = np.ones((2, 3), np.float32)
    cases = {
        "rank": {"x": np.ones(3, np.float32), "y": good},
        "dims": {"x": np.ones((2, 4), np.float32), "y": good},
        "name": {"x": good, "y": good, "zzz": good},
    }
    for feeds in cases.values():
        theirs, ours = failure(pair[0].run, None, feeds), failure(pair[1].run, None, feeds)
        assert isinstance(ours, compat.InvalidArgument) and str(ours) == str(theirs)
    theirs, ours = (
        failure(pair[0].run, ["nope"], {"x": good, "y": good}),
        failure(pair[1].run, ["nope"], {"x": good, "y": good}),
    )
    assert isinstance(ours, compat.InvalidArgument) and str(ours) == str(theirs)


def test_an_array_of_another_dtype_is_refused_never_cast() -> None:
    pair = make_both(models.add())
    feeds = {"x": np.ones((2, 3)), "y": np.ones((2, 3), np.float32)}
    theirs, ours = failure(pair[0].run, None, feeds), failure(pair[1].run, None, feeds)
    assert isinstance(ours, compat.InvalidArgument)
    assert str(theirs) == (
        "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Unexpected input data type. "
        "Actual: (tensor(double)) , expected: (tensor(float))"
    )
    assert str(ours).startswith(str(theirs)) and "'x'" in str(ours)


# --- runs --------------------------------------------------------------------------------------


def test_output_names_none_empty_and_chosen() -> None:
    pair = make_both(models.string_model())
    feeds = {"text": np.array(["yes", "no"])}
    for outputs in (None, [], ["is_yes"], ("is_yes", "same")):
        run_both(pair, feeds, outputs)


def test_a_passed_through_input_is_a_copy_that_survives_later_runs() -> None:
    made = session(models.passthrough())
    kept = []
    for index in range(7):
        given = np.full([1, 2, 2, 2], float(index), np.float32)
        outputs = made.run(None, {"input_0": given})
        assert not np.shares_memory(outputs[1], given)
        kept.append(outputs)
    for index, (plus, same) in enumerate(kept):
        np.testing.assert_array_equal(plus, np.full([1, 2, 2, 2], index + 10.0))
        np.testing.assert_array_equal(same, np.full([1, 2, 2, 2], float(index)))


def test_outputs_are_views_of_the_runtime_buffer() -> None:
    output = session(models.mul_by_weights()).run(None, {"X": X})[0]
    assert output.base is not None


def test_runs_from_several_threads_with_their_own_run_options() -> None:
    made = session(models.mul_by_weights())
    results: list[np.ndarray] = []

    def work(logid: str) -> None:
        options = compat.RunOptions()
        options.logid = logid
        for _ in range(20):
            results.append(made.run([], {"X": X}, run_options=options)[0])

    threads = [threading.Thread(target=work, args=(f"thread{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40 and all(np.array_equal(r, X * X) for r in results)


def test_run_async_calls_back_with_results_and_user_data() -> None:
    options = compat.SessionOptions()
    options.intra_op_num_threads = 2
    made = compat.InferenceSession(models.mul_by_weights(), options, providers=CPU)
    event, seen = threading.Event(), []

    def callback(results: list[np.ndarray], data: Any, error: str) -> None:
        seen.append((results, data, error, threading.current_thread() is threading.main_thread()))
        event.set()

    made.run_async(["Y"], {"X": X}, callback, {"id": 123456})
    assert event.wait(10)
    results, data, error, on_main = seen[0]
    assert error == "" and data == {"id": 123456} and not on_main
    np.testing.assert_array_equal(results[0], X * X)

    event.clear()
    made.run_async(None, {"X": np.ones((2, 2), np.float32)}, callback, None)
    assert event.wait(10)
    assert seen[1][0] == [] and seen[1][2].startswith("Got invalid dimensions for input: X")
    with pytest.raises(ValueError, match="Required inputs"):
        made.run_async(None, {}, callback, None)


def test_run_async_runs_on_a_session_without_a_thread_pool() -> None:
    options = compat.SessionOptions()
    options.intra_op_num_threads = 1
    made = compat.InferenceSession(models.mul_by_weights(), options, providers=CPU)
    event, seen = threading.Event(), []

    def callback(results: list[Any], data: Any, error: str) -> None:
        seen.append((results, error))
        event.set()

    made.run_async(None, {"X": X.tolist()}, callback, None)
    assert event.wait(10) and seen[0][1] == ""
    np.testing.assert_array_equal(seen[0][0][0], X * X)


def test_profiling_writes_a_trace_and_start_times_increase(tmp_path: pathlib.Path) -> None:
    starts = []
    for index in range(3):
        options = compat.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = str(tmp_path / f"trace{index}")
        made = compat.InferenceSession(models.mul_by_weights(), sess_options=options, providers=CPU)
        made.run([], {"X": X})
        starts.append(made.get_profiling_start_time_ns())
        lines = pathlib.Path(made.end_profiling()).read_text().splitlines()
        assert "[" in lines[0] and "]" in lines[-1]
        for line in lines[1:-1]:
            for tag in ("pid", "dur", "ts", "ph", "X", "name", "args"):
                assert tag in line
    assert starts[0] <= starts[1] <= starts[2]
    assert session(models.mul_by_weights()).end_profiling() == ""


def test_lora_adapter_through_run_options(tmp_path: pathlib.Path) -> None:
    from tests.test_loading_adapters import DELTA, lora_model  # the model and delta those tests use

    path = tmp_path / "delta.onnx_adapter"
    writer = official.AdapterFormat()
    writer.set_adapter_version(1)
    writer.set_model_version(1)
    writer.set_parameters({"lora_b": official.OrtValue.ortvalue_from_numpy(DELTA)})
    writer.export_adapter(str(path))
    x = np.ones((4, 3), np.float32)
    expected = []
    for module in (official, compat):
        adapter = module.LoraAdapter()
        adapter.Load(str(path))
        options = module.RunOptions()
        options.add_active_adapter(adapter)
        made = module.InferenceSession(lora_model(), providers=CPU)
        expected.append((made.run(None, {"x": x}, options)[0], made.run(None, {"x": x}, module.RunOptions())[0]))
    assert_same(expected[0], expected[1])
    assert not np.array_equal(expected[1][0], expected[1][1])


def test_run_config_entries_are_kept() -> None:
    options = compat.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    assert options.get_run_config_entry("memory.enable_memory_arena_shrinkage") == "cpu:0"
    np.testing.assert_array_equal(session(models.mul_by_weights()).run([], {"X": X}, options)[0], X * X)
    with pytest.raises(RuntimeError, match="RunOptions does not have configuration with key: nope"):
        options.get_run_config_entry("nope")


# --- stopping runs -----------------------------------------------------------------------------


def slow_session() -> tuple[compat.InferenceSession, dict[str, np.ndarray]]:
    options = compat.SessionOptions()
    options.intra_op_num_threads = 1
    made = compat.InferenceSession(models.matmul_chain(400, 256), options, providers=CPU)
    return made, {made.get_inputs()[0].name: np.eye(256, dtype=np.float32)}


def test_terminate_stops_a_run_from_another_thread_and_can_be_lifted() -> None:
    made, feeds = slow_session()
    options = compat.RunOptions()
    timer = threading.Timer(0.05, lambda: setattr(options, "terminate", True))
    timer.start()
    with pytest.raises(compat.Fail, match="Exiting due to terminate flag being set to true") as stopped:
        for _ in range(1000):  # the flag is set during one of these runs
            made.run(None, feeds, options)
    timer.join()
    assert isinstance(stopped.value, ortbind.Cancelled)
    with pytest.raises(compat.Fail):
        made.run(None, feeds, options)
    options.terminate = False
    assert made.run(None, feeds, options)[0].shape == (256, 256)


def test_a_run_options_timeout_stops_a_long_run() -> None:
    made, feeds = slow_session()
    options = compat.RunOptions()
    options.timeout = 0.01
    with pytest.raises(compat.Fail) as stopped:
        made.run(None, feeds, options)
    assert isinstance(stopped.value, ortbind.RunTimeout) and isinstance(stopped.value, TimeoutError)


# --- subclasses, pickling, the native session --------------------------------------------------


class PickableSession(compat.InferenceSession):
    """A subclass as one real library writes it: pickled as its path, made again by __init__."""

    def __init__(self, model_path: str, **kwargs: Any) -> None:
        super().__init__(model_path, **kwargs)
        self.model_path = model_path

    def __getstate__(self) -> dict[str, Any]:
        return {"model_path": self.model_path}

    def __setstate__(self, values: dict[str, Any]) -> None:
        self.__init__(values["model_path"])  # type: ignore[misc]


def test_a_subclass_pickles_by_calling_init_again(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "mul.onnx"
    path.write_bytes(models.mul_by_weights())
    made = PickableSession(str(path), providers=CPU)
    assert made._providers == ["CPUExecutionProvider"] and made._provider_options == {"CPUExecutionProvider": {}}
    assert made._model_path == str(path) and isinstance(made._sess_options, compat.SessionOptions)
    again = pickle.loads(pickle.dumps(made))
    assert isinstance(again, PickableSession) and isinstance(again, compat.InferenceSession)
    np.testing.assert_array_equal(again.run(None, {"X": X})[0], X * X)


def test_a_session_pickles_as_what_made_it() -> None:
    again = pickle.loads(pickle.dumps(session(models.mul_by_weights())))
    np.testing.assert_array_equal(again.run(None, {"X": X})[0], X * X)


def test_the_native_session_is_at_hand() -> None:
    made = session(models.mul_by_weights())
    native = made.ortbind
    assert isinstance(native, ortbind.Session)
    assert native.run({"X": X}).extract("Y", np.float32).tolist() == (X * X).tolist()
    out = np.empty((3, 2), np.float32)
    native.bind(inputs={"X": X}, out={"Y": out}).run()
    np.testing.assert_array_equal(out, X * X)


def test_errors_are_ortbind_errors_under_the_official_names() -> None:
    from onnxruntime.capi import onnxruntime_pybind11_state as theirs

    from ortbind.compat.capi import onnxruntime_pybind11_state as ours

    names = [n for n, c in vars(theirs).items() if isinstance(c, type) and issubclass(c, Exception)]
    assert names
    for name in names:
        assert issubclass(getattr(ours, name), ortbind.Error), name
    assert ours.Fail is ortbind.errors.Fail and ours.NotImplemented is ortbind.errors.NotImplementedInRuntime


def test_version_and_module_functions() -> None:
    assert compat.__version__ == official.__version__ == ortbind.runtime.RUNTIME_VERSION
    assert compat.get_version_string() == official.get_version_string()
    assert "Build Info" in compat.get_build_info()
    compat.disable_telemetry_events()
    compat.enable_telemetry_events()
    compat.preload_dlls()
    compat.set_default_logger_severity(3)
    compat.set_default_logger_verbosity(0)
    with pytest.raises(RuntimeError, match="Invalid logging severity"):
        compat.set_default_logger_severity(5)
    compat.set_default_logger_severity(2)


def test_a_dropped_session_is_freed_at_once() -> None:
    made = session(models.mul_by_weights())
    made.run(None, {"X": X})
    native, ours = weakref.ref(made.ortbind), weakref.ref(made)
    del made
    assert ours() is None and native() is None  # no reference cycle keeps them for the collector


def test_a_subclass_run_and_a_kept_run_method() -> None:
    class Counting(compat.InferenceSession):
        calls = 0

        def run(self, *args: Any, **kwargs: Any) -> list[Any]:
            Counting.calls += 1
            return super().run(*args, **kwargs)

    made = Counting(models.mul_by_weights(), providers=CPU)
    np.testing.assert_array_equal(made.run(None, {"X": X})[0], X * X)
    assert Counting.calls == 1
    run = session(models.mul_by_weights()).run  # the session itself is dropped
    np.testing.assert_array_equal(run(None, {"X": X})[0], X * X)
    np.testing.assert_array_equal(run(None, {"X": X}, compat.RunOptions())[0], X * X)
    with pytest.raises(ortbind.Error):
        run(None, {"X": X.astype(np.float64)})


def test_ctrl_c_interrupts_a_long_run() -> None:
    result = run_child("compat_ctrl_c", "0.5", str(chain_nodes(6.0)), timeout=120)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    word, seconds = first.split()
    assert word == "interrupted" and float(seconds) < 1.5
    assert second == "usable True"
