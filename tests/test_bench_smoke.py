"""The benchmark suite in its smallest mode: every contender produces numbers, and ortbind's outputs
equal the official binding's on every workload."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.targets import TARGETS_TEXT

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_smoke_run_produces_every_number(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--no-progress", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert {"add1", "io1", "squeezenet"} <= set(results["workloads"])
    for name, workload in results["workloads"].items():
        assert workload["outputs_equal"], f"{name}: ortbind's outputs differ from the official binding's"
        measured = set(workload["contenders"])
        assert {"ortbind", "compat", "ort", "floor", "floor_bind", "ortbind_contract", "ort_values"} <= measured, (
            name,
            measured,
        )
        for contender, stats in workload["contenders"].items():
            assert stats["n"] > 0 and stats["median_us"] > 0, (name, contender)
            assert len(stats["samples_ns"]) == stats["n"]
    assert set(results["threads"]["scaling"]) == {"ortbind", "ort"}
    assert set(results["memory"]["contenders"]) == {"ortbind", "ort"}
    assert sorted(t["target"] for t in results["targets"]) == sorted(TARGETS_TEXT.values())
    assert all(t["holds"] is not None for t in results["targets"] if "64 inputs" not in t["target"]), results["targets"]
    report = (tmp_path / "report.md").read_text()
    assert "## Targets" in report and "C++ floor" in report
    assert (tmp_path / "payload.png").exists() and (tmp_path / "io.png").exists()
    assert "Median µs per call" in run.stdout
