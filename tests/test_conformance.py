"""ONNX's own test cases (model folders and node test cases) through ortbind and the official binding
(support/conformance.py), in a child process so that no case can take the suite down; and the rule that
finds the output elements ONNX leaves undefined, which the comparison leaves out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from support import conformance
from tests.helpers import FREE_THREADED

PASSING = ("identical", "ortbind_only_right", "undefined_excluded", "refused_by_both")
FAILING = ("ortbind_refused", "different", "ortbind_only_wrong")


@pytest.fixture(scope="module")
def conformance_run() -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    if FREE_THREADED:
        pytest.skip(
            "the counts are those of the onnx release the regular venv has; free-threaded CPython has onnx 1.21.0 "
            "(the last release with a free-threaded wheel), whose test data holds fewer cases"
        )
    script = Path(__file__).parent.parent / "support" / "conformance.py"
    run = subprocess.run([sys.executable, str(script), "--json"], capture_output=True, text=True, timeout=1200)
    assert run.stdout.strip(), f"no summary (exit status {run.returncode}):\n{run.stderr[-4000:]}"
    return run, json.loads(run.stdout.strip().splitlines()[-1])


def test_every_onnx_test_case_is_identical_right_where_official_refuses_or_refused_by_both(
    conformance_run: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    run, summary = conformance_run
    outcomes = summary["outcomes"]
    failures = "\n".join(
        f"{f['result']} {f['case']} (ortbind {f['ortbind']}, official {f['official']}): "
        + "; ".join(([f["detail"]] if f["detail"] else []) + f["errors"])
        for f in summary["failures"]
    )
    assert summary["failures"] == [], f"{len(summary['failures'])} failing cases:\n{failures}"
    assert summary["cases"] >= 1800, summary["by_kind"]
    assert summary["by_kind"].get("node", 0) >= 1800, summary["by_kind"]
    assert set(outcomes) == set(PASSING + FAILING), outcomes
    assert sum(outcomes.values()) == summary["cases"], outcomes
    assert all(outcomes[name] == 0 for name in FAILING), outcomes
    assert outcomes["identical"] >= 1650, outcomes
    assert run.returncode == 0, run.stderr[-4000:]


def test_cases_with_undefined_elements_are_float_casts_to_fixed_point_and_disagreements_carry_their_reason(
    conformance_run: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    _, summary = conformance_run
    excluded = summary["undefined_excluded"]
    assert len(excluded) == summary["outcomes"]["undefined_excluded"], excluded
    # ONNX's Cast and CastLike cases from FLOAT and FLOAT16 to the 4- and 2-bit integers feed values
    # out of range; every such case is one of them, and leaves out some elements but not all.
    assert len(excluded) >= 24, excluded
    for entry in excluded:
        assert entry["case"].startswith(("node/test_cast_", "node/test_castlike_")), entry
        assert entry["compared_with"] in ("official", "expected"), entry
        assert entry["undefined_elements"] > 0, entry
    for entry in summary["expected_disagrees_with_both"]:
        assert entry["reason"].startswith("data set "), entry


def _cast_model(source: int, target: int, like: bool = False) -> onnx.ModelProto:
    inputs = [helper.make_tensor_value_info("x", source, [None])]
    if like:
        inputs.append(helper.make_tensor_value_info("like", target, [0]))
        node = helper.make_node("CastLike", ["x", "like"], ["y"])
    else:
        node = helper.make_node("Cast", ["x"], ["y"], to=target)
    graph = helper.make_graph([node], "cast", inputs, [helper.make_tensor_value_info("y", target, [None])])
    return helper.make_model(graph)


X = np.array([-9.0, 15.0, 7.9, -0.5, np.nan, np.inf, -np.inf, 3.0, -8.9], np.float32)


@pytest.mark.parametrize(
    ("target", "undefined"),
    [
        # the integer part must fit: -0.5 is 0, -8.9 is -8
        (TensorProto.UINT4, [1, 0, 0, 0, 1, 1, 1, 0, 1]),
        (TensorProto.INT4, [1, 1, 0, 0, 1, 1, 1, 0, 0]),
        (TensorProto.INT2, [1, 1, 1, 0, 1, 1, 1, 1, 1]),
        (TensorProto.UINT2, [1, 1, 1, 0, 1, 1, 1, 0, 1]),
        (TensorProto.UINT8, [1, 0, 0, 0, 1, 1, 1, 0, 1]),
        (TensorProto.INT64, [0, 0, 0, 0, 1, 1, 1, 0, 0]),
        (TensorProto.FLOAT8E8M0, [1, 0, 0, 1, 0, 0, 1, 0, 1]),
    ],
)
@pytest.mark.parametrize("like", [False, True])
def test_undefined_elements_of_a_float_cast_are_those_out_of_the_target_range(
    target: int, undefined: list[int], like: bool
) -> None:
    model = _cast_model(TensorProto.FLOAT, target, like)
    inputs = ["x", "like"] if like else ["x"]
    (masks,) = conformance.undefined_elements(model, inputs, [([X], [])])
    np.testing.assert_array_equal(masks[0], np.array(undefined, bool))


def test_int64_range_ends_are_exact() -> None:
    x = np.array([2.0**63, -(2.0**63), np.nextafter(2.0**63, 0)], np.float64)
    model = _cast_model(TensorProto.DOUBLE, TensorProto.INT64)
    (masks,) = conformance.undefined_elements(model, ["x"], [([x], [])])
    np.testing.assert_array_equal(masks[0], [True, False, False])


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (TensorProto.FLOAT, TensorProto.FLOAT16),  # +/- infinity when out of range: defined
        (TensorProto.FLOAT, TensorProto.BOOL),
        (TensorProto.FLOAT, TensorProto.FLOAT8E4M3FN),  # saturate or NaN, by the spec's table
        (TensorProto.INT32, TensorProto.INT8),  # fixed to fixed wraps
    ],
)
def test_casts_the_spec_defines_leave_nothing_out(source: int, target: int) -> None:
    x = np.array([1e6, -1e6, 0.5], helper.tensor_dtype_to_np_dtype(source)) if source != TensorProto.FLOAT else X
    assert conformance.undefined_elements(_cast_model(source, target), ["x"], [([x], [])]) == []
