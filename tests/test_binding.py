"""The bound path (Session.bind): the same answers as run, with inputs bound once or per call and
outputs preallocated or left to ONNX Runtime; every promise of run kept (contracts, stop controls,
threads, close, clear errors, nothing leaked)."""

from __future__ import annotations

import gc
import inspect
import sys
import threading
import time
import weakref
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import ortbind
from support import models
from tests.helpers import chain_nodes

F32 = np.float32


def feeds_for(session: ortbind.Session, seed: int = 0, batch: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feeds = {}
    for spec in session.inputs:
        shape = [d if isinstance(d, int) else batch for d in spec.shape or ()]
        feeds[spec.name] = rng.standard_normal(shape).astype(spec.dtype)
    return feeds


@pytest.mark.parametrize(
    "model", [models.add(), models.add_one_element(), models.many_io(8), models.many_io(64), models.mlp()]
)
def test_bound_runs_equal_run_bit_for_bit(model: bytes) -> None:
    session = ortbind.Session(model)
    binding = session.bind()
    for seed in range(3):
        feeds = feeds_for(session, seed)
        expected = session.run(feeds)
        got = binding.run(feeds)
        assert isinstance(got, ortbind.Result)
        assert list(got) == list(expected)
        for name in expected:
            assert got[name].dtype == expected[name].dtype
            assert got[name].tobytes() == expected[name].tobytes()


def test_returned_outputs_are_never_written_by_a_later_run() -> None:
    # ONNX Runtime keeps an output it allocated bound, and the next run would write into its buffer.
    session = ortbind.Session(models.add())
    binding = session.bind()
    ones = np.ones((2, 3), F32)
    first = binding.run({"x": ones, "y": ones})["z"]
    second = binding.run({"x": ones * 5, "y": ones})["z"]
    assert first.tolist() == [[2.0] * 3] * 2
    assert second.tolist() == [[6.0] * 3] * 2
    assert not np.shares_memory(first, second)


def test_inputs_bound_once_see_refills_in_place() -> None:
    session = ortbind.Session(models.add())
    x = np.zeros((2, 3), F32)
    binding = session.bind(inputs={"x": x})
    assert binding.inputs == ("x",)
    y = np.ones((2, 3), F32)
    assert binding.run({"y": y})["z"].tolist() == [[1.0] * 3] * 2
    x[...] = 41.0
    assert binding.run({"y": y})["z"].tolist() == [[42.0] * 3] * 2


def test_everything_bound_once_runs_without_feeds() -> None:
    session = ortbind.Session(models.add())
    x, y = np.zeros((2, 3), F32), np.ones((2, 3), F32)
    z = np.empty((2, 3), F32)
    binding = session.bind(inputs={"x": x, "y": y}, out={"z": z})
    result = binding.run()
    assert result["z"] is z
    assert z.tolist() == [[1.0] * 3] * 2
    x[...] = 2.0
    binding.run()
    assert z.tolist() == [[3.0] * 3] * 2


def test_selected_outputs_in_the_callers_order() -> None:
    session = ortbind.Session(models.many_io(4))
    names = [o.name for o in session.outputs]
    wanted = [names[2], names[0]]
    binding = session.bind(wanted)
    assert binding.outputs == tuple(wanted)
    feeds = feeds_for(session)
    got = binding.run(feeds)
    expected = session.run(feeds, wanted)
    assert list(got) == wanted
    assert all(got[n].tobytes() == expected[n].tobytes() for n in wanted)


def test_a_mix_of_preallocated_and_computed_outputs() -> None:
    session = ortbind.Session(models.many_io(3))
    names = [o.name for o in session.outputs]
    shape = [d if isinstance(d, int) else 2 for d in session.outputs[1].shape or ()]
    kept = np.empty(shape, session.outputs[1].dtype)
    binding = session.bind(out={names[1]: kept})
    feeds = feeds_for(session)
    got = binding.run(feeds)
    expected = session.run(feeds)
    assert got[names[1]] is kept
    assert [got[n].tobytes() for n in names] == [expected[n].tobytes() for n in names]


def test_an_optional_input_left_out_is_never_the_last_calls_value() -> None:
    session = ortbind.Session(models.optional_model())
    binding = session.bind()
    given = binding.run({"opt": np.array([1.0, 2.0], F32)})
    assert bool(given["present"]) and given["same"].tolist() == [1.0, 2.0]
    absent = binding.run({"opt": None})
    assert not bool(absent["present"]) and absent["same"] is None
    again = binding.run({"opt": np.array([3.0], F32)})
    assert again["same"].tolist() == [3.0]


def test_per_call_values_of_every_kind() -> None:
    strings = ortbind.Session(models.string_model())
    binding = strings.bind()
    text = np.array(["yes", "no", "yes"])
    assert binding.run({"text": text})["same"].tolist() == strings.run({"text": text})["same"].tolist()
    sequence = ortbind.Session(models.sequence_model())
    feeds = {spec.name: [np.ones(3, F32), np.zeros(2, F32)] for spec in sequence.inputs}
    got, expected = sequence.bind().run(feeds), sequence.run(feeds)
    assert list(got) == list(expected)


def test_bound_inputs_refused_clearly() -> None:
    session = ortbind.Session(models.add())
    with pytest.raises(ortbind.DTypeError, match=r"inputs\['x'\] has dtype float64, but input 'x' is float32"):
        session.bind(inputs={"x": np.zeros((2, 3))})
    with pytest.raises(ortbind.InvalidValueError, match=r"C-contiguous.*a copy would not see what is refilled"):
        session.bind(inputs={"x": np.zeros((3, 2), F32).T})
    with pytest.raises(ortbind.KindError, match=r"inputs\['x'\] must be a numpy array, not list"):
        session.bind(inputs={"x": [[1.0, 2.0, 3.0]]})
    with pytest.raises(ortbind.NameMismatchError, match="'nope'"):
        session.bind(inputs={"nope": np.zeros((2, 3), F32)})
    with pytest.raises(ortbind.ShapeError, match="dim 1"):
        session.bind(inputs={"x": np.zeros((2, 4), F32)})
    with pytest.raises(ortbind.ShapeError, match="batch"):
        session.bind(inputs={"x": np.zeros((2, 3), F32), "y": np.zeros((5, 3), F32)})
    strings = ortbind.Session(models.string_model())
    with pytest.raises(ortbind.KindError, match="only numeric tensors of whole bytes can be bound once"):
        strings.bind(inputs={"text": np.array(["a"])})
    int4 = ortbind.Session(models.cast(22, 6))  # INT4 -> INT32
    with pytest.raises(ortbind.KindError, match="only numeric tensors of whole bytes"):
        int4.bind(inputs={"x": np.zeros(4, ml_dtypes.int4)})

    binding = session.bind(inputs={"x": np.zeros((2, 3), F32)})
    with pytest.raises(ortbind.NameMismatchError, match=r"'x' is bound once.*refill that array in place"):
        binding.run({"x": np.zeros((2, 3), F32), "y": np.zeros((2, 3), F32)})
    with pytest.raises(ortbind.NameMismatchError, match="missing input 'y'"):
        binding.run()
    with pytest.raises(ortbind.ShapeError, match="'y' dim 0 \\('batch'\\) is 3, but 'x' bound batch=2"):
        binding.run({"y": np.zeros((3, 3), F32)})
    with pytest.raises(ortbind.DTypeError):
        binding.run({"y": np.zeros((2, 3), np.float64)})
    # The binding is still good after each refusal.
    assert binding.run({"y": np.ones((2, 3), F32)})["z"].tolist() == [[1.0] * 3] * 2


def test_preallocated_outputs_refused_clearly() -> None:
    session = ortbind.Session(models.add())
    with pytest.raises(ortbind.DTypeError, match=r"out\['z'\] has dtype float64"):
        session.bind(out={"z": np.zeros((2, 3))})
    with pytest.raises(ortbind.NameMismatchError, match="out names output 'y1', which this run does not request"):
        ortbind.Session(models.many_io(2)).bind(["y0"], out={"y1": np.zeros(1, F32)})
    int4 = ortbind.Session(models.cast(6, 22))  # INT32 -> INT4
    with pytest.raises(ortbind.KindError, match="packs below a byte; it cannot be preallocated"):
        int4.bind(out={"y": np.zeros(4, ml_dtypes.int4)})
    with pytest.raises(ortbind.KindError, match="packs below a byte; it cannot be preallocated"):
        int4.run({"x": np.zeros(4, np.int32)}, out={"y": np.zeros(4, ml_dtypes.int4)})


def test_a_tightened_contract_is_checked_by_its_bindings() -> None:
    checked = ortbind.Session(models.add()).with_contract(dims={"batch": 2})
    binding = checked.bind()
    assert binding.run({"x": np.ones((2, 3), F32), "y": np.ones((2, 3), F32)})["z"].shape == (2, 3)
    with pytest.raises(ortbind.ShapeError, match="batch"):
        binding.run({"x": np.ones((4, 3), F32), "y": np.ones((4, 3), F32)})
    with pytest.raises(ortbind.ShapeError, match="batch"):
        checked.bind(inputs={"x": np.ones((4, 3), F32)})


def test_signatures() -> None:
    session = ortbind.Session(models.add())
    assert str(inspect.signature(session.bind)) == "(outputs=None, *, out=None, inputs=None, contract=None)"
    assert str(inspect.signature(session.bind().run)) == (
        "(feeds=None, *, timeout=None, cancel=None, adapters=None, tag=None, log_level=None, run_config=None, "
        "profile=None)"
    )
    run: Any = session.bind().run
    with pytest.raises(TypeError, match="run\\(\\) got an unexpected keyword argument 'out'"):
        run({}, out={})
    with pytest.raises(TypeError, match="takes at most 1 positional argument"):
        run({}, ["z"])


def test_threads_each_get_their_own_binding_and_the_right_rows() -> None:
    session = ortbind.Session(models.mlp(), intra_op_threads=1)
    binding = session.bind()
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        try:
            for i in range(200):
                feeds = feeds_for(session, seed * 1000 + i, batch=1 + (seed + i) % 4)
                got = binding.run(feeds)
                expected = session.run(feeds)
                assert all(got[n].tobytes() == expected[n].tobytes() for n in expected)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.fixture(scope="module")
def slow() -> ortbind.Session:
    return ortbind.Session(models.matmul_chain(chain_nodes(3.0), 256), intra_op_threads=1)


def test_timeout_and_cancel_stop_a_bound_run(slow: ortbind.Session) -> None:
    binding = slow.bind(inputs={"x": np.eye(256, dtype=F32)})
    start = time.perf_counter()
    with pytest.raises(ortbind.RunTimeout):
        binding.run(timeout=0.1)
    assert time.perf_counter() - start < 1.0
    token = ortbind.CancelToken()
    threading.Timer(0.1, token.cancel).start()
    start = time.perf_counter()
    with pytest.raises(ortbind.Cancelled):
        binding.run(cancel=token)
    assert time.perf_counter() - start < 1.0


def test_close_waits_for_a_bound_run_and_later_runs_are_refused() -> None:
    session = ortbind.Session(models.matmul_chain(chain_nodes(0.5), 256), intra_op_threads=1)
    binding = session.bind(inputs={"x": np.eye(256, dtype=F32)})
    started = threading.Event()
    outcome: list[object] = []

    def run(bound: ortbind.Binding) -> None:
        started.set()
        outcome.append(bound.run()["y"])  # started before close: it finishes, never ClosedError

    runner = threading.Thread(target=run, args=(binding,))
    runner.start()
    started.wait()
    time.sleep(0.1)
    session.close()  # waits for the run in flight
    runner.join()
    assert len(outcome) == 1 and isinstance(outcome[0], np.ndarray) and outcome[0].shape == (256, 256)
    with pytest.raises(ortbind.ClosedError):
        binding.run()
    with pytest.raises(ortbind.ClosedError):
        session.bind()
    del binding
    gc.collect()  # the runtime's bindings of a closed session are released safely


def test_a_binding_keeps_its_session_alive() -> None:
    session = ortbind.Session(models.add_one_element())
    binding = session.bind()
    alive = weakref.ref(session)
    del session
    gc.collect()
    assert alive() is not None and binding.session is alive()
    assert binding.run({"x": np.array([1.0], F32)})["y"].tolist() == [2.0]
    del binding
    gc.collect()
    assert alive() is None


def test_per_call_inputs_are_released_when_the_call_returns() -> None:
    session = ortbind.Session(models.add_one_element())
    binding = session.bind()
    first = np.array([1.0], F32)
    before = sys.getrefcount(first)
    gone = weakref.ref(first)
    binding.run({"x": first})
    assert sys.getrefcount(first) == before
    del first
    assert gone() is None
    # The runtime's binding still points at that buffer, but the next run binds its own input first.
    assert binding.run({"x": np.array([2.0], F32)})["y"].tolist() == [4.0]  # y = x + x


def test_a_second_thread_running_a_binding_with_preallocated_outputs_is_refused(slow: ortbind.Session) -> None:
    y = np.empty((256, 256), F32)
    binding = slow.bind(inputs={"x": np.eye(256, dtype=F32)}, out={"y": y})
    started = threading.Event()
    outcome: list[object] = []

    def run() -> None:
        started.set()
        outcome.append(binding.run()["y"])

    runner = threading.Thread(target=run)
    runner.start()
    started.wait()
    time.sleep(0.2)
    with pytest.raises(ortbind.InvalidValueError, match=r"another thread is running it.*its own binding"):
        binding.run()
    runner.join()
    assert outcome[0] is y
    assert binding.run()["y"] is y  # free again


def test_preallocated_outputs_are_checked_against_each_calls_symbols() -> None:
    session = ortbind.Session(models.add())
    binding = session.bind(out={"z": np.zeros((2, 3), F32)})
    four = np.ones((4, 3), F32)
    with pytest.raises(ortbind.ShapeError) as from_binding:
        binding.run({"x": four, "y": four})
    with pytest.raises(ortbind.ShapeError) as from_run:
        session.run({"x": four, "y": four}, out={"z": np.zeros((2, 3), F32)})
    assert str(from_binding.value) == str(from_run.value)
    assert "output 'z' dim 0 ('batch') is 2, but 'x' bound batch=4" in str(from_binding.value)


def test_an_uninitialised_binding_is_refused_not_read() -> None:
    raw = ortbind.Binding.__new__(ortbind.Binding)
    for read in (lambda: raw.session, lambda: raw.inputs, lambda: raw.outputs, lambda: raw.run()):
        with pytest.raises(ortbind.KindError, match="never made"):
            read()


def test_a_failed_bound_run_leaves_the_binding_usable() -> None:
    session = ortbind.Session(models.add(shape=[None, None]))
    binding = session.bind()
    ok = binding.run({"x": np.ones((2, 3), F32), "y": np.ones((2, 3), F32)})["z"]
    with pytest.raises(ortbind.Error):
        binding.run({"x": np.ones((2, 3), F32), "y": np.ones((4, 5), F32)})  # broadcast fails in the run
    after = binding.run({"x": np.ones((1, 7), F32), "y": np.full((1, 7), 2, F32)})["z"]
    assert after.tolist() == [[3.0] * 7]
    assert ok.tolist() == [[2.0] * 3] * 2


def test_output_shapes_may_change_between_bound_runs() -> None:
    # A runtime-allocated output left bound would be reused, and refused once its shape changes.
    session = ortbind.Session(models.add(shape=[None, None]))
    binding = session.bind()
    for shape in [(2, 3), (4, 3), (1, 1), (8, 8)]:
        x = np.ones(shape, F32)
        assert binding.run({"x": x, "y": x})["z"].shape == shape
