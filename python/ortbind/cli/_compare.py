"""Bit-for-bit comparison of ortbind's outputs with the official binding's, and what differs where."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Difference:
    """One place where the outputs differ: ``where`` is the output (and the item inside a sequence or
    map), ``what`` says how; for numbers, how many differ and by how much at most."""

    where: str
    what: str
    max_abs: float | None = None
    max_rel: float | None = None

    @property
    def text(self) -> str:
        """How it differs, without where."""
        if self.max_abs is None:
            return self.what
        return f"{self.what}; max abs difference {self.max_abs:.6g}, max rel difference {_rel_text(self.max_rel)}"

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def _rel_text(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return "inf" if math.isinf(value) else f"{value:.6g}"


def _raw_bits_alike(ours: np.ndarray[Any, Any], theirs: np.ndarray[Any, Any]) -> bool:
    # The official binding returns element types numpy lacks (float8, int4, ...) as raw unsigned bytes
    # where ortbind types them with ml_dtypes: the same bits, so the same answer.
    return ours.dtype.kind == "V" and theirs.dtype.kind in "ui" and ours.dtype.itemsize == theirs.dtype.itemsize


def _array_difference(where: str, ours: np.ndarray[Any, Any], theirs: np.ndarray[Any, Any]) -> Difference | None:
    if ours.shape != theirs.shape:
        return Difference(where, f"shape {list(ours.shape)} in ortbind, {list(theirs.shape)} in onnxruntime")
    if theirs.dtype.kind in "OUS" or ours.dtype.kind in "OUS":
        a, b = ours.tolist(), theirs.tolist()
        if a == b:
            return None
        count = int(sum(x != y for x, y in zip(ours.ravel().tolist(), theirs.ravel().tolist(), strict=True)))
        return Difference(where, f"{count} of {theirs.size} strings differ")
    if ours.dtype != theirs.dtype and not _raw_bits_alike(ours, theirs):
        return Difference(where, f"dtype {ours.dtype} in ortbind, {theirs.dtype} in onnxruntime")
    a = np.ascontiguousarray(ours).reshape(-1).view(np.uint8).reshape(ours.size, ours.dtype.itemsize)
    b = np.ascontiguousarray(theirs).reshape(-1).view(np.uint8).reshape(theirs.size, theirs.dtype.itemsize)
    differ = (a != b).any(axis=1) if ours.size else np.zeros(0, bool)
    count = int(differ.sum())
    if count == 0:
        return None
    what = f"{count} of {theirs.size} values differ"
    if ours.dtype != theirs.dtype:
        return Difference(where, what)
    try:
        wide = np.complex128 if ours.dtype.kind == "c" else np.float64
        x = ours.reshape(-1)[differ].astype(wide)
        y = theirs.reshape(-1)[differ].astype(wide)
    except (TypeError, ValueError):
        return Difference(where, what)
    with np.errstate(all="ignore"):
        delta = np.abs(x - y)
        scale = np.abs(y)
        finite = np.isfinite(delta)
        if not finite.any():
            return Difference(where, what + " (NaN or infinite where the other is not)")
        rel = np.where(scale > 0, delta / np.where(scale > 0, scale, 1), np.inf)
    return Difference(where, what, float(delta[finite].max()), float(rel[finite].max()))


def compare(where: str, ours: Any, theirs: Any) -> list[Difference]:
    """Every difference between ortbind's value ``ours`` and the official binding's ``theirs``."""
    if isinstance(theirs, np.ndarray):
        if not isinstance(ours, np.ndarray):
            return [Difference(where, f"a {type(ours).__name__} in ortbind, an array in onnxruntime")]
        found = _array_difference(where, ours, theirs)
        return [] if found is None else [found]
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [Difference(where, f"a {type(ours).__name__} in ortbind, a list in onnxruntime")]
        if len(ours) != len(theirs):
            return [Difference(where, f"{len(ours)} items in ortbind, {len(theirs)} in onnxruntime")]
        return [d for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) for d in compare(f"{where}[{i}]", a, b)]
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [Difference(where, f"a {type(ours).__name__} in ortbind, a dict in onnxruntime")]
        if set(ours) != set(theirs):
            return [Difference(where, f"keys {sorted(ours)} in ortbind, {sorted(theirs)} in onnxruntime")]
        return [d for key in theirs for d in compare(f"{where}[{key!r}]", ours[key], theirs[key])]
    if isinstance(theirs, float) and isinstance(ours, float):
        same = np.float64(ours).tobytes() == np.float64(theirs).tobytes()
        return (
            [] if same else [Difference(where, f"{ours!r} in ortbind, {theirs!r} in onnxruntime", abs(ours - theirs))]
        )
    if ours != theirs or type(ours) is not type(theirs):
        return [Difference(where, f"{ours!r} in ortbind, {theirs!r} in onnxruntime")]
    return []
