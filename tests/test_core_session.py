"""Sessions: creation from paths and bytes, the signature, run, zero-copy both ways, preallocated
outputs, close, and lifetimes (outputs outlive their session and environment)."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import numpy as np
import onnx
import pytest

import ortbind
from support import models
from tests.helpers import chain_nodes, run_child


def test_signature_as_plain_data(add_session: ortbind.Session) -> None:
    x, y = add_session.inputs
    assert (x.name, x.kind, x.dtype, x.shape, x.type) == (
        "x",
        "tensor",
        np.dtype(np.float32),
        ("batch", 3),
        "tensor(float32)",
    )
    assert y.name == "y"
    (z,) = add_session.outputs
    assert (z.name, z.dtype, z.shape) == ("z", np.dtype(np.float32), ("batch", 3))
    assert add_session.input_names == ("x", "y") and add_session.output_names == ("z",)


def test_unknown_dims_are_none() -> None:
    session = ortbind.Session(models.identity(shape=[None, 4]))
    assert session.inputs[0].shape == (None, 4)


def test_metadata() -> None:
    model = onnx.load_from_string(models.add())
    model.producer_name = "tests"
    model.domain = "ortbind.tests"
    model.doc_string = "adds"
    model.model_version = 7
    onnx.helper.set_model_props(model, {"owner": "ortbind", "purpose": "test"})
    meta = ortbind.Session(model.SerializeToString()).metadata
    assert (meta.producer, meta.graph_name, meta.domain, meta.description, meta.version) == (
        "tests",
        "add",
        "ortbind.tests",
        "adds",
        7,
    )
    assert dict(meta.custom) == {"owner": "ortbind", "purpose": "test"}


@pytest.mark.parametrize("kind", ["str", "pathlike", "bytes", "bytearray", "memoryview"])
def test_model_sources(tmp_path: Path, kind: str) -> None:
    data = models.add_one_element()
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    sources: dict[str, str | Path | bytes | bytearray | memoryview] = {
        "str": str(path),
        "pathlike": path,
        "bytes": data,
        "bytearray": bytearray(data),
        "memoryview": memoryview(data),
    }
    session = ortbind.Session(sources[kind])
    assert session.run({"x": np.array([1.5], np.float32)})["y"].tolist() == [3.0]


def test_model_bytes_may_change_after_the_session_is_made() -> None:
    data = bytearray(models.add_one_element())
    session = ortbind.Session(data)
    data[:] = b"\0" * len(data)
    del data
    gc.collect()
    assert session.run({"x": np.array([2.0], np.float32)})["y"].tolist() == [4.0]


def test_run_returns_outputs_in_the_requested_order() -> None:
    session = ortbind.Session(models.many_io(4))
    feeds = {f"x{i}": np.array([i], np.float32) for i in range(4)}
    result = session.run(feeds)
    assert list(result) == ["y0", "y1", "y2", "y3"]
    picked = session.run(feeds, ["y3", "y1"])
    assert list(picked) == ["y3", "y1"]
    assert picked["y3"].tolist() == [6.0] and picked[0].tolist() == [6.0] and picked[1].tolist() == [2.0]  # type: ignore[index]


def test_outputs_must_be_a_sequence_of_names(add_session: ortbind.Session) -> None:
    feeds = {"x": np.ones((1, 3), np.float32), "y": np.ones((1, 3), np.float32)}
    with pytest.raises(ortbind.KindError, match="outputs must be a sequence of output names, not one str"):
        add_session.run(feeds, "z")
    with pytest.raises(
        ortbind.NameMismatchError, match=r"unknown output 'zz' \(did you mean 'z'\?\); the model's outputs are: 'z'"
    ):
        add_session.run(feeds, ["zz"])


def test_single_input_model_takes_one_array(identity_session: ortbind.Session) -> None:
    x = np.arange(3, dtype=np.float32)
    assert identity_session.run(x)["y"].tolist() == [0.0, 1.0, 2.0]


def test_several_inputs_are_never_positional(add_session: ortbind.Session) -> None:
    x = np.ones((1, 3), np.float32)
    with pytest.raises(ortbind.KindError, match="feeds must be a dict of input name to value, not tuple"):
        add_session.run((x, x))
    with pytest.raises(ortbind.KindError, match=r"not numpy\.ndarray"):
        add_session.run(x)


def test_feeds_may_be_any_mapping(add_session: ortbind.Session) -> None:
    from types import MappingProxyType

    x = np.ones((1, 3), np.float32)
    assert add_session.run(MappingProxyType({"x": x, "y": x}))["z"].tolist() == [[2.0, 2.0, 2.0]]


def test_outputs_are_views_over_the_runtimes_buffer(identity_session: ortbind.Session) -> None:
    y = identity_session.run({"x": np.arange(4, dtype=np.float32)})["y"]
    capsule = y.base
    assert type(capsule).__name__ == "PyCapsule" and "ortbind.OrtValue" in repr(capsule)
    assert y.flags.c_contiguous and y.flags.writeable and y.flags.aligned
    y[0] = 42.0  # the buffer belongs to this array alone
    assert y[0] == 42.0


def test_preallocated_outputs_are_written_in_place(add_session: ortbind.Session) -> None:
    x = np.full((2, 3), 1.5, np.float32)
    out = np.zeros((2, 3), np.float32)
    result = add_session.run({"x": x, "y": x}, out={"z": out})
    assert result["z"] is out
    assert out.tolist() == [[3.0] * 3] * 2


@pytest.mark.parametrize(
    ("array", "error", "message"),
    [
        (np.zeros((2, 3), np.float64), ortbind.DTypeError, r"out\['z'\] has dtype float64, but output 'z' is float32"),
        (np.zeros((3, 2), np.float32).T, ortbind.InvalidValueError, r"out\['z'\] must be C-contiguous"),
        (np.zeros((2, 4), np.float32), ortbind.ShapeError, r"output 'z' dim 1 is 4, but the contract fixes it to 3"),
        (np.zeros((3, 3), np.float32), ortbind.ShapeError, r"output 'z' dim 0 \('batch'\) is 3, but 'x' bound batch=2"),
        ([[0.0] * 3] * 2, ortbind.KindError, r"out\['z'\] must be a numpy array, not list"),
    ],
)
def test_bad_preallocated_outputs(add_session: ortbind.Session, array: object, error: type, message: str) -> None:
    x = np.ones((2, 3), np.float32)
    with pytest.raises(error, match=message):
        add_session.run({"x": x, "y": x}, out={"z": array})
    assert add_session.run({"x": x, "y": x})["z"].shape == (2, 3)  # still usable


def test_read_only_preallocated_output_is_refused(add_session: ortbind.Session) -> None:
    x = np.ones((2, 3), np.float32)
    out = np.zeros((2, 3), np.float32)
    out.flags.writeable = False
    with pytest.raises(ortbind.InvalidValueError, match=r"out\['z'\] is read-only"):
        add_session.run({"x": x, "y": x}, out={"z": out})


def test_close_and_context_manager() -> None:
    with ortbind.Session(models.add_one_element()) as session:
        y = session.run({"x": np.array([1.0], np.float32)})["y"]
        assert not session.closed
    assert session.closed
    with pytest.raises(ortbind.ClosedError, match="the session is closed"):
        session.run({"x": np.array([1.0], np.float32)})
    with pytest.raises(ortbind.ClosedError):
        _ = session.metadata
    session.close()  # twice is fine
    assert y.tolist() == [2.0]  # outputs stay valid
    assert issubclass(ortbind.ClosedError, ValueError)
    assert "closed" in repr(session)


def test_outputs_outlive_session_and_environment() -> None:
    result = run_child("outputs_outlive_session")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_session_holds_its_environment() -> None:
    result = run_child("session_holds_env")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["refused:", "True", "2.0"]


def test_default_env_is_created_once() -> None:
    a = ortbind.Session(models.add_one_element())
    b = ortbind.Session(models.add_one_element())
    assert a.env == b.env == ortbind.Env.default()
    assert a.env.log_level == "warning"
    with pytest.raises(ortbind.EnvError, match="ONNX Runtime keeps one environment per process"):
        ortbind.Env(log_level="verbose", log_id="other")


def test_env_settings_are_validated() -> None:
    with pytest.raises(ortbind.InvalidValueError, match="log_level must be one of"):
        ortbind.Env(log_level="loud")
    with pytest.raises(ortbind.InvalidValueError, match="pass global_thread_pools=True"):
        ortbind.Env(intra_op_threads=2)


def test_global_thread_pools() -> None:
    result = run_child("global_thread_pools")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[1.0, 1.0]", "refused"]


def test_session_options() -> None:
    session = ortbind.Session(
        models.mlp(),
        optimization="disabled",
        intra_op_threads=1,
        inter_op_threads=1,
        execution_mode="parallel",
        free_dimensions={"batch": 2},
        config={"session.use_env_allocators": "0"},
        providers=["CPUExecutionProvider"],
    )
    assert session.run({"x": np.ones((2, 64), np.float32)})["probs"].shape == (2, 10)
    with pytest.raises(ortbind.InvalidValueError, match="optimization must be"):
        ortbind.Session(models.mlp(), optimization="max")  # type: ignore[arg-type]
    with pytest.raises(
        ortbind.InvalidValueError, match="execution provider 'NoSuchProvider' is not in this ONNX Runtime"
    ):
        ortbind.Session(models.mlp(), providers=["NoSuchProvider"])


def test_free_dimension_override_fixes_the_dim() -> None:
    session = ortbind.Session(models.mlp(), free_dimensions={"batch": 2})
    with pytest.raises(ortbind.Error):
        session.run({"x": np.ones((3, 64), np.float32)})


def test_threads_share_one_session_with_correct_results() -> None:
    session = ortbind.Session(models.mlp())
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((8, 64)).astype(np.float32) for _ in range(16)]
    expected = [session.run({"x": b})["probs"].copy() for b in batches]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(200):
                k = (i + offset) % len(batches)
                np.testing.assert_array_equal(session.run({"x": batches[k]})["probs"], expected[k])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_sessions_created_from_several_threads() -> None:
    data = models.mlp()
    made: list[ortbind.Session] = []
    lock = threading.Lock()

    def make() -> None:
        s = ortbind.Session(data)
        with lock:
            made.append(s)

    threads = [threading.Thread(target=make) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 6
    x = np.ones((1, 64), np.float32)
    first = made[0].run({"x": x})["probs"]
    for s in made[1:]:
        np.testing.assert_array_equal(s.run({"x": x})["probs"], first)


def test_run_releases_the_gil() -> None:
    # While one thread is inside a long run, another keeps running Python: the longest pause it
    # sees is a GIL switch interval, not the length of the run.
    session = ortbind.Session(models.matmul_chain(chain_nodes(0.3), 256), intra_op_threads=1)
    x = np.eye(256, dtype=np.float32)
    session.run({"x": x})
    done = threading.Event()

    def run() -> None:
        session.run({"x": x})
        done.set()

    worker = threading.Thread(target=run)
    started = time.perf_counter()
    worker.start()
    longest, last = 0.0, time.perf_counter()
    while not done.is_set():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    run_time = time.perf_counter() - started
    assert longest < run_time / 3, f"the main thread stalled {longest:.3f} s of a {run_time:.3f} s run"
