"""Fuzzing model bytes: mutated valid models (bit flips, truncations, splices) are loaded and, when
they load, run with feeds made from their signature (tests/children/fuzz_models.py). It runs in a
child process so that a crash is a failure, not the end of the suite. ``make fuzz`` runs it long
(ORTBIND_FUZZ_EXAMPLES)."""

from __future__ import annotations

import json
import os

from tests.helpers import run_child


def test_fuzz_model_bytes_gives_results_or_ortbind_errors() -> None:
    examples = int(os.environ.get("ORTBIND_FUZZ_EXAMPLES", "300"))
    result = run_child("fuzz_models", "1234", str(examples), timeout=3600)
    # A crash, or any exception that is not an ortbind.Error, ends the child with a failure.
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(result.stdout)
    # The mutations reach every path: refused models, models that load and run, and runs refused.
    assert counts["refused"] > 0 and counts["ran"] > 0 and counts["run_refused"] > 0, counts
    assert counts["loaded"] == counts["ran"] + counts["run_refused"], counts
