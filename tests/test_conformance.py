"""ONNX's own test cases (model folders and node test cases) through ortbind and the official binding
(tests/conformance.py), in a child process so that no case can take the suite down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import FREE_THREADED

PASSING = ("identical", "ortbind_only_right", "refused_by_both")
FAILING = ("ortbind_refused", "different", "ortbind_only_wrong")


@pytest.mark.skipif(
    FREE_THREADED,
    reason="the counts below are those of the onnx release the regular venv has; free-threaded CPython has "
    "onnx 1.21.0 (the last release with a free-threaded wheel), whose test data holds fewer cases",
)
def test_every_onnx_test_case_is_identical_right_where_official_refuses_or_refused_by_both() -> None:
    script = Path(__file__).parent / "conformance.py"
    run = subprocess.run([sys.executable, str(script), "--json"], capture_output=True, text=True, timeout=1200)
    assert run.stdout.strip(), f"no summary (exit status {run.returncode}):\n{run.stderr[-4000:]}"
    summary = json.loads(run.stdout.strip().splitlines()[-1])
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
