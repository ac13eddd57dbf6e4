"""One exception hierarchy: ortbind.Error at the root, a class per ONNX Runtime error code, and
ortbind's own validation errors deriving from the builtin a user would catch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

import ortbind
from support import models

CODE_CLASSES = {
    1: ortbind.errors.Fail,
    2: ortbind.errors.InvalidArgument,
    3: ortbind.errors.NoSuchFile,
    4: ortbind.errors.NoModel,
    5: ortbind.errors.EngineError,
    6: ortbind.errors.RuntimeException,
    7: ortbind.errors.InvalidProtobuf,
    8: ortbind.errors.ModelLoaded,
    9: ortbind.errors.NotImplementedInRuntime,
    10: ortbind.errors.InvalidGraph,
    11: ortbind.errors.EPFail,
    12: ortbind.errors.ModelLoadCanceled,
    13: ortbind.errors.ModelRequiresCompilation,
    14: ortbind.errors.NotFound,
    15: ortbind.errors.DeviceReset,
}


@pytest.mark.parametrize(("code", "cls"), sorted(CODE_CLASSES.items()))
def test_one_class_per_error_code(code: int, cls: type[ortbind.Error]) -> None:
    assert issubclass(cls, ortbind.Error)
    assert cls.code == code
    assert cls.code_name is not None and cls.code_name.startswith("ORT_")
    # Named after the module that exports it, so that it pickles and prints as users import it.
    assert cls.__module__ == "ortbind.errors"
    assert getattr(ortbind.errors, cls.__name__) is cls


def test_builtin_bases() -> None:
    assert issubclass(ortbind.errors.InvalidArgument, ValueError)
    assert issubclass(ortbind.errors.NoSuchFile, FileNotFoundError)
    assert issubclass(ortbind.errors.NotImplementedInRuntime, NotImplementedError)
    assert issubclass(ortbind.ShapeError, ValueError) and issubclass(ortbind.ShapeError, ortbind.ValidationError)
    assert issubclass(ortbind.DTypeError, TypeError) and issubclass(ortbind.KindError, TypeError)
    assert issubclass(ortbind.NameMismatchError, KeyError)
    assert issubclass(ortbind.OutputShapeError, ortbind.ShapeError)
    assert issubclass(ortbind.RunTimeout, ortbind.Cancelled) and issubclass(ortbind.RunTimeout, TimeoutError)
    assert all(issubclass(c, ortbind.Error) for c in (ortbind.ClosedError, ortbind.EnvError, ortbind.Cancelled))


def test_key_errors_read_as_sentences(add_session: ortbind.Session) -> None:
    with pytest.raises(ortbind.NameMismatchError) as info:
        add_session.run({"x": np.ones((1, 3), np.float32), "yy": np.ones((1, 3), np.float32)})
    assert str(info.value) == "unknown input 'yy' (did you mean 'y'?); the model's inputs are: 'x', 'y'"


@pytest.mark.parametrize(
    ("source", "cls", "message"),
    [
        (b"\x08\x07garbage" * 4, ortbind.errors.InvalidProtobuf, "protobuf parsing failed"),
        (b"", ortbind.errors.InvalidArgument, "No graph was found in the protobuf"),
        ("/nonexistent/model.onnx", ortbind.errors.NoSuchFile, "/nonexistent/model.onnx"),
    ],
)
def test_bad_models_raise_the_runtimes_code(source: object, cls: type, message: str) -> None:
    with pytest.raises(cls, match=message) as info:
        ortbind.Session(source)  # type: ignore[arg-type]
    assert info.value.code == cls.code  # type: ignore[attr-defined]


def test_paths_with_nul_and_a_single_provider_string(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(models.add_one_element())
    with pytest.raises(ortbind.InvalidValueError, match="the model path holds a NUL character"):
        ortbind.Session(f"{path}\0ignored")
    with pytest.raises(ortbind.KindError, match="providers must be a sequence of provider names, not one str"):
        ortbind.Session(path, providers="CPUExecutionProvider")


def test_directory_and_wrong_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ortbind.Error, match="directory"):
        ortbind.Session(tmp_path)
    with pytest.raises(ortbind.KindError, match=r"model must be a path .* or bytes-like, not int"):
        ortbind.Session(42)  # type: ignore[arg-type]


def test_unknown_operator_is_invalid_graph() -> None:
    graph = helper.make_graph(
        [helper.make_node("NoSuchOp", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ortbind.Error, match="NoSuchOp") as info:
        ortbind.Session(model.SerializeToString())
    assert info.value.code in (
        ortbind.errors.InvalidGraph.code,
        ortbind.errors.Fail.code,
        ortbind.errors.NotImplementedInRuntime.code,
    )


def test_runtime_errors_carry_the_runtimes_text() -> None:
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])],
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    session = ortbind.Session(model.SerializeToString())
    with pytest.raises(ortbind.Error, match="cannot be reshaped to the requested shape") as info:
        session.run({"x": np.ones(5, np.float32), "shape": np.array([2, 2])})
    assert type(info.value) is ortbind.errors.Fail and info.value.code == 1
    assert session.run({"x": np.ones(4, np.float32), "shape": np.array([2, 2])})["y"].shape == (2, 2)


def test_feed_errors_name_the_input(add_session: ortbind.Session) -> None:
    good = np.ones((2, 3), np.float32)
    cases = [
        ({"x": good}, ortbind.NameMismatchError, "missing input 'y'; the model's inputs are: 'x', 'y'"),
        ({"x": good, 1: good}, ortbind.NameMismatchError, "input names must be str, not int 1"),
        ({"x": good, "y": None}, ortbind.KindError, "input 'y' expects a tensor of float32, got None"),
        ({"x": good, "y": [good, good]}, ortbind.ShapeError, "input 'y' has rank 3, but the contract expects rank 2"),
        (
            {"x": good, "y": good.astype(np.float64)},
            ortbind.DTypeError,
            "input 'y' expects float32, got an array of float64",
        ),
        (
            {"x": good, "y": np.ones((2, 4), np.float32)},
            ortbind.ShapeError,
            "input 'y' dim 1 is 4, but the contract fixes it to 3",
        ),
    ]
    for feeds, cls, message in cases:
        with pytest.raises(cls) as info:
            add_session.run(feeds)
        assert str(info.value).startswith(message), str(info.value)
    assert add_session.run({"x": good, "y": good})["z"].shape == (2, 3)


def test_identity_model_still_usable_after_errors() -> None:
    session = ortbind.Session(models.identity())
    for bad in (None, "text", {"a": 1}, np.ones(2, dtype=object), [[1], [2, 3]]):
        with pytest.raises(ortbind.ValidationError):
            session.run({"x": bad})
    assert session.run({"x": np.ones(2, np.float32)})["y"].tolist() == [1.0, 1.0]


def test_names_given_twice(add_session: ortbind.Session) -> None:
    x = np.ones((1, 3), np.float32)

    class Twice:
        def keys(self) -> list[str]:
            return ["x", "x", "y"]

        def items(self) -> list[tuple[str, np.ndarray]]:
            return [("x", x), ("x", x), ("y", x)]

    with pytest.raises(ortbind.NameMismatchError, match="input 'x' is given twice"):
        add_session.run(Twice())
    with pytest.raises(ortbind.NameMismatchError, match="output 'z' is requested twice"):
        add_session.run({"x": x, "y": x}, ["z", "z"])
    # Any iterable of names is taken, though the signature asks for a sequence.
    assert list(add_session.run({"x": x, "y": x}, iter(["z"]))) == ["z"]  # type: ignore[arg-type]


def test_feeds_changed_while_being_read(add_session: ortbind.Session) -> None:
    feeds: dict[str, object] = {}

    class Sneaky:
        def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
            feeds.clear()  # drops the dict's references while the run reads it
            return np.ones((1, 3), np.float32)

    feeds.update({"x": Sneaky(), "y": np.ones((1, 3), np.float32)})
    # The dict emptied under the run: 'y' is never seen, and the value being read stayed alive.
    with pytest.raises(ortbind.NameMismatchError, match="missing input 'y'"):
        add_session.run(feeds)
    assert feeds == {}
    assert add_session.run({"x": np.ones((1, 3), np.float32), "y": np.ones((1, 3), np.float32)})["z"].shape == (1, 3)


def test_bad_run_arguments(identity_session: ortbind.Session) -> None:
    x = np.ones(2, np.float32)
    with pytest.raises(ortbind.KindError, match="timeout must be a number of seconds, not str"):
        identity_session.run({"x": x}, timeout="1")  # type: ignore[arg-type]
    with pytest.raises(ortbind.KindError, match="cancel must be a CancelToken, not int"):
        identity_session.run({"x": x}, cancel=5)  # type: ignore[arg-type]
    with pytest.raises(ortbind.KindError, match="contract must be a CompiledContract, not str"):
        identity_session.run({"x": x}, contract="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="run\\(\\) got an unexpected keyword argument 'foo'"):
        identity_session.run({"x": x}, foo=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="run\\(\\) takes at most 2 positional arguments"):
        identity_session.run({"x": x}, None, None)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="missing required argument 'feeds'"):
        identity_session.run()  # type: ignore[call-arg]
    with pytest.raises(ortbind.errors.InvalidArgument, match="At least one output should be requested"):
        identity_session.run({"x": x}, [])


def test_raw_bytes_are_not_numbers(identity_session: ortbind.Session) -> None:
    for raw in (b"abc", bytearray(b"abc")):
        with pytest.raises(ortbind.KindError, match="raw bytes are not numbers"):
            identity_session.run({"x": raw})
    with pytest.raises(ortbind.DTypeError, match="expects float32, got an array of uint8"):
        identity_session.run({"x": memoryview(b"abcd")})
    assert identity_session.run({"x": np.ones(3, np.float32).data})["y"].tolist() == [1.0] * 3


def test_name_mismatch_error_covers_inputs_outputs_and_dims_and_keeps_its_old_name() -> None:
    assert ortbind.InputNameError is ortbind.NameMismatchError
    session = ortbind.Session(models.add())
    x = np.ones((1, 3), np.float32)
    with pytest.raises(ortbind.NameMismatchError, match="unknown output 'q'"):
        session.run({"x": x, "y": x}, outputs=["q"])
    with pytest.raises(ortbind.NameMismatchError, match="dims names 'time'"):
        session.with_contract(dims={"time": 1})
    with pytest.raises(KeyError):
        session.run({"x": x})
