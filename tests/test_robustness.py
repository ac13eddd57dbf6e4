"""Hostile models and feeds, misuse and races: each gets an ortbind error, never a crash.

Anything that could kill the process runs in a child process, so a crash fails one test instead of
the whole suite."""

from __future__ import annotations

import contextlib
import gc
import json
import sys
import threading
import time
import weakref
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ortbind
from support import models, plugins, real_models
from tests.helpers import chain_nodes, run_child


def test_hostile_model_bytes_never_crash() -> None:
    result = run_child("hostile_models", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    errors, loaded, total = map(int, result.stdout.split())
    assert errors + loaded == total and errors >= 50


def test_model_files(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    empty = folder / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(ortbind.Error):
        ortbind.Session(empty)
    unreadable = folder / "secret.onnx"
    unreadable.write_bytes(models.add_one_element())
    unreadable.chmod(0)
    try:
        ortbind.Session(unreadable)  # root may read it anyway: then it simply loads
    except ortbind.Error as error:
        assert "secret.onnx" in str(error)
    external = folder / "external.onnx"
    import onnx
    from onnx import TensorProto, helper

    weights = onnx.numpy_helper.from_array(np.ones((64, 64), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "ext",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(
        model, external, save_as_external_data=True, all_tensors_to_one_file=True, location="w.bin", size_threshold=0
    )
    assert ortbind.Session(external).run({"x": np.ones((1, 64), np.float32)})["y"][0, 0] == 64.0
    (folder / "w.bin").unlink()
    with pytest.raises(ortbind.Error, match=r"w\.bin"):
        ortbind.Session(external)


def test_unsupported_opset_is_an_error() -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "future",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 999)])
    with pytest.raises(ortbind.Error, match="opset"):
        ortbind.Session(model.SerializeToString())


feed_values = st.one_of(
    hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.bool_, np.float16, np.uint8]),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
    ),
    st.none(),
    st.integers(),
    st.floats(),
    st.text(max_size=3),
    st.lists(st.floats(width=32), max_size=4),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=feed_values, y=feed_values, extra=st.booleans(), layout=st.sampled_from(["C", "F", "strided"]))
def test_any_feed_gives_a_result_or_an_ortbind_error(x: object, y: object, extra: bool, layout: str) -> None:
    session = _fuzz_session()
    if isinstance(x, np.ndarray) and x.ndim >= 2:
        x = np.asfortranarray(x) if layout == "F" else x[:, ::2] if layout == "strided" else x
    feeds: dict[object, object] = {"x": x, "y": y}
    if extra:
        feeds[3 if isinstance(y, float) else "z"] = y
    try:
        result = session.run(feeds)
    except ortbind.Error:
        pass
    else:
        assert result["z"].dtype == np.float32
    assert session.run({"x": np.ones((1, 3), np.float32), "y": np.ones((1, 3), np.float32)})["z"].shape == (1, 3)


_sessions: dict[str, ortbind.Session] = {}


def _fuzz_session() -> ortbind.Session:
    if "add" not in _sessions:
        _sessions["add"] = ortbind.Session(models.add())
    return _sessions["add"]


def test_close_while_another_thread_runs() -> None:
    session = ortbind.Session(models.matmul_chain(chain_nodes(0.5), 256), intra_op_threads=1)
    x = np.eye(256, dtype=np.float32)
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(session.run({"x": x})["y"])
        except ortbind.ClosedError as error:
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.05)
    session.close()  # waits for the run in flight
    worker.join()
    assert session.closed
    assert len(outcome) == 1
    if isinstance(outcome[0], np.ndarray):
        assert outcome[0].shape == (256, 256)  # the run finished cleanly before the session went
    with pytest.raises(ortbind.ClosedError):
        session.run({"x": x})


def test_close_races_many_runs() -> None:
    for _ in range(20):
        session = ortbind.Session(models.mlp())
        x = np.ones((4, 64), np.float32)
        stop = threading.Event()
        errors: list[BaseException] = []

        def hammer(
            s: ortbind.Session = session,
            stop: threading.Event = stop,
            x: np.ndarray = x,
            errors: list[BaseException] = errors,
        ) -> None:
            while not stop.is_set():
                try:
                    s.run({"x": x})
                except ortbind.ClosedError:
                    return
                except BaseException as error:
                    errors.append(error)
                    return

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.005)
        session.close()
        stop.set()
        for t in threads:
            t.join()
        assert not errors, errors


def test_input_cannot_be_resized_during_a_run() -> None:
    # The run holds a reference to each input array, so numpy refuses to resize (and so free) its
    # buffer while the run lasts. Writing into it is possible and is the caller's race.
    session = ortbind.Session(models.matmul_chain(chain_nodes(0.5), 256), intra_op_threads=1)
    x = np.eye(256, dtype=np.float32)
    worker = threading.Thread(target=lambda: session.run({"x": x}))
    worker.start()
    time.sleep(0.02)
    try:
        with pytest.raises(ValueError, match="resize"):
            x.resize((10,), refcheck=True)
    finally:
        worker.join()


def test_stress_many_threads_one_session() -> None:
    session = ortbind.Session(models.add(shape=["batch", 3]))
    expected = {n: (np.arange(n * 3, dtype=np.float32).reshape(n, 3) * 2) for n in range(1, 9)}
    errors: list[BaseException] = []
    deadline = time.monotonic() + 3.0

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while time.monotonic() < deadline:
                n = int(rng.integers(1, 9))
                x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
                np.testing.assert_array_equal(session.run({"x": x, "y": x})["z"], expected[n])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    assert not errors, errors[:3]


def test_interpreter_exit_with_live_sessions_and_outputs() -> None:
    for _ in range(4):  # the exit races the daemon thread's run: try it a few times
        result = run_child("exit_with_live_sessions", str(chain_nodes(2.0)))
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == "bye"


@pytest.mark.slow
def test_memory_is_flat_over_many_runs_and_sessions() -> None:
    result = run_child("memory_flat", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    runs, py_growth, sessions = map(float, result.stdout.split())
    assert runs < 8, f"RSS grew {runs:.1f} MiB over 100,000 runs"
    assert py_growth < 64 * 1024, f"Python objects grew by {py_growth:.0f} bytes over 20,000 runs"
    assert sessions < 16, f"RSS grew {sessions:.1f} MiB over 1,000 session cycles"


@pytest.mark.slow
def test_memory_is_flat_for_every_value_kind() -> None:
    # Each run gets a freshly made input (a leaked input would grow RSS by the "leaked" figure).
    # With a plugin provider where its library can be fetched (sessions made with it, and runs).
    env: dict[str, str] = {}
    with contextlib.suppress(real_models.ModelUnavailable):
        env = {"ORTBIND_PLUGIN_LIBRARY": str(plugins.ggml_library()), plugins.GGML_LOG_ENV: "error"}
    result = run_child("memory_per_kind", "300", timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    growth = json.loads(result.stdout)
    assert set(growth) >= {
        "numeric", "pooled", "pooled_shapes", "string", "sequence", "map", "optional", "out", "run_async", "contract",
        "bound",
    }  # fmt: skip
    if env:
        assert {"plugin_run", "plugin_session"} <= set(growth)
    for kind, (grown, leaked) in growth.items():
        assert grown < 16, f"{kind}: RSS grew {grown:.1f} MiB over 300 runs (a leaked input would be {leaked:.0f} MiB)"


@pytest.mark.parametrize(
    ("model", "name", "make"),
    [
        (models.identity, "x", lambda: np.ones(1000, np.float32)),
        (models.identity, "x", lambda: np.ones(2000, np.float32)[::2]),  # copied: the copy must go too
        (models.string_model, "text", lambda: np.array(["a", "yes"] * 500)),
        (models.string_model, "text", lambda: np.array(["a", "yes"] * 500, dtype=object)),
        (models.optional_model, "opt", lambda: np.ones(10, np.float32)),
    ],
)
def test_inputs_are_released_after_the_run(model: Any, name: str, make: Any) -> None:
    session = ortbind.Session(model())
    value = make()
    before = sys.getrefcount(value)
    for _ in range(5):
        session.run({name: value})
    assert sys.getrefcount(value) == before
    ref = weakref.ref(value)
    session.run({name: value})
    del value
    gc.collect()
    assert ref() is None, "the input array is still referenced after its run"


def test_outputs_free_their_buffers() -> None:
    # Every output array owns its OrtValue through its base, and nothing else does: while views of
    # an output live, its buffer does; once the last goes, the runtime gets the buffer back and
    # reuses it (its arena keeps freed buffers, so reuse is what shows, not a smaller RSS).
    session = ortbind.Session(models.identity())
    x = np.ones(64 << 20, np.uint8).view(np.float32)  # 64 MiB
    session.run({"x": x})
    gc.collect()
    before = _rss_mib()
    arrays = [session.run({"x": x})["y"] for _ in range(3)]
    assert len({id(a.base) for a in arrays}) == 3
    assert all(sys.getrefcount(a.base) == 2 for a in arrays), "something besides the array holds its owner"
    held = _rss_mib()
    assert held - before > 2 * 64 * 0.9, f"three live 64 MiB outputs only took {held - before:.0f} MiB more"
    views = [a[10:20] for a in arrays]
    del arrays
    gc.collect()
    for _ in range(3):  # the views still hold all three buffers: these runs need new ones
        session.run({"x": x})
    with_views = _rss_mib()
    assert with_views - held > 0.9 * 64, "a buffer still viewed was handed out again"
    del views
    gc.collect()
    for _ in range(20):  # every buffer is free again: these runs grow nothing
        session.run({"x": x})
    assert _rss_mib() - with_views < 16, "the outputs' buffers were not returned"


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.parametrize(
    "use",
    [
        lambda: ortbind.Env.__new__(ortbind.Env).log_level,
        lambda: ortbind.CancelToken.__new__(ortbind.CancelToken).cancel(),
        lambda: ortbind.Session.__new__(ortbind.Session).run({}),
        lambda: ortbind.Session.__new__(ortbind.Session).close(),
        lambda: ortbind.Session(models.identity(), env=ortbind.Env.__new__(ortbind.Env)),
        lambda: ortbind.Session(models.identity()).run(
            {"x": np.ones(1, np.float32)}, cancel=ortbind.CancelToken.__new__(ortbind.CancelToken)
        ),
        lambda: ortbind.Session(models.identity()).run(
            {"x": np.ones(1, np.float32)},
            contract=ortbind._core.CompiledContract.__new__(ortbind._core.CompiledContract),
        ),
    ],
)
def test_objects_made_without_init_are_refused(use: object) -> None:
    # __new__ alone gives a Python object with no C++ object behind it.
    with pytest.raises(ortbind.KindError, match="was never made: its __init__ did not run"):
        use()  # type: ignore[operator]


def test_methods_called_on_other_objects() -> None:
    with pytest.raises(ortbind.KindError, match=r"expected ortbind\.Session, not int"):
        ortbind._core.Session.close(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ortbind._core.Session.run(5, {})  # type: ignore[arg-type]
    assert repr(ortbind.Session.__new__(ortbind.Session)) == "<ortbind.Session (not made)>"
