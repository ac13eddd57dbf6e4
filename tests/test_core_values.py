"""numpy <-> OrtValue: every element type, zero-copy inputs and outputs (peak memory), the
conversion rules for Python values, strings, sequences, maps and optionals."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto

import ortbind
from support import models
from tests.helpers import run_child


@pytest.mark.parametrize("name", sorted(models.ELEMENT_TYPES))
def test_every_numeric_element_type_round_trips(name: str) -> None:
    session = ortbind.Session(models.identity(models.ELEMENT_TYPES[name], ["a", "b"]))
    assert session.inputs[0].dtype == np.dtype(name)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 5)) * 100).astype(name)
    y = session.run({"x": x})["y"]
    assert y.dtype == np.dtype(name)
    assert y.tobytes() == x.tobytes()


def test_bfloat16_through_ml_dtypes() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    session = ortbind.Session(models.identity(TensorProto.BFLOAT16))
    assert session.inputs[0].dtype == np.dtype(ml_dtypes.bfloat16)
    x = np.array([1.5, -2.25, 3e38], dtype=ml_dtypes.bfloat16)
    y = session.run({"x": x})["y"]
    assert y.dtype == x.dtype and y.tobytes() == x.tobytes()
    with pytest.raises(ortbind.DTypeError, match="input 'x' expects bfloat16, got an array of float32"):
        session.run({"x": x.astype(np.float32)})


def test_float8_through_ml_dtypes() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    session = ortbind.Session(models.identity(TensorProto.FLOAT8E4M3FN, opset=21))
    x = np.array([1.0, -0.5, 2.0], dtype=ml_dtypes.float8_e4m3fn)
    assert session.run({"x": x})["y"].tobytes() == x.tobytes()


@pytest.mark.parametrize("name", ["int4", "uint4"])
def test_four_bit_types_are_packed_and_unpacked(name: str) -> None:
    # ONNX Runtime packs two 4-bit elements to a byte; ml_dtypes gives each its own byte.
    ml_dtypes = pytest.importorskip("ml_dtypes")
    code = getattr(TensorProto, name.upper())
    dtype = np.dtype(getattr(ml_dtypes, name))
    values = np.arange(-8, 8) if name == "int4" else np.arange(16)
    widen = ortbind.Session(models.cast(code, TensorProto.INT8, shape=[None, None]))
    narrow = ortbind.Session(models.cast(TensorProto.INT8, code, shape=[None, None]))
    assert widen.inputs[0].dtype == dtype and narrow.outputs[0].dtype == dtype
    for shape in [(16, 1), (1, 15), (3, 5), (5, 3), (0, 4)]:  # odd counts leave half a byte
        x = np.resize(values, shape).astype(np.int8)
        packed = narrow.run({"x": x})["y"]
        assert packed.dtype == dtype and packed.shape == shape
        assert packed.astype(np.int8).tolist() == x.tolist()
        assert widen.run({"x": packed})["y"].tolist() == x.tolist()
        # Strided and transposed arrays are packed from their elements, not their memory.
        assert widen.run({"x": packed.T})["y"].tolist() == x.T.tolist()
    assert widen.run({"x": values.reshape(4, 4).tolist()})["y"].tolist() == values.reshape(4, 4).tolist()


def test_four_bit_conversions_are_exact() -> None:
    pytest.importorskip("ml_dtypes")
    session = ortbind.Session(models.cast(TensorProto.INT4, TensorProto.INT8))
    assert session.run({"x": [-8, -8, -7, -6, -5]})["y"].tolist() == [-8, -8, -7, -6, -5]
    with pytest.raises(
        ortbind.InvalidValueError, match="input 'x' expects int4, and the given integers do not all fit"
    ):
        session.run({"x": [7, 8]})
    with pytest.raises(ortbind.DTypeError, match="input 'x' expects int4, got Python values of kind float64"):
        session.run({"x": [1.5]})
    with pytest.raises(ortbind.DTypeError, match="input 'x' expects int4, got an array of int8"):
        session.run({"x": np.zeros(2, np.int8)})


def test_zero_dim_strings_keep_their_shape() -> None:
    session = ortbind.Session(models.string_concat())
    for a, b in [("ca", "ts"), (np.array("ca"), np.array("ts")), (np.array("ca", object), np.array("ts", object))]:
        c = session.run({"a": a, "b": b})["c"]
        assert c.shape == () and c.item() == "cats"


def test_empty_sequences_are_made_from_the_declared_type() -> None:
    ort = pytest.importorskip("onnxruntime")
    for code, dtype in [(TensorProto.FLOAT, np.float32), (TensorProto.STRING, str)]:
        data = models.sequence_length(code)
        result = ortbind.Session(data).run({"seq": []})
        assert result["length"].tolist() == 0 and result["same"] == []
        assert ort.InferenceSession(data).run(["length"], {"seq": []})[0].tolist() == 0
        one = np.array(["a"]) if dtype is str else np.ones(2, np.float32)
        assert ortbind.Session(data).run({"seq": [one]})["length"].tolist() == 1


def test_strings_both_ways() -> None:
    session = ortbind.Session(models.string_model())
    for feed in (["yes", "no", "été"], np.array(["yes", "no", "été"]), np.array(["yes", "no", "été"], dtype=object)):
        result = session.run({"text": feed})
        assert result["same"].dtype.kind == "U"
        assert result["same"].tolist() == ["yes", "no", "été"]
        assert result["is_yes"].tolist() == [True, False, False]
    empty = session.run({"text": np.array([], dtype=str)})
    assert empty["same"].shape == (0,)


@pytest.mark.parametrize(
    ("feed", "error", "message"),
    [
        ([b"yes"], ortbind.DTypeError, r"input 'text' expects str elements, got bytes: b'yes'"),
        (np.array([b"yes"]), ortbind.DTypeError, r"input 'text' expects str, got bytes \(numpy \|S3\)"),
        (["a\0b"], ortbind.InvalidValueError, r"input 'text' holds a string with a NUL character"),
        ([1, 2], ortbind.DTypeError, r"input 'text' expects str elements, got int: 1"),
        (np.array([1.0]), ortbind.DTypeError, r"input 'text' expects str, got an array of float64"),
    ],
)
def test_bad_strings(feed: object, error: type, message: str) -> None:
    session = ortbind.Session(models.string_model())
    with pytest.raises(error, match=message):
        session.run({"text": feed})


def test_sequences_in_and_out() -> None:
    session = ortbind.Session(models.sequence_model())
    assert session.inputs[0].kind == "sequence" and session.inputs[0].type == "sequence<tensor(float32)>"
    assert session.inputs[0].element is not None and session.inputs[0].element.dtype == np.dtype(np.float32)
    result = session.run({"seq": [np.arange(3, dtype=np.float32), np.zeros(5, np.float32)]})
    assert int(result["length"]) == 2
    assert result["first"].tolist() == [0.0, 1.0, 2.0]
    assert isinstance(result["twice"], list) and [a.tolist() for a in result["twice"]] == [[0.0, 1.0, 2.0]] * 2
    with pytest.raises(ortbind.KindError, match=r"input 'seq' is a sequence<tensor\(float32\)>, given as a list"):
        session.run({"seq": np.zeros(3, np.float32)})
    with pytest.raises(ortbind.DTypeError, match=r"input 'seq\[1\]' expects float32, got an array of int64"):
        session.run({"seq": [np.zeros(1, np.float32), np.zeros(1, np.int64)]})


def test_optionals_in_and_out() -> None:
    session = ortbind.Session(models.optional_model())
    assert session.inputs[0].type == "optional<tensor(float32)>"
    present = session.run({"opt": np.ones(2, np.float32)})
    assert bool(present["present"]) and present["same"].tolist() == [1.0, 1.0]
    absent = session.run({})
    assert not bool(absent["present"]) and absent["same"] is None
    explicit = session.run({"opt": None})
    assert not bool(explicit["present"]) and explicit["same"] is None


def test_maps_in() -> None:
    session = ortbind.Session(models.dict_vectorizer())
    assert session.inputs[0].type == "map<string, float32>"
    assert session.run({"features": {"a": 1.0, "c": 3.5}})["vector"].tolist() == [[1.0, 0.0, 3.5]]
    with pytest.raises(
        ortbind.KindError, match=r"input 'features' is a map<string, float32>, given as a dict, not list"
    ):
        session.run({"features": [("a", 1.0)]})


def test_sequence_of_maps_out() -> None:
    session = ortbind.Session(models.zipmap())
    assert session.outputs[0].type == "sequence<map<int64, float32>>"
    rows = session.run({"probs": np.array([[0.25, 0.25, 0.5]], np.float32)})["rows"]
    assert rows == [{10: 0.25, 20: 0.25, 30: 0.5}]


def test_python_values_convert_to_the_declared_type(identity_session: ortbind.Session) -> None:
    assert identity_session.run({"x": [1, 2, 3]})["y"].tolist() == [1.0, 2.0, 3.0]
    assert identity_session.run({"x": (0.5,)})["y"].dtype == np.float32
    assert identity_session.run({"x": []})["y"].shape == (0,)


@pytest.mark.parametrize(
    ("elem", "value", "error", "message"),
    [
        ("int64", [1.5], ortbind.DTypeError, "expects int64, got Python values of kind float64"),
        ("int64", [True], ortbind.DTypeError, "expects int64, got Python values of kind bool"),
        (
            "uint8",
            [256],
            ortbind.InvalidValueError,
            "expects uint8, and the given integers do not all fit in it exactly",
        ),
        ("uint8", [-1], ortbind.InvalidValueError, "do not all fit"),
        ("float32", [2**24 + 1], ortbind.InvalidValueError, "do not all fit"),
        ("bool", [1], ortbind.DTypeError, "expects bool, got Python values of kind int64"),
        ("float32", np.float64(1.0), ortbind.DTypeError, "expects float32, got float64"),
        ("float32", [1e39], ortbind.InvalidValueError, "expects float32, and some given values overflow it"),
    ],
)
def test_conversions_that_would_change_numbers_are_refused(elem: str, value: object, error: type, message: str) -> None:
    session = ortbind.Session(models.identity(models.ELEMENT_TYPES[elem]))
    with pytest.raises(error, match=message):
        session.run({"x": value})


def test_arrays_of_another_dtype_are_never_cast(identity_session: ortbind.Session) -> None:
    for dtype in (np.float64, np.float16, np.int32):
        with pytest.raises(
            ortbind.DTypeError, match=f"input 'x' expects float32, got an array of {np.dtype(dtype).name}"
        ):
            identity_session.run({"x": np.ones(3, dtype)})


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(20, dtype=np.float32)[::2],  # strided
        lambda: np.arange(20, dtype=np.float32)[::-2],  # negative strides
        lambda: np.arange(10, dtype=">f4"),  # byte-swapped
        lambda: np.frombuffer(
            b"\0" + np.arange(10, dtype=np.float32).tobytes(), dtype=np.float32, offset=1
        ),  # unaligned
    ],
)
def test_other_layouts_are_made_contiguous_once(identity_session: ortbind.Session, make: object) -> None:
    x = make()  # type: ignore[operator]
    np.testing.assert_array_equal(identity_session.run({"x": x})["y"], np.ascontiguousarray(x, dtype=np.float32))


def test_read_only_and_memory_mapped_inputs(identity_session: ortbind.Session, tmp_path: object) -> None:
    x = np.arange(5, dtype=np.float32)
    x.flags.writeable = False
    assert identity_session.run({"x": x})["y"].tolist() == x.tolist()
    path = f"{tmp_path}/x.npy"
    np.save(path, np.arange(7, dtype=np.float32))
    mapped = np.load(path, mmap_mode="r")
    assert identity_session.run({"x": mapped})["y"].tolist() == list(range(7))


def test_zero_size_and_zero_dim() -> None:
    session = ortbind.Session(models.identity(shape=None))
    assert session.run({"x": np.zeros((0, 3), np.float32)})["y"].shape == (0, 3)
    assert session.run({"x": np.float32(2.5)})["y"].shape == ()
    assert session.run({"x": np.array(2.5, np.float32)})["y"].tolist() == 2.5


def test_large_input_is_not_copied() -> None:
    # 256 MiB in, one float out: the run must not raise the peak by anything like the input's size.
    result = run_child("peak_memory", "input")
    assert result.returncode == 0, result.stderr
    growth, total = map(float, result.stdout.split())
    assert total == 64 << 20
    assert growth < 32, f"peak memory grew by {growth:.0f} MiB for a 256 MiB input"


def test_large_output_is_not_copied() -> None:
    # One float in, 256 MiB out: the peak grows by the output once, not twice.
    result = run_child("peak_memory", "output")
    assert result.returncode == 0, result.stderr
    growth, size, last = map(float, result.stdout.split())
    assert size == 256 and last == 3.0
    assert growth < 256 + 32, f"peak memory grew by {growth:.0f} MiB for a 256 MiB output"


def test_array_likes_are_typed(identity_session: ortbind.Session) -> None:
    class ArrayLike:
        def __init__(self, data: np.ndarray) -> None:
            self.data = data

        def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
            return self.data

    assert identity_session.run({"x": ArrayLike(np.ones(2, np.float32))})["y"].tolist() == [1.0, 1.0]
    with pytest.raises(ortbind.DTypeError, match="input 'x' expects float32, got an array of float64"):
        identity_session.run({"x": ArrayLike(np.ones(2))})
