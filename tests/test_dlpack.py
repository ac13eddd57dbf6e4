"""Tensors of other frameworks through DLPack: CPU tensors in without a copy (run, Binding inputs per
call and bound once, Batcher requests), under the same dtype rules as numpy arrays; outputs out to
torch without a copy, bfloat16 and float8 included; the producer's buffer kept alive exactly as long
as needed. Producers made here over numpy's own export test the protocol without torch; torch's CPU
build, where installed (`make test` installs it where a CPU wheel is offered), tests it for real."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto

import ortbind
from ortbind import _core
from ortbind._convert import ELEMENT_TYPES
from support import models
from tests.helpers import chain_nodes

F32 = np.float32
LONG = 60.0  # a Batcher max_delay no test waits for: its batches run on close()


def code(element: str) -> int:
    return ELEMENT_TYPES[element].code


class Producer:
    """Only the DLPack protocol, over a numpy array's buffer (numpy's own export)."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array
        self.asked: list[object] = []

    def __dlpack__(
        self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None, copy: Any = None
    ) -> Any:
        self.asked.append(max_version)
        return self._array.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)


class LegacyProducer:
    """A producer older than the versioned protocol: __dlpack__ takes no max_version."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    def __dlpack__(self, stream: Any = None) -> Any:
        return self._array.__dlpack__()

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)


class HandOver(Producer):
    """Lets go of its array once exported: from then on only the capsule's tensor refers to it."""

    def __dlpack__(self, **kwargs: Any) -> Any:
        capsule = super().__dlpack__(**kwargs)
        del self._array
        return capsule


class CudaClaim(Producer):
    """Says its tensor is on a CUDA device: refused before __dlpack__ is asked for anything."""

    def __dlpack_device__(self) -> tuple[int, int]:
        return (2, 1)


class Failing(Producer):
    def __dlpack__(self, **kwargs: Any) -> Any:
        raise BufferError("this producer cannot export today")


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip(
        "torch", reason="torch is not installed (make test installs its CPU build where a wheel of it is offered)"
    )


@pytest.fixture(scope="module")
def identity() -> ortbind.Session:
    return ortbind.Session(models.identity(TensorProto.FLOAT, ["a", "b"]))


def test_a_producer_is_read_in_place_through_the_versioned_protocol(identity: ortbind.Session) -> None:
    x = np.arange(6, dtype=F32).reshape(2, 3)
    producer = Producer(x)
    view = _core._from_dlpack(producer, code("float32"), "input 'x'")
    assert view is not None and view.ctypes.data == x.ctypes.data and view.flags.c_contiguous
    assert producer.asked == [(1, 1)]
    assert identity.run({"x": Producer(x)})["y"].tolist() == x.tolist()
    assert identity.run(Producer(x))["y"].tolist() == x.tolist()  # one value for a single-input model


def test_a_producer_without_max_version_is_read_through_the_unversioned_protocol(identity: ortbind.Session) -> None:
    x = np.arange(6, dtype=F32).reshape(3, 2)
    view = _core._from_dlpack(LegacyProducer(x), code("float32"), "input 'x'")
    assert view is not None and view.ctypes.data == x.ctypes.data
    assert identity.run({"x": LegacyProducer(x)})["y"].tolist() == x.tolist()


def test_read_only_tensors_are_read_as_they_are(identity: ortbind.Session) -> None:
    x = np.ones((2, 2), F32)
    x.flags.writeable = False
    view = _core._from_dlpack(Producer(x), code("float32"), "input 'x'")
    assert view is not None and not view.flags.writeable  # the versioned protocol's read-only flag
    assert identity.run({"x": Producer(x)})["y"].tolist() == x.tolist()
    assert identity.bind(inputs={"x": Producer(x)}).run()["y"].tolist() == x.tolist()


def test_sequences_and_optionals_take_producers() -> None:
    sequence = ortbind.Session(models.sequence_model())
    result = sequence.run({"seq": [Producer(np.arange(3, dtype=F32)), Producer(np.zeros(5, F32))]})
    assert int(result["length"]) == 2 and result["first"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ortbind.DTypeError, match=r"input 'seq\[1\]' expects float32, got .* of int64"):
        sequence.run({"seq": [Producer(np.zeros(1, F32)), Producer(np.zeros(1, np.int64))]})
    optional = ortbind.Session(models.optional_model())
    assert optional.run({"opt": Producer(np.ones(2, F32))})["same"].tolist() == [1.0, 1.0]


def test_objects_without_dlpack_are_left_to_the_other_paths() -> None:
    assert _core._from_dlpack([1.0, 2.0], code("float32"), "input 'x'") is None
    assert _core._from_dlpack(np.ones(2, F32).tolist(), code("float32"), "input 'x'") is None


def test_another_element_type_is_never_cast(identity: ortbind.Session) -> None:
    with pytest.raises(
        ortbind.DTypeError, match=r"input 'x' expects float32, got a tests\.test_dlpack\.Producer of float64 "
    ):
        identity.run({"x": Producer(np.ones((2, 2)))})
    with pytest.raises(ortbind.DTypeError, match=r"input 'x' expects float32, got .* of int64"):
        identity.bind(inputs={"x": Producer(np.ones((2, 2), np.int64))})


def test_a_tensor_on_another_device_is_refused_naming_it(identity: ortbind.Session) -> None:
    producer = CudaClaim(np.ones((2, 2), F32))
    with pytest.raises(ortbind.InvalidValueError, match=r"input 'x' is a .*CudaClaim on cuda:1; .*CPU memory only"):
        identity.run({"x": producer})
    with pytest.raises(ortbind.InvalidValueError, match="cuda:1"):
        identity.bind(inputs={"x": producer})
    assert producer.asked == []  # refused on __dlpack_device__, before any export


def test_a_failing_producer_is_named(identity: ortbind.Session) -> None:
    with pytest.raises(
        ortbind.InvalidValueError,
        match=r"input 'x' \(a .*Failing\) could not be read through DLPack: BufferError: this producer cannot",
    ):
        identity.run({"x": Failing(np.ones(2, F32))})


def test_strided_tensors_are_made_contiguous_once(identity: ortbind.Session) -> None:
    x = np.arange(24, dtype=F32).reshape(4, 6)
    for strided in (x.T, x[:, ::2], x[::-1]):
        view = _core._from_dlpack(Producer(strided), code("float32"), "input 'x'")
        assert view is not None and not view.flags.c_contiguous and np.shares_memory(view, x)
        assert identity.run({"x": Producer(strided)})["y"].tolist() == strided.tolist()
    # Bound once, the run reads the buffer itself: a copy would not see refills, so it is refused.
    with pytest.raises(ortbind.InvalidValueError, match=r"inputs\['x'\] must be C-contiguous"):
        identity.bind(inputs={"x": Producer(x.T)})


def test_a_bound_producer_is_read_in_place_for_the_bindings_life(identity: ortbind.Session) -> None:
    x = np.zeros((2, 3), F32)
    binding = identity.bind(inputs={"x": Producer(x)})
    assert binding.run()["y"].tolist() == [[0.0] * 3] * 2
    x[...] = 7.0  # refilled in place: the next run reads the new values
    assert binding.run()["y"].tolist() == [[7.0] * 3] * 2
    handed = np.full((2, 3), 5.0, F32)
    alive = weakref.ref(handed)
    binding = identity.bind(inputs={"x": HandOver(handed)})
    del handed
    gc.collect()
    assert alive() is not None  # the binding holds the producer's tensor
    assert binding.run()["y"].tolist() == [[5.0] * 3] * 2
    del binding
    gc.collect()
    assert alive() is None


def test_a_producer_dropped_during_the_run_is_kept_alive() -> None:
    # A run of about a second: the check below happens while it is still going.
    session = ortbind.Session(models.matmul_chain(chain_nodes(1.0), 256), intra_op_threads=1)
    expected = session.run({"x": np.eye(256, dtype=F32)})["y"]
    x = np.eye(256, dtype=F32)
    alive = weakref.ref(x)
    producer = HandOver(x)
    del x  # once exported, only the tensor the run holds refers to the buffer

    async def main() -> tuple[bool, np.ndarray]:
        task = asyncio.create_task(session.run_async({"x": producer}))
        await asyncio.sleep(0)  # the task starts: its inputs are read and the run is under way
        gc.collect()
        held = alive() is not None
        return held, (await task)["y"]

    held, y = asyncio.run(main())
    assert held, "the buffer was released while the run was reading it"
    np.testing.assert_array_equal(y, expected)
    gc.collect()
    assert alive() is None, "the buffer outlived the run"


def test_batcher_requests_take_producers() -> None:
    session = ortbind.Session(models.identity(TensorProto.FLOAT, ["n", 2]))
    rows = [np.full((k + 1, 2), k, F32) for k in range(3)]
    with ortbind.Batcher(session, max_batch=8, max_delay=LONG) as batcher:
        futures = [batcher.submit({"x": Producer(r)}) for r in rows]
        futures.append(batcher.submit(Producer(rows[0])))
    for future, r in zip(futures, [*rows, rows[0]], strict=True):
        assert future.result()["y"].tolist() == r.tolist()
    with (
        ortbind.Batcher(session, max_batch=8, max_delay=LONG) as batcher,
        pytest.raises(ortbind.DTypeError, match=r"input 'x' expects float32, got .* of float64"),
    ):
        batcher.submit({"x": Producer(np.ones((1, 2)))})


def test_fresh_producers_over_many_runs_leave_nothing_behind(identity: ortbind.Session) -> None:
    alive = []
    for _ in range(2000):
        x = np.ones((64, 256), F32)
        alive.append(weakref.ref(x))
        identity.run({"x": Producer(x)})
    del x
    gc.collect()
    assert sum(ref() is not None for ref in alive) == 0


def test_outputs_of_every_type_export_through_dlpack() -> None:
    # numpy exports its own dtypes; ml_dtypes' come as DLPackArray, read back here by ortbind's own
    # reader (the same buffer, through the capsule the array exports).
    ml_dtypes = pytest.importorskip("ml_dtypes")
    session = ortbind.Session(models.identity(TensorProto.BFLOAT16))
    x = np.array([1.5, -2.25, 3.0], dtype=ml_dtypes.bfloat16)
    y = session.run({"x": x})["y"]
    assert type(y) is ortbind.DLPackArray and y.dtype == x.dtype and y.tobytes() == x.tobytes()
    assert y.__dlpack_device__() == (1, 0)
    for exporter in (y, y[1:], y.view(np.uint16)):
        element = "uint16" if exporter.dtype == np.uint16 else "bfloat16"
        view = _core._from_dlpack(exporter, code(element), "y")
        assert view is not None and view.ctypes.data == exporter.ctypes.data
        assert view.tobytes() == exporter.tobytes()
    copied = _core._from_dlpack(LegacyProducer(y), code("bfloat16"), "y")
    assert copied is not None and copied.ctypes.data == y.ctypes.data
    float_session = ortbind.Session(models.identity(TensorProto.FLOAT))
    plain = float_session.run({"x": np.ones(3, F32)})["y"]
    assert type(plain) is np.ndarray and np.from_dlpack(plain).ctypes.data == plain.ctypes.data


@pytest.mark.parametrize(("element", "elem"), [("float32", TensorProto.FLOAT), ("bfloat16", TensorProto.BFLOAT16)])
def test_an_output_held_by_a_consumer_is_never_written_again(element: str, elem: int) -> None:
    # Dropped outputs go back to the session's pool; one a consumer still views must not.
    if ELEMENT_TYPES[element].ml_dtypes is not None:
        pytest.importorskip("ml_dtypes")
    session = ortbind.Session(models.identity(elem, ["a", "b"]))
    dtype = session.inputs[0].dtype
    held = _core._from_dlpack(session.run({"x": np.ones((4, 4), dtype)})["y"], code(element), "y")
    assert held is not None
    for k in range(5):
        y = session.run({"x": np.full((4, 4), k, dtype)})["y"]
        assert not np.shares_memory(y, held)
        del y  # back to the pool
    assert held.tolist() == np.ones((4, 4), dtype).tolist()


def test_dlpack_array_export_follows_the_protocol() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    y = np.ones(4, ml_dtypes.bfloat16).view(ortbind.DLPackArray)
    with pytest.raises(BufferError, match="stream=None"):
        y.__dlpack__(stream=1)
    with pytest.raises(BufferError, match="CPU memory only"):
        y.__dlpack__(dl_device=(2, 0))
    copy = y.__dlpack__(max_version=(1, 0), copy=True)
    assert "dltensor_versioned" in repr(copy)
    del copy  # never consumed: its destructor deletes the tensor
    y.flags.writeable = False
    with pytest.raises(BufferError, match="read-only"):
        y.__dlpack__()
    assert "dltensor_versioned" in repr(y.__dlpack__(max_version=(1, 0)))
    with pytest.raises(BufferError, match="DLPack cannot hold"):
        np.array(["a"]).view(ortbind.DLPackArray).__dlpack__()


# (torch dtype name, ONNX element type, opset of the Identity model)
TORCH_TYPES = [
    ("float32", TensorProto.FLOAT, models.OPSET),
    ("int64", TensorProto.INT64, models.OPSET),
    ("bool", TensorProto.BOOL, models.OPSET),
    ("float16", TensorProto.FLOAT16, models.OPSET),
    ("bfloat16", TensorProto.BFLOAT16, models.OPSET),
    ("float8_e4m3fn", TensorProto.FLOAT8E4M3FN, 21),
    ("float8_e5m2", TensorProto.FLOAT8E5M2, 21),
]


@pytest.mark.parametrize(("name", "elem", "opset"), TORCH_TYPES, ids=[t[0] for t in TORCH_TYPES])
def test_torch_tensors_in_and_out_without_a_copy(torch: Any, name: str, elem: int, opset: int) -> None:
    if ELEMENT_TYPES[name].ml_dtypes is not None:
        pytest.importorskip("ml_dtypes")
    dtype = getattr(torch, name)
    session = ortbind.Session(models.identity(elem, ["a", "b"], opset=opset))
    t = (torch.arange(12, dtype=torch.float32).reshape(3, 4) - 5).to(dtype)
    view = _core._from_dlpack(t, code(name), "input 'x'")
    assert view is not None and view.ctypes.data == t.data_ptr()  # the buffer ONNX Runtime reads
    y = session.run({"x": t})["y"]
    back = torch.from_dlpack(y)
    assert back.dtype == dtype and back.shape == t.shape
    assert back.data_ptr() == y.ctypes.data  # the output's own buffer
    assert torch.equal(back.view(torch.uint8), t.view(torch.uint8))
    bound = session.bind(inputs={"x": t})
    t[0, 0] = t[2, 3]  # bound once: ONNX Runtime reads the tensor's own buffer on every run
    assert torch.equal(torch.from_dlpack(bound.run()["y"]).view(torch.uint8), t.view(torch.uint8))


def test_torch_strided_tensors_and_errors(torch: Any, identity: ortbind.Session) -> None:
    t = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    for strided in (t.T, t[:, ::2], t.expand(2, 4, 6)[1]):
        assert identity.run({"x": strided})["y"].tolist() == strided.tolist()
    with pytest.raises(ortbind.DTypeError, match=r"input 'x' expects float32, got a torch\.Tensor of int64"):
        identity.run({"x": t.to(torch.int64)})
    with pytest.raises(ortbind.DTypeError, match=r"expects float32, got a torch\.Tensor of bfloat16"):
        identity.run({"x": t.to(torch.bfloat16)})
    with pytest.raises(ortbind.InvalidValueError, match=r"input 'x' .* could not be read through DLPack: .*gradient"):
        identity.run({"x": t.requires_grad_()})
    with pytest.raises(ortbind.ShapeError, match="input 'x'"):
        ortbind.Session(models.identity(TensorProto.FLOAT, [2, 3])).run({"x": torch.ones(3, 2)})


def test_torch_cuda_tensors_are_refused_naming_the_device(torch: Any, identity: ortbind.Session) -> None:
    # CUDA tensors in and out need a device path (onnxruntime-gpu's provider), which ortbind does not
    # have yet: until then a real one is refused as CudaClaim's claim is above.
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device with this torch build; the refusal is tested above by a producer that claims one")
    with pytest.raises(ortbind.InvalidValueError, match=r"input 'x' is a torch\.Tensor on cuda:0"):
        identity.run({"x": torch.ones(2, 2, device="cuda")})


def test_torch_outputs_outlive_the_session(torch: Any) -> None:
    pytest.importorskip("ml_dtypes")
    session = ortbind.Session(models.identity(TensorProto.BFLOAT16))
    y = session.run({"x": torch.tensor([1.0, 2.0, 3.0], dtype=torch.bfloat16)})["y"]
    session.close()
    del session
    back = torch.from_dlpack(y)
    del y
    gc.collect()
    assert back.tolist() == [1.0, 2.0, 3.0]
    back += 1  # the buffer is the consumer's to use, writes included
    assert back.tolist() == [2.0, 3.0, 4.0]


def test_an_output_held_by_torch_is_never_written_again(torch: Any) -> None:
    session = ortbind.Session(models.identity(TensorProto.FLOAT, ["a", "b"]))
    held = torch.from_dlpack(session.run({"x": np.ones((4, 4), F32)})["y"])
    for k in range(5):
        assert session.run({"x": np.full((4, 4), k, F32)})["y"].ctypes.data != held.data_ptr()
    assert held.tolist() == [[1.0] * 4] * 4


def test_torch_tensors_in_run_async_and_batcher_requests(torch: Any) -> None:
    session = ortbind.Session(models.matmul_chain(10, 256), intra_op_threads=1)
    expected = session.run({"x": np.eye(256, dtype=F32)})["y"]

    async def main() -> np.ndarray:
        return (await session.run_async({"x": torch.eye(256)}))["y"]

    np.testing.assert_array_equal(asyncio.run(main()), expected)
    rows = ortbind.Session(models.identity(TensorProto.FLOAT, ["n", 2]))
    with ortbind.Batcher(rows, max_batch=8, max_delay=LONG) as batcher:
        futures = [batcher.submit({"x": torch.full((k + 1, 2), float(k))}) for k in range(3)]
    assert [f.result()["y"].tolist() for f in futures] == [[[float(k)] * 2] * (k + 1) for k in range(3)]


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_torch_memory_is_flat_over_many_runs(torch: Any) -> None:
    # 256 KiB in and out per run with fresh tensors, both ways through DLPack: a capsule, a producer
    # or an exported output held once per run would grow the process by about a gibibyte.
    pytest.importorskip("ml_dtypes")
    session = ortbind.Session(models.identity(TensorProto.BFLOAT16, ["a", "b"]))

    def runs(count: int) -> None:
        for _ in range(count):
            back = torch.from_dlpack(session.run({"x": torch.ones(256, 512, dtype=torch.bfloat16)})["y"])
            assert back.shape == (256, 512)

    runs(200)
    gc.collect()
    before = rss_mib()
    runs(4000)
    gc.collect()
    assert rss_mib() - before < 64
