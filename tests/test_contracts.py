"""Shape contracts: the model's signature enforced before the run, tightened by the user, with
messages that name the input, the dim and who bound a symbol first."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ortbind
from support import models


@pytest.fixture(scope="module")
def pair() -> ortbind.Session:
    return ortbind.Session(models.symbolic_pair())


def ints(*shape: int) -> np.ndarray:
    return np.ones(shape, np.int64)


def test_model_contract_prints_as_signature(pair: ortbind.Session) -> None:
    assert str(pair.contract) == "(ids: int64[batch, seq], mask: int64[batch, seq]) -> (masked: int64[batch, seq])"
    assert pair.contract.symbols == ("batch", "seq")
    assert pair.contract.inputs["ids"] == ortbind.TensorContract("int64", ("batch", "seq"))


def test_symbolic_dims_bind_across_inputs(pair: ortbind.Session) -> None:
    with pytest.raises(ortbind.ShapeError) as info:
        pair.run({"ids": ints(2, 5), "mask": ints(3, 5)})
    assert str(info.value) == "input 'mask' dim 0 ('batch') is 3, but 'ids' bound batch=2"
    with pytest.raises(ortbind.ShapeError, match=r"input 'mask' dim 1 \('seq'\) is 4, but 'ids' bound seq=5"):
        pair.run({"ids": ints(2, 5), "mask": ints(2, 4)})


def test_name_repeated_within_one_shape_is_a_placeholder_in_the_model_contract() -> None:
    # Converters write one name for several unrelated dims ([?, 3, ?, ?]); ONNX Runtime runs them.
    session = ortbind.Session(models.identity(shape=["n", "n"]))
    assert str(session.contract) == "(x: float32[?, ?]) -> (y: float32[?, ?])"
    assert session.run({"x": np.ones((2, 3), np.float32)})["y"].shape == (2, 3)
    # A user who means it says so, and then it binds.
    checked = session.with_contract(inputs={"x": (None, ("n", "n"))})
    assert checked.run({"x": np.ones((2, 2), np.float32)})["y"].shape == (2, 2)
    with pytest.raises(ortbind.ShapeError, match=r"input 'x' dim 1 \('n'\) is 3, but an earlier dim of it bound n=2"):
        checked.run({"x": np.ones((2, 3), np.float32)})


@pytest.mark.parametrize("name", ["?", "unk__12", "-1", "None", "", " ", "*", "unknown"])
def test_placeholder_names_are_unknown_dims(name: str) -> None:
    session = ortbind.Session(models.add(shape=[name, 3]))
    assert session.contract.inputs["x"] == ortbind.TensorContract("float32", (None, 3))
    assert session.contract.symbols == ()
    # Not bound across inputs: ONNX Runtime broadcasts 1 against 4, as the official binding would.
    got = session.run({"x": np.ones((1, 3), np.float32), "y": np.ones((4, 3), np.float32)})["z"]
    assert got.shape == (4, 3)
    with pytest.raises(ortbind.ShapeError, match="input 'x' dim 1 is 2, but the contract fixes it to 3"):
        session.run({"x": np.ones((1, 2), np.float32), "y": np.ones((1, 3), np.float32)})


def test_declared_output_shapes_of_the_model_never_fail_a_run() -> None:
    # The model declares y as rank 2 with a fixed dim; Identity gives back whatever x is.
    session = ortbind.Session(models.mislabelled_output())
    got = session.run({"x": np.arange(6, dtype=np.float32).reshape(2, 3, 1)})["y"]
    assert got.shape == (2, 3, 1)
    # A contract the user declares for that output is checked, with the result carried by the error.
    checked = session.with_contract(outputs={"y": (None, (1, 5))})
    with pytest.raises(ortbind.OutputShapeError, match="output 'y' has rank 3, but the contract expects rank 2"):
        checked.run({"x": np.zeros((2, 3, 1), np.float32)})


def test_a_shape_check_comes_before_any_copy() -> None:
    # A stride-0 view of 2**40 elements: a contiguous copy would need 4 TiB.
    session = ortbind.Session(models.identity(shape=[1]))
    huge = np.broadcast_to(np.float32(1), (1 << 40,))
    with pytest.raises(ortbind.ShapeError, match="input 'x' dim 0 is 1099511627776, but the contract fixes it to 1"):
        session.run({"x": huge})
    checked = ortbind.Session(models.identity(shape=[None])).with_contract(dims={}, inputs={"x": (None, ("n",))})
    bounded = checked.with_contract(dims={"n": (0, 8)})
    with pytest.raises(ortbind.ShapeError, match="outside the contract's bound 0 <= n <= 8"):
        bounded.run({"x": huge})


def test_the_check_comes_before_the_runtime_sees_the_data(pair: ortbind.Session) -> None:
    # An inconsistent feed that ONNX Runtime itself would accept for Mul by broadcasting (1 vs 3)
    # is refused by the contract all the same.
    with pytest.raises(ortbind.ShapeError, match="'ids' bound batch=1"):
        pair.run({"ids": ints(1, 2), "mask": ints(3, 2)})


def test_tightened_contract(pair: ortbind.Session) -> None:
    checked = pair.with_contract(dims={"batch": (1, 4), "seq": 8})
    assert str(checked.contract).endswith("where 1 <= batch <= 4, seq = 8")
    assert checked.run({"ids": ints(4, 8), "mask": ints(4, 8)})["masked"].shape == (4, 8)
    with pytest.raises(ortbind.ShapeError) as info:
        checked.run({"ids": ints(5, 8), "mask": ints(5, 8)})
    assert str(info.value) == "input 'ids' dim 0 ('batch') is 5, outside the contract's bound 1 <= batch <= 4"
    with pytest.raises(
        ortbind.ShapeError, match=r"input 'ids' dim 1 \('seq'\) is 7, outside the contract's bound 8 <= seq <= 8"
    ):
        checked.run({"ids": ints(2, 7), "mask": ints(2, 7)})
    # The session's own run keeps the model's contract.
    assert pair.run({"ids": ints(5, 7), "mask": ints(5, 7)})["masked"].shape == (5, 7)


def test_naming_and_fixing_unnamed_dims() -> None:
    session = ortbind.Session(models.add(shape=[None, None]))
    assert str(session.contract) == "(x: float32[?, ?], y: float32[?, ?]) -> (z: float32[?, ?])"
    checked = session.with_contract(
        inputs={"x": ("float32", ("rows", 3)), "y": (None, ("rows", 3))},
        outputs={"z": (np.float32, ("rows", 3))},
        dims={"rows": (None, 10)},
    )
    assert (
        str(checked.contract)
        == "(x: float32[rows, 3], y: float32[rows, 3]) -> (z: float32[rows, 3]) where 0 <= rows <= 10"
    )
    with pytest.raises(ortbind.ShapeError, match=r"input 'y' dim 0 \('rows'\) is 3, but 'x' bound rows=2"):
        checked.run({"x": np.ones((2, 3), np.float32), "y": np.ones((3, 3), np.float32)})
    with pytest.raises(ortbind.ShapeError, match="input 'x' dim 1 is 4, but the contract fixes it to 3"):
        checked.run({"x": np.ones((2, 4), np.float32), "y": np.ones((2, 4), np.float32)})


def test_contract_that_contradicts_the_model_is_refused(pair: ortbind.Session) -> None:
    with pytest.raises(
        ortbind.DTypeError, match="the contract declares input 'ids' as float32, but the model's is int64"
    ):
        pair.with_contract(inputs={"ids": (np.float32, None)})
    with pytest.raises(
        ortbind.ShapeError, match="the contract declares input 'ids' with rank 3, but the model's has rank 2"
    ):
        pair.with_contract(inputs={"ids": (None, ("batch", "seq", 1))})
    with pytest.raises(ortbind.NameMismatchError, match=r"unknown input 'idz' \(did you mean 'ids'\?\)"):
        pair.with_contract(inputs={"idz": (None, None)})
    with pytest.raises(
        ortbind.NameMismatchError, match="dims names 'time', which no input or output of the contract has"
    ):
        pair.with_contract(dims={"time": 3})
    with pytest.raises(ortbind.InvalidValueError, match=r"dims\['batch'\] = \(4, 2\) is not a valid range"):
        pair.with_contract(dims={"batch": (4, 2)})
    session = ortbind.Session(models.add())
    with pytest.raises(
        ortbind.ShapeError, match="the contract fixes input 'x' dim 1 to 4, but the model fixes it to 3"
    ):
        session.with_contract(inputs={"x": (None, ("batch", 4))})


def test_outputs_are_checked_against_the_same_bindings() -> None:
    # The model says y has x's length n; the contract is told (wrongly) that y has length m, and m
    # is fixed to 1: the run's output breaks it, and the error carries the computed result.
    session = ortbind.Session(models.identity(shape=[None]))
    checked = session.with_contract(inputs={"x": (None, ("n",))}, outputs={"y": (None, ("m",))}, dims={"m": 1})
    with pytest.raises(ortbind.OutputShapeError) as info:
        checked.run({"x": np.arange(3, dtype=np.float32)})
    assert str(info.value) == "output 'y' dim 0 ('m') is 3, outside the contract's bound 1 <= m <= 1"
    assert info.value.result["y"].tolist() == [0.0, 1.0, 2.0]
    linked = session.with_contract(inputs={"x": (None, ("n",))}, outputs={"y": (None, ("n",))})
    assert linked.run({"x": np.arange(3, dtype=np.float32)})["y"].shape == (3,)


def test_contract_compiled_for_another_session_is_refused(pair: ortbind.Session) -> None:
    other = ortbind.Session(models.symbolic_pair())
    foreign = other.with_contract(dims={"batch": 1})
    with pytest.raises(ortbind.InvalidValueError, match="compiled for another session"):
        pair.run({"ids": ints(1, 1), "mask": ints(1, 1)}, contract=foreign._compiled)


shapes = st.tuples(st.integers(0, 6), st.integers(0, 6))


@settings(max_examples=60, deadline=None)
@given(batch=st.integers(0, 5), seq=st.integers(0, 5))
def test_consistent_feeds_always_pass(pair: ortbind.Session, batch: int, seq: int) -> None:
    ids = np.arange(batch * seq, dtype=np.int64).reshape(batch, seq)
    result = pair.run({"ids": ids, "mask": np.ones_like(ids)})
    np.testing.assert_array_equal(result["masked"], ids)


@settings(max_examples=60, deadline=None)
@given(a=shapes, b=shapes)
def test_inconsistent_feeds_always_raise_before_the_run(
    pair: ortbind.Session, a: tuple[int, int], b: tuple[int, int]
) -> None:
    if a == b:
        assert pair.run({"ids": ints(*a), "mask": ints(*b)})["masked"].shape == a
        return
    axis = 0 if a[0] != b[0] else 1
    symbol = ("batch", "seq")[axis]
    with pytest.raises(ortbind.ShapeError) as info:
        pair.run({"ids": ints(*a), "mask": ints(*b)})
    assert str(info.value) == f"input 'mask' dim {axis} ('{symbol}') is {b[axis]}, but 'ids' bound {symbol}={a[axis]}"


@settings(max_examples=40, deadline=None)
@given(rank=st.integers(0, 4), fill=st.integers(1, 3))
def test_wrong_ranks_always_raise(pair: ortbind.Session, rank: int, fill: int) -> None:
    shape = (fill,) * rank
    if rank == 2:
        return
    with pytest.raises(
        ortbind.ShapeError, match=f"input '(ids|mask)' has rank {rank}, but the contract expects rank 2"
    ):
        pair.run({"ids": ints(*shape), "mask": ints(*shape)})
