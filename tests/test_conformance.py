"""ONNX's own test models through ortbind and the official binding (tests/conformance.py), in a
child process so that no case can take the suite down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_same_outcomes_and_identical_outputs_on_onnx_test_models() -> None:
    script = Path(__file__).parent / "conformance.py"
    run = subprocess.run([sys.executable, str(script), "--json"], capture_output=True, text=True, timeout=900)
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["cases"] >= 140, summary
    assert summary["different"] == [], summary["different"]
    assert summary["same_outcome"] == summary["cases"]
    assert summary["identical"] == summary["both_ran"] >= 100
    assert summary["official_beats_ortbind"] == []
    assert summary["ortbind_expected"] == summary["official_expected"]
    assert run.returncode == 0
