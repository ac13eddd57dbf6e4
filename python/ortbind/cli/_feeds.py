"""The feeds a subcommand runs the model on: from an .npz file, or random values valid for the model's
contract (its dtypes, its fixed dims, its named dims given sizes by ``--dim``, every other dim 1)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import _core
from .._convert import numpy_dtype
from ..contracts import TensorContract
from ..session import Session, ValueSpec
from ._common import UsageError

_DIM = re.compile(r"(?P<name>.+?)=(?P<size>.*)")


def parse_dims(items: Sequence[str]) -> dict[str, int]:
    """``--dim NAME=SIZE`` options as a dict."""
    dims: dict[str, int] = {}
    for item in items:
        match = _DIM.fullmatch(item)
        if match is None or not match["size"].strip().isdigit():
            raise UsageError(f"--dim {item}: expected NAME=SIZE with SIZE a whole number >= 0 (--dim batch=8)")
        dims[match["name"].strip()] = int(match["size"])
    return dims


def parse_shapes(items: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """``--shape INPUT=D1xD2x...`` options (``INPUT=`` for a scalar) as a dict."""
    shapes: dict[str, tuple[int, ...]] = {}
    for item in items:
        name, sep, text = item.rpartition("=")
        parts = [p.strip() for p in re.split(r"[x,]", text)] if text.strip() else []
        if not sep or not name or not all(p.isdigit() for p in parts):
            raise UsageError(f"--shape {item}: expected INPUT=D1xD2x... with whole numbers (--shape x=1x3x224x224)")
        shapes[name] = tuple(int(p) for p in parts)
    return shapes


def dim_names(session: Session) -> list[str]:
    """Every dim name the model's inputs and outputs declare, placeholders included (``--dim`` may size a
    placeholder such as tf2onnx's ``unk__12`` too, since that is the only name such a dim has)."""
    seen: dict[str, None] = {}
    for spec in (*session.inputs, *session.outputs):
        for dim in spec.shape or ():
            if isinstance(dim, str):
                seen[dim] = None
    return list(seen)


@dataclass
class Feeds:
    arrays: dict[str, np.ndarray[Any, Any]]
    generated: list[str] = field(default_factory=list)  # the inputs given random values
    source: str = ""

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, dtype[shape], where from) per input."""
        rows = []
        for name, value in self.arrays.items():
            shape = ", ".join(str(d) for d in value.shape)
            rows.append(
                (name, f"{_dtype_name(value.dtype)}[{shape}]", "random" if name in self.generated else self.source)
            )
        return rows


def _dtype_name(dtype: np.dtype[Any]) -> str:
    return "string" if dtype.kind in "OUS" else str(dtype.name)


def load_npz(path_text: str) -> dict[str, np.ndarray[Any, Any]]:
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"--feeds {path_text}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise UsageError(f"--feeds {path_text}: an .npy file holds one array; save the feeds with np.savez")
            return {name: archive[name] for name in archive.files}
    except UsageError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise UsageError(f"--feeds {path_text}: not an .npz file numpy can read ({error})") from None


def _check_shape(name: str, shape: tuple[int, ...], rule: TensorContract | None, origin: str) -> None:
    """The rank and fixed dims ONNX Runtime would refuse, said before the run."""
    if rule is None or rule.shape is None:
        return
    if len(shape) != len(rule.shape):
        raise UsageError(
            f"{origin}: input {name!r} has shape {list(shape)}, the model takes rank {len(rule.shape)} ({rule})"
        )
    for axis, (want, have) in enumerate(zip(rule.shape, shape, strict=True)):
        if isinstance(want, int) and want >= 0 and want != have:
            raise UsageError(
                f"{origin}: input {name!r} has shape {list(shape)}, the model fixes dim {axis} to {want} ({rule})"
            )


def _check_fits(name: str, array: np.ndarray[Any, Any], rule: TensorContract | None, origin: str) -> None:
    """The dtype, rank and fixed dims ONNX Runtime would refuse, said before the run."""
    if rule is None:
        return
    got = _dtype_name(array.dtype)
    if rule.dtype == "string" or got == "string":
        same = got == rule.dtype
    else:
        try:
            same = array.dtype == numpy_dtype(rule.dtype)
        except (TypeError, _core.Error):  # no numpy type for it here (ml_dtypes missing)
            same = False
    if not same:
        raise UsageError(f"{origin}: input {name!r} is {got}, the model takes {rule.dtype}")
    _check_shape(name, array.shape, rule, origin)


def _ml_dtype_view(array: np.ndarray[Any, Any], rule: TensorContract | None) -> np.ndarray[Any, Any]:
    """An array of ml_dtypes' types (bfloat16, float8, ...) comes back from an .npz file as raw bytes
    (numpy writes their dtype as void): typed again as the model's type when the sizes agree."""
    if rule is None or array.dtype.kind != "V" or array.dtype.names is not None or rule.dtype == "string":
        return array
    try:
        wanted = numpy_dtype(rule.dtype)
    except (TypeError, _core.Error):
        return array
    return array.view(wanted) if wanted.kind == "V" and wanted.itemsize == array.dtype.itemsize else array


def _random(spec: ValueSpec, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray[Any, Any]:
    dtype = spec.dtype
    if dtype is str:
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        words = ["".join(rng.choice(letters, 5)) for _ in range(int(np.prod(shape, dtype=np.int64)))]
        return np.array(words, dtype=str).reshape(shape)
    assert isinstance(dtype, np.dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        # Small non-negative integers: valid as indices, token ids and counts alike.
        return rng.integers(0, 4, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.random(shape) + 1j * rng.random(shape)).astype(dtype)
    # Floats in [0, 1) (ml_dtypes' too, through float32): valid for log, sqrt and probabilities.
    return rng.random(shape, dtype=np.float32).astype(dtype)


def make_feeds(
    session: Session,
    *,
    dims: Mapping[str, int],
    shapes: Mapping[str, tuple[int, ...]],
    seed: int,
    given: Mapping[str, np.ndarray[Any, Any]] | None = None,
    source: str = "",
) -> Feeds:
    """Feeds for every input: ``given`` ones as they are, the others random with ``dims``/``shapes``."""
    given = dict(given or {})
    names = dim_names(session)
    for name in dims:
        if name not in names:
            known = ", ".join(names) if names else "none (every dim is fixed or unnamed; use --shape INPUT=D1xD2x...)"
            raise UsageError(f"--dim {name}: the model has no dim named {name!r}; its dim names: {known}")
    inputs = {spec.name: spec for spec in session.inputs}
    for name in (*shapes, *given):
        if name not in inputs:
            option = "--shape" if name in shapes else f"--feeds {source}"
            raise UsageError(f"{option}: {name!r} is not an input of the model; its inputs: {', '.join(inputs)}")
    rules = session.contract.inputs
    for name, array in given.items():
        given[name] = array = _ml_dtype_view(array, rules.get(name))
        _check_fits(name, array, rules.get(name), f"--feeds {source}")
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    generated = []
    for name, spec in inputs.items():
        if name in given:
            arrays[name] = given[name]
            continue
        if spec.kind != "tensor" or spec.dtype is None:
            what = "tensors" if spec.kind == "tensor" else "tensors only (an .npz file holds nothing else)"
            raise UsageError(
                f"input {name!r} has type {spec.type}: the command line feeds {what}"
                + ("; give this one in --feeds FILE.npz" if spec.kind == "tensor" else "")
            )
        if name in shapes:
            shape = shapes[name]
            _check_shape(name, shape, rules.get(name), "--shape")
        else:
            # ONNX Runtime reports a scalar and an unknown rank alike, as (): a scalar is the likely one.
            shape = tuple(
                d if isinstance(d, int) and d >= 0 else dims.get(d, 1) if isinstance(d, str) else 1
                for d in (spec.shape or ())
            )
        arrays[name] = _random(spec, shape, rng)
        generated.append(name)
    return Feeds(arrays, generated, source)
