"""ONNX's own test cases through ortbind and the official binding (onnxruntime.InferenceSession).

The cases are the model folders shipped in the onnx wheel (simple, pytorch-converted, pytorch-operator,
light) and ONNX's node test cases, generated in memory from ``onnx.backend.test.case.node``.

Every case ends in exactly one of four passing outcomes:

``identical``
    both bindings load the model and run every data set, and ortbind's outputs are the official
    binding's bit for bit (dtype, shape and bytes; strings equal; sequences, maps and optionals
    recursively; NaNs with the same bits);
``ortbind_only_right``
    the official binding refuses the case (load or run error, converting its outputs included) while
    ortbind runs every data set, with outputs within the case's tolerance of the expected ones;
``undefined_excluded``
    identical where defined, undefined elements excluded: ONNX leaves some of the case's output
    elements undefined (a float cast to a fixed-point type out of its range, NaN and infinities
    included; a negative value cast to FLOAT8E8M0), and on every other element the case passes as
    ``identical`` (both bindings run it) or ``ortbind_only_right`` (only ortbind does). The expected
    value the generator wrote for an undefined element is whatever numpy or ml_dtypes made of it, and
    that differs across their releases;
``refused_by_both``
    both refuse.

Anything else is a failure: ``ortbind_refused`` (the official binding runs the case, ortbind does not),
``different`` (both run it, the outputs differ on a defined element) or ``ortbind_only_wrong`` (only
ortbind runs it and its outputs disagree with the expected ones on a defined element, or there are
none to compare with).

A case both bindings run alike whose expected outputs neither is within tolerance of is listed apart
(``expected_disagrees_with_both``), with the first disagreement: the expected outputs, not a binding,
are then in question, and the list says which cases those are.

``python support/conformance.py`` prints the report (``--verbose`` also lists every case refused by
one binding), ``--json`` prints the summary as one JSON line; tests/test_conformance.py asserts on it.
The exit status is 0 only when no case fails.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

import ortbind

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
KINDS = ("simple", "pytorch-converted", "pytorch-operator", "light", "node")

PASSING = ("identical", "ortbind_only_right", "undefined_excluded", "refused_by_both")
FAILING = ("ortbind_refused", "different", "ortbind_only_wrong")
ERROR_CHARS = 400


@dataclass
class Case:
    kind: str
    name: str
    model: Path | bytes  # a model.onnx path, or the serialized model of a generated case
    inputs: list[str]  # the graph's inputs that are not initializers, in order
    outputs: list[str]
    data_sets: list[tuple[list[Any], list[Any]]]  # (inputs, expected outputs)
    rtol: float = 1e-3
    atol: float = 1e-7
    # per data set, the elements of each output (by index) whose value ONNX leaves undefined
    undefined: list[dict[int, np.ndarray[Any, Any]]] = field(default_factory=list)


@dataclass
class Outcome:
    case: str
    result: str = ""  # one of PASSING or FAILING
    ortbind: str = "ok"  # "ok", "load error" or "run error"
    official: str = "ok"
    ortbind_matches_expected: bool | None = None  # informational, where both ran and outputs are expected
    official_matches_expected: bool | None = None
    detail: str = ""  # the first difference, for a failing case
    expected_detail: str = ""  # where both ran alike: ortbind's first disagreement with the expected outputs
    compared_with: str = ""  # "official" or "expected": what an undefined_excluded case was compared with
    undefined_elements: int = 0  # the output elements ONNX leaves undefined, over all data sets
    errors: list[str] = field(default_factory=list)


# --- collecting the cases ------------------------------------------------------------------------


def _read(path: Path, type_proto: onnx.TypeProto) -> Any:
    data = path.read_bytes()
    which = type_proto.WhichOneof("value")
    if which == "sequence_type":
        proto = onnx.SequenceProto()
        proto.ParseFromString(data)
        return numpy_helper.to_list(proto)
    if which == "map_type":
        proto = onnx.MapProto()
        proto.ParseFromString(data)
        return numpy_helper.to_dict(proto)
    if which == "optional_type":
        proto = onnx.OptionalProto()
        proto.ParseFromString(data)
        return numpy_helper.to_optional(proto)
    tensor = onnx.TensorProto()
    tensor.ParseFromString(data)
    return numpy_helper.to_array(tensor)


def _signature(model: onnx.ModelProto) -> tuple[list[str], list[str]]:
    inits = {i.name for i in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits], [o.name for o in model.graph.output]


def collect_folders() -> list[Case]:
    cases: list[Case] = []
    for kind in KINDS[:3]:
        for folder in sorted((DATA / kind).iterdir()):
            model_path = folder / "model.onnx"
            if not model_path.exists():
                continue
            model = onnx.load(model_path, load_external_data=False)
            inits = {i.name for i in model.graph.initializer}
            inputs = [i for i in model.graph.input if i.name not in inits]
            outputs = list(model.graph.output)
            sets = []
            for data_set in sorted(folder.glob("test_data_set_*")):
                ins = [
                    _read(data_set / f"input_{k}.pb", v.type)
                    for k, v in enumerate(inputs)
                    if (data_set / f"input_{k}.pb").exists()
                ]
                outs = [_read(data_set / f"output_{k}.pb", v.type) for k, v in enumerate(outputs)]
                sets.append((ins, outs))
            rtol, atol = 1e-3, 1e-7
            if (folder / "data.json").exists():
                meta = json.loads((folder / "data.json").read_text())
                rtol, atol = meta.get("rtol", rtol), meta.get("atol", atol)
            signature = _signature(model)
            undefined = undefined_elements(model, signature[0], sets)
            cases.append(Case(kind, folder.name, model_path, *signature, sets, rtol, atol, undefined))
    for model_path in sorted((DATA / "light").glob("light_*.onnx")):
        model = onnx.load(model_path)
        inits = {i.name for i in model.graph.initializer}
        ins = []
        for x in (i for i in model.graph.input if i.name not in inits):
            # ONNX's runner feeds light models arange(n) / n in the input's shape.
            shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in x.type.tensor_type.shape.dim)
            n = int(np.prod(shape))
            ins.append((np.arange(n).reshape(shape) / n).astype(np.float32))
        expected = model_path.with_name(model_path.stem + "_output_0.pb")
        outs = [_read(expected, model.graph.output[0].type)] if expected.exists() else []
        cases.append(Case("light", model_path.stem, model_path, *_signature(model), [(ins, outs)]))
    return cases


def _value(value: Any) -> Any:
    """A generated input or expected output as the model folders would hold it: numpy arrays (ml_dtypes
    ones for the types numpy lacks), lists for sequences, dicts for maps, None for an empty optional."""
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    return value


def collect_node() -> list[Case]:
    with warnings.catch_warnings():
        # The generators compute their expected outputs with numpy, overflows and NaNs included.
        warnings.simplefilter("ignore")
        from onnx.backend.test.case import node

        generated = node.collect_testcases(None)
    cases: list[Case] = []
    for test in generated:
        assert test.model is not None, test.name
        sets = [([_value(v) for v in ins], [_value(v) for v in outs]) for ins, outs in test.data_sets or []]
        model = test.model.SerializeToString()
        signature = _signature(test.model)
        undefined = undefined_elements(test.model, signature[0], sets)
        cases.append(Case(test.kind, test.name, model, *signature, sets, test.rtol, test.atol, undefined))
    return cases


def collect() -> list[Case]:
    return collect_folders() + collect_node()


# --- what ONNX leaves undefined ------------------------------------------------------------------
# Cast's spec (CastLike's too, a function of Cast): a floating-point value cast to a fixed-point type
# is "undefined if OOR" (out of range: NaN and the infinities too), and casting a negative value to
# FLOAT8E8M0 "gives undefined behavior". The specs' other undefined results (a repeated axis, an
# empty optional, a non-numeric string, ReduceMean over nothing, TopK's order when unsorted) reach no
# case of ONNX's tests. Found here: such elements of a graph output computed by a cast straight from
# a fed graph input (the cases' casts are; a cast inside a graph would need the values before it).


def _elem_types(*names: str) -> set[int]:
    # onnx releases before the newest lack the newest types; they also lack the cases that use them
    return {int(getattr(onnx.TensorProto, name)) for name in names if hasattr(onnx.TensorProto, name)}


_FLOAT_TYPES = _elem_types(
    "FLOAT",
    "FLOAT16",
    "DOUBLE",
    "BFLOAT16",
    "FLOAT8E4M3FN",
    "FLOAT8E4M3FNUZ",
    "FLOAT8E5M2",
    "FLOAT8E5M2FNUZ",
    "FLOAT8E8M0",
    "FLOAT4E2M1",
)
_E8M0_TYPES = _elem_types("FLOAT8E8M0")
# fixed-point element type -> (bits, signed)
_FIXED_POINT = {
    int(getattr(onnx.TensorProto, f"{prefix}{bits}")): (bits, prefix == "INT")
    for prefix in ("INT", "UINT")
    for bits in (2, 4, 8, 16, 32, 64)
    if hasattr(onnx.TensorProto, f"{prefix}{bits}")
}


def _undefined_cast(value: Any, target: int) -> np.ndarray[Any, Any] | None:
    """The elements of ``value`` whose cast to the element type ``target`` ONNX leaves undefined."""
    if not isinstance(value, np.ndarray):
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        x = value.astype(np.float64)
    if target in _FIXED_POINT:
        bits, signed = _FIXED_POINT[target]
        low, end = (-(2 ** (bits - 1)), 2 ** (bits - 1)) if signed else (0, 2**bits)
        # the integer part must fit; low and end are exact in float64 for every width up to 64 bits
        whole = np.trunc(np.where(np.isfinite(x), x, 0.0))
        mask: np.ndarray[Any, Any] = ~np.isfinite(x) | (whole < low) | (whole >= end)
        return mask
    if target in _E8M0_TYPES:
        return np.asarray(x < 0)
    return None


def undefined_elements(
    model: onnx.ModelProto, inputs: list[str], data_sets: list[tuple[list[Any], list[Any]]]
) -> list[dict[int, np.ndarray[Any, Any]]]:
    """Per data set, the undefined elements of each graph output (by index) that has any."""
    graph = model.graph
    declared = {v.name: v.type.tensor_type.elem_type for v in graph.input}
    outputs = {o.name: k for k, o in enumerate(graph.output)}
    casts: list[tuple[int, int, int]] = []  # (feed index, output index, target element type)
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in ("Cast", "CastLike"):
            continue
        source, result = node.input[0], node.output[0]
        if source not in inputs or result not in outputs or declared.get(source) not in _FLOAT_TYPES:
            continue
        if node.op_type == "Cast":
            target = next(a.i for a in node.attribute if a.name == "to")
        else:
            target = declared.get(node.input[1], 0)
        if target in _FIXED_POINT or target in _E8M0_TYPES:
            casts.append((inputs.index(source), outputs[result], target))
    sets: list[dict[int, np.ndarray[Any, Any]]] = []
    for ins, _ in data_sets if casts else []:
        masks = {}
        for feed, output, target in casts:
            mask = _undefined_cast(ins[feed], target) if feed < len(ins) else None
            if mask is not None and mask.any():
                masks[output] = mask
        sets.append(masks)
    return sets if any(sets) else []


# --- comparing outputs ---------------------------------------------------------------------------


def _is_ml_dtype(dtype: np.dtype[Any]) -> bool:
    return dtype.type.__module__.startswith("ml_dtypes")


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype}{list(value.shape)}"
    return type(value).__name__


def _first_index(mask: np.ndarray[Any, Any]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0]) if mask.ndim else ()


def _bitwise(a: Any, b: Any, where: str = "", undefined: np.ndarray[Any, Any] | None = None) -> str | None:
    """None when ortbind's value ``a`` is the official binding's ``b`` bit for bit, else the first difference;
    elements marked in ``undefined`` are left out."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.dtype.kind in "UOS" or b.dtype.kind in "UOS":
            if a.shape != b.shape:
                return f"{where}: ortbind {_show(a)}, official {_show(b)}"
            left, right = a.astype(str), b.astype(str)
            if a.dtype.kind not in "UOS" or b.dtype.kind not in "UOS" or not np.array_equal(left, right):
                unequal = left != right
                at = _first_index(unequal) if unequal.any() else ()
                return f"{where}: ortbind {_show(a)}, official {_show(b)}; at {at}: {left[at]!r} vs {right[at]!r}"
            return None
        if _is_ml_dtype(a.dtype) and b.dtype == np.uint8 and a.dtype.itemsize == 1:
            # The official binding hands back the raw bits of float8_e4m3fn as uint8, where ortbind
            # types them: the bits are what must be identical.
            b = b.view(a.dtype)
        if a.dtype != b.dtype or a.shape != b.shape:
            same = a.shape == b.shape and a.tobytes() == b.tobytes()
            return f"{where}: ortbind {_show(a)}, official {_show(b)}" + (" (the same bytes)" if same else "")
        if undefined is not None and undefined.shape == a.shape:
            # ONNX leaves these elements undefined: whatever either binding wrote there is right
            b = b.copy()
            b[undefined] = a[undefined]
        if a.tobytes() == b.tobytes():
            return None
        if a.ndim == 0:
            return f"{where}: {_show(a)} {a!r} vs {b!r} (bits {a.tobytes().hex()} vs {b.tobytes().hex()})"
        width = a.dtype.itemsize
        left = np.frombuffer(a.tobytes(), np.uint8).reshape(-1, width)
        right = np.frombuffer(b.tobytes(), np.uint8).reshape(-1, width)
        flat = int(np.argwhere((left != right).any(axis=1))[0][0])
        at = tuple(int(i) for i in np.unravel_index(flat, a.shape))
        count = int((left != right).any(axis=1).sum())
        bits = f"{a[at].tobytes().hex()} vs {b[at].tobytes().hex()}"
        return f"{where}: {_show(a)}, {count} elements differ; first at {at}: {a[at]!r} vs {b[at]!r} (bits {bits})"
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: ortbind a sequence of {len(a)}, official of {len(b)}"
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            if (difference := _bitwise(x, y, f"{where}[{k}]")) is not None:
                return difference
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{where}: ortbind keys {sorted(a)[:5]}, official keys {sorted(b)[:5]}"
        for k in a:
            if (difference := _bitwise(_as_value(a[k]), _as_value(b[k]), f"{where}[{k!r}]")) is not None:
                return difference
        return None
    if a is None and b is None:
        return None
    if type(a) is type(b) and not isinstance(a, np.ndarray | list | dict) and a == b:
        return None  # a Python scalar in a map
    return f"{where}: ortbind {_show(a)}, official {_show(b)}"


def _as_value(value: Any) -> Any:
    return np.asarray(value) if isinstance(value, np.generic) else value


def _mismatch(
    out: Any, ref: Any, rtol: float, atol: float, where: str = "", undefined: np.ndarray[Any, Any] | None = None
) -> str | None:
    """None when ``out`` matches the expected ``ref`` within the tolerance, else the first disagreement;
    elements marked in ``undefined`` are left out."""
    if ref is None:
        return None if out is None else f"{where}: {_show(out)}, expected None"
    if isinstance(ref, list):
        if not isinstance(out, list) or len(out) != len(ref):
            seen = f"a sequence of {len(out)}" if isinstance(out, list) else _show(out)
            return f"{where}: {seen}, expected a sequence of {len(ref)}"
        for k, (o, r) in enumerate(zip(out, ref, strict=True)):
            if (difference := _mismatch(o, r, rtol, atol, f"{where}[{k}]")) is not None:
                return difference
        return None
    if isinstance(ref, dict):
        if not isinstance(out, dict) or out.keys() != ref.keys():
            return f"{where}: {_show(out)}, expected a map with keys {sorted(ref)[:5]}"
        for k in ref:
            difference = _mismatch(_as_value(out[k]), np.asarray(ref[k]), rtol, atol, f"{where}[{k!r}]")
            if difference is not None:
                return difference
        return None
    ref = np.asarray(ref)
    if not isinstance(out, np.ndarray):
        return f"{where}: {_show(out)}, expected {_show(ref)}"
    # the dtype must match where the expected one is numpy's own (ml_dtypes ones compare as float64)
    numpy_dtype = not _is_ml_dtype(ref.dtype) and ref.dtype.kind not in "UOS"
    if out.shape != ref.shape or (numpy_dtype and out.dtype != ref.dtype):
        return f"{where}: {_show(out)}, expected {_show(ref)}"
    if ref.dtype.kind in "UOS":
        if out.dtype.kind not in "UOS" or out.astype(str).tolist() != ref.astype(str).tolist():
            return f"{where}: {_show(out)} {out.ravel()[:5]!r}, expected {ref.ravel()[:5]!r}"
        return None
    if _is_ml_dtype(ref.dtype) or _is_ml_dtype(out.dtype):
        exact = ref.dtype.name.startswith(("int", "uint"))
        got, want = out.astype(np.float64), ref.astype(np.float64)
    else:
        exact = ref.dtype.kind in "biu"
        got, want = out, ref
    if exact:
        wrong = got != want
    else:
        with np.errstate(all="ignore"):
            close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
            # assert_allclose's rule: infinities must be equal, NaN equals NaN
            close |= (got == want) | (np.isnan(got) & np.isnan(want))
        wrong = ~close
    excluded = ""
    if undefined is not None and undefined.shape == wrong.shape:
        wrong &= ~undefined
        excluded = " (undefined elements excluded)"
    if not wrong.any():
        return None
    at = _first_index(wrong)
    return (
        f"{where}: {_show(out)}, {int(wrong.sum())} elements outside rtol={rtol} atol={atol} of the expected "
        f"{ref.dtype}{excluded}; first at {at}: {out[at]!r} vs {ref[at]!r}"
    )


# --- running a case ------------------------------------------------------------------------------


def _error(who: str, stage: str, error: BaseException) -> str:
    return f"{who} {stage}: {type(error).__name__}: {error}"[:ERROR_CHARS]


def _official() -> Any:
    """onnxruntime, imported lazily (after ortbind, as the original script did)."""
    import onnxruntime

    return onnxruntime


def run_case(case: Case, env: ortbind.Env | None, options: Any) -> Outcome:
    ort = _official()
    outcome = Outcome(f"{case.kind}/{case.name}")
    model = str(case.model) if isinstance(case.model, Path) else case.model
    ours: ortbind.Session | None = None
    theirs: Any = None
    try:
        ours = ortbind.Session(model, intra_op_threads=1, env=env)
    except Exception as error:
        outcome.ortbind = "load error"
        outcome.errors.append(_error("ortbind", "load", error))
    try:
        theirs = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as error:
        outcome.official = "load error"
        outcome.errors.append(_error("official", "load", error))
    got: list[list[Any]] = []
    want: list[list[Any]] = []
    for k, (ins, _) in enumerate(case.data_sets):
        feeds = dict(zip(case.inputs, ins, strict=False))
        if ours is not None:
            try:
                got.append(list(ours.run(feeds).values()))
            except Exception as error:
                ours, outcome.ortbind = None, "run error"
                outcome.errors.append(_error("ortbind", f"run (data set {k})", error))
        if theirs is not None:
            try:
                want.append(theirs.run(None, feeds))
            except Exception as error:
                theirs, outcome.official = None, "run error"
                outcome.errors.append(_error("official", f"run (data set {k})", error))
    ortbind_ran, official_ran = outcome.ortbind == "ok", outcome.official == "ok"
    if ortbind_ran and official_ran:
        outcome.detail = _compare_runs(case, got, want)
        outcome.result = "identical" if not outcome.detail else "different"
        if all(expected for _, expected in case.data_sets):
            ortbind_vs_expected = _compare_expected(case, got)
            outcome.ortbind_matches_expected = ortbind_vs_expected == ""
            outcome.official_matches_expected = _compare_expected(case, want) == ""
            if outcome.result == "identical" and ortbind_vs_expected and not outcome.official_matches_expected:
                outcome.expected_detail = ortbind_vs_expected
    elif ortbind_ran:
        outcome.detail = _compare_expected(case, got)
        outcome.result = "ortbind_only_right" if not outcome.detail else "ortbind_only_wrong"
    elif official_ran:
        outcome.result = "ortbind_refused"
    else:
        outcome.result = "refused_by_both"
    outcome.undefined_elements = sum(int(mask.sum()) for masks in case.undefined for mask in masks.values())
    if outcome.undefined_elements and outcome.result in ("identical", "ortbind_only_right"):
        outcome.compared_with = "official" if outcome.result == "identical" else "expected"
        outcome.result = "undefined_excluded"
    return outcome


def _output_name(case: Case, index: int) -> str:
    return case.outputs[index] if index < len(case.outputs) else f"#{index}"


def _compare_runs(case: Case, got: list[list[Any]], want: list[list[Any]]) -> str:
    for k, (ours, theirs) in enumerate(zip(got, want, strict=True)):
        if len(ours) != len(theirs):
            return f"data set {k}: ortbind returned {len(ours)} outputs, official {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            where = f"data set {k} output {_output_name(case, i)!r}"
            if (difference := _bitwise(a, b, where, _undefined(case, k, i))) is not None:
                return difference
    return ""


def _compare_expected(case: Case, got: list[list[Any]]) -> str:
    if not case.data_sets:
        return "no data sets: nothing to compare with"
    for k, (outputs, (_, expected)) in enumerate(zip(got, case.data_sets, strict=True)):
        if not expected:
            return f"data set {k}: no expected outputs to compare with"
        if len(outputs) != len(expected):
            return f"data set {k}: {len(outputs)} outputs, {len(expected)} expected"
        for i, (out, ref) in enumerate(zip(outputs, expected, strict=True)):
            where = f"data set {k} output {_output_name(case, i)!r}"
            if (difference := _mismatch(out, ref, case.rtol, case.atol, where, _undefined(case, k, i))) is not None:
                return difference
    return ""


def _undefined(case: Case, data_set: int, output: int) -> np.ndarray[Any, Any] | None:
    return case.undefined[data_set].get(output) if case.undefined else None


def run_all(cases: list[Case]) -> list[Outcome]:
    ort = _official()
    ort.set_default_logger_severity(4)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    quiet = ortbind.Env(log_level="fatal", log_id="conformance")
    return [run_case(case, quiet, options) for case in cases]


# --- reporting -----------------------------------------------------------------------------------


def summary(outcomes: list[Outcome], seconds: float | None = None) -> dict[str, Any]:
    counts = Counter(o.result for o in outcomes)
    both = [o for o in outcomes if o.ortbind == o.official == "ok"]
    checked = [o for o in both if o.ortbind_matches_expected is not None]
    return {
        "cases": len(outcomes),
        "by_kind": dict(Counter(o.case.split("/", 1)[0] for o in outcomes)),
        "outcomes": {name: counts.get(name, 0) for name in PASSING + FAILING},
        "failures": [asdict(o) for o in outcomes if o.result in FAILING],
        # informational: among the cases both ran that have expected outputs, who is within tolerance
        "both_ran": len(both),
        "both_ran_with_expected": len(checked),
        "ortbind_expected": sum(bool(o.ortbind_matches_expected) for o in checked),
        "official_expected": sum(bool(o.official_matches_expected) for o in checked),
        "ortbind_beats_official": [
            o.case for o in checked if o.ortbind_matches_expected and not o.official_matches_expected
        ],
        "official_beats_ortbind": [
            o.case for o in checked if o.official_matches_expected and not o.ortbind_matches_expected
        ],
        "ortbind_only_right": [o.case for o in outcomes if o.result == "ortbind_only_right"],
        "undefined_excluded": [
            {"case": o.case, "compared_with": o.compared_with, "undefined_elements": o.undefined_elements}
            for o in outcomes
            if o.result == "undefined_excluded"
        ],
        # both bindings alike, neither within tolerance of the expected outputs: the reason is the first
        # disagreement of ortbind's outputs (the official binding's are the same)
        "expected_disagrees_with_both": [
            {"case": o.case, "reason": o.expected_detail} for o in outcomes if o.expected_detail
        ],
        "seconds": None if seconds is None else round(seconds, 1),
    }


def report(outcomes: list[Outcome], seconds: float | None = None, verbose: bool = False) -> str:
    info = summary(outcomes, seconds)
    kinds = ", ".join(f"{kind} {n}" for kind, n in info["by_kind"].items())
    lines = [f"cases: {info['cases']} ({kinds})" + ("" if seconds is None else f" in {seconds:.0f} s")]
    lines += [f"  {name}: {n}" for name, n in info["outcomes"].items()]
    lines.append(
        f"both ran {info['both_ran']}; within ONNX's tolerance of the expected outputs (of "
        f"{info['both_ran_with_expected']} with some): ortbind {info['ortbind_expected']}, "
        f"official {info['official_expected']}"
    )
    for key in ("ortbind_beats_official", "official_beats_ortbind"):
        if info[key]:
            lines.append(f"{key.replace('_', ' ')}: {', '.join(info[key])}")
    if info["undefined_excluded"]:
        lines.append("identical where defined, undefined elements excluded (compared with; elements excluded):")
        lines += [
            f"  {e['case']} ({e['compared_with']}; {e['undefined_elements']})" for e in info["undefined_excluded"]
        ]
    disagreeing = info["expected_disagrees_with_both"]
    lines.append(f"expected outputs that both bindings disagree with: {len(disagreeing)}")
    lines += [f"  {e['case']}: {e['reason']}" for e in disagreeing]
    failures = [o for o in outcomes if o.result in FAILING]
    lines.append(f"FAILURES: {len(failures)}" if failures else "no failures")
    for o in failures:
        lines.append(f"  {o.result.upper()} {o.case} (ortbind {o.ortbind}, official {o.official})")
        if o.detail:
            lines.append(f"      {o.detail}")
        lines += [f"      {error}" for error in o.errors]
    if verbose:
        for name in ("ortbind_only_right", "refused_by_both"):
            chosen = [o for o in outcomes if o.result == name]
            lines.append(f"{name}: {len(chosen)}")
            lines += [f"  {o.case}: {o.errors[0][:200] if o.errors else ''}" for o in chosen]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    start = time.perf_counter()
    outcomes = run_all(collect())
    seconds = time.perf_counter() - start
    if "--json" in argv:
        print(json.dumps(summary(outcomes, seconds)))
    else:
        print(report(outcomes, seconds, verbose="--verbose" in argv))
    return 1 if any(o.result in FAILING for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
