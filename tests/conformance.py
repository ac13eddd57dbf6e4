"""ONNX's own test models (shipped in the onnx wheel) through ortbind and the official binding.

For every case: the same outcome (both load and run, or both refuse), the same outputs bit for bit,
and each binding's outputs against the expected ones with ONNX's backend-test tolerance.
``python tests/conformance.py`` prints the report; tests/test_conformance.py asserts on it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

import ortbind

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
KINDS = ("simple", "pytorch-converted", "pytorch-operator", "light")


@dataclass
class Case:
    kind: str
    name: str
    model: Path
    data_sets: list[tuple[list[Any], list[Any]]]  # (inputs, expected outputs)
    rtol: float = 1e-3
    atol: float = 1e-7


@dataclass
class Outcome:
    case: str
    ortbind: str  # "ok", "load error", "run error"
    official: str
    same_outputs: bool | None = None
    ortbind_matches_expected: bool | None = None
    official_matches_expected: bool | None = None
    detail: str = ""
    errors: list[str] = field(default_factory=list)


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


def collect() -> list[Case]:
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
            cases.append(Case(kind, folder.name, model_path, sets, rtol, atol))
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
        cases.append(Case("light", model_path.stem, model_path, [(ins, outs)]))
    return cases


def _bitwise(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.dtype.kind in "UO" or b.dtype.kind in "UO":
            return a.shape == b.shape and a.astype(str).tolist() == b.astype(str).tolist()
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_bitwise(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_bitwise(np.asarray(a[k]), np.asarray(b[k])) for k in a)
    return a is None and b is None


def _close(out: Any, ref: Any, rtol: float, atol: float) -> bool:
    if isinstance(ref, list):
        return (
            isinstance(out, list)
            and len(out) == len(ref)
            and all(_close(o, r, rtol, atol) for o, r in zip(out, ref, strict=True))
        )
    if ref is None:
        return out is None
    if not isinstance(out, np.ndarray):
        return False
    ref = np.asarray(ref)
    if out.shape != ref.shape:
        return False
    if ref.dtype.kind in "UOS":
        return out.astype(str).tolist() == ref.astype(str).tolist()
    try:
        np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol)
    except AssertionError:
        return False
    return True


def run_case(case: Case, env: ortbind.Env | None = None) -> Outcome:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    outcome = Outcome(f"{case.kind}/{case.name}", "ok", "ok")
    try:
        ours = ortbind.Session(str(case.model), intra_op_threads=1, env=env)
    except ortbind.Error as error:
        ours, outcome.ortbind = None, "load error"
        outcome.errors.append(f"ortbind: {type(error).__name__}: {error}"[:300])
    try:
        theirs = ort.InferenceSession(str(case.model), options, providers=["CPUExecutionProvider"])
    except Exception as error:
        theirs, outcome.official = None, "load error"
        outcome.errors.append(f"official: {error}"[:300])
    if ours is None or theirs is None:
        return outcome
    names = [i.name for i in theirs.get_inputs()]
    same = ours_ok = theirs_ok = True
    for ins, expected in case.data_sets:
        feeds = dict(zip(names, ins, strict=False))
        try:
            got = list(ours.run(feeds).values())
        except ortbind.Error as error:
            outcome.ortbind = "run error"
            outcome.errors.append(f"ortbind: {type(error).__name__}: {error}"[:300])
            got = None
        try:
            want = theirs.run(None, feeds)
        except Exception as error:
            outcome.official = "run error"
            outcome.errors.append(f"official: {error}"[:300])
            want = None
        if got is None or want is None:
            continue
        same = same and len(got) == len(want) and all(_bitwise(a, b) for a, b in zip(got, want, strict=True))
        if expected:
            ours_ok = ours_ok and all(_close(o, r, case.rtol, case.atol) for o, r in zip(got, expected, strict=False))
            theirs_ok = theirs_ok and all(
                _close(o, r, case.rtol, case.atol) for o, r in zip(want, expected, strict=False)
            )
    if outcome.ortbind == "ok" and outcome.official == "ok":
        outcome.same_outputs = same
        outcome.ortbind_matches_expected = ours_ok
        outcome.official_matches_expected = theirs_ok
    return outcome


def report(outcomes: list[Outcome]) -> str:
    total = len(outcomes)
    same_outcome = sum(o.ortbind == o.official for o in outcomes)
    both_ok = [o for o in outcomes if o.ortbind == o.official == "ok"]
    identical = sum(bool(o.same_outputs) for o in both_ok)
    ours = sum(bool(o.ortbind_matches_expected) for o in both_ok)
    theirs = sum(bool(o.official_matches_expected) for o in both_ok)
    refused = [o for o in outcomes if o.ortbind == o.official != "ok"]
    lines = [
        f"cases: {total}",
        f"same outcome as the official binding: {same_outcome}/{total}",
        f"both ran: {len(both_ok)}; outputs identical bit for bit: {identical}/{len(both_ok)}",
        f"outputs within ONNX's tolerance of the expected: ortbind {ours}/{len(both_ok)}, "
        f"official {theirs}/{len(both_ok)}",
        f"refused by both (same outcome): {len(refused)}",
    ]
    for o in outcomes:
        if o.ortbind != o.official or o.same_outputs is False:
            lines.append(f"  DIFFERENT {o.case}: ortbind {o.ortbind}, official {o.official}; {'; '.join(o.errors)}")
    for o in refused:
        lines.append(f"  refused by both {o.case}: {o.errors[0] if o.errors else ''}")
    return "\n".join(lines)


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    both = [o for o in outcomes if o.ortbind == o.official == "ok"]
    return {
        "cases": len(outcomes),
        "same_outcome": sum(o.ortbind == o.official for o in outcomes),
        "both_ran": len(both),
        "identical": sum(bool(o.same_outputs) for o in both),
        "ortbind_expected": sum(bool(o.ortbind_matches_expected) for o in both),
        "official_expected": sum(bool(o.official_matches_expected) for o in both),
        "ortbind_beats_official": [
            o.case for o in both if o.ortbind_matches_expected and not o.official_matches_expected
        ],
        "official_beats_ortbind": [
            o.case for o in both if o.official_matches_expected and not o.ortbind_matches_expected
        ],
        "different": [
            f"{o.case}: {'; '.join(o.errors)}" for o in outcomes if o.ortbind != o.official or o.same_outputs is False
        ],
    }


if __name__ == "__main__":
    quiet = ortbind.Env(log_level="fatal", log_id="conformance")
    results = [run_case(c, quiet) for c in collect()]
    if "--json" in sys.argv:
        print(json.dumps(summary(results)))
    else:
        print(report(results))
    sys.exit(0 if all(o.ortbind == o.official and o.same_outputs is not False for o in results) else 1)
