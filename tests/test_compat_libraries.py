"""The real-library tier: libraries from PyPI, unmodified, give identical results with the official
binding and after ``ortbind.compat.install()``, and never load the official extension then.

Each library runs its scenario (support/libraries/<name>_scenario.py) twice in its own
environment, each time in a fresh interpreter. The environments (one per library, about 3 GB in
all) are made on first use under ``$ORTBIND_LIBRARY_CACHE`` (else ``~/.cache/ortbind/libraries``)
and kept. This tier runs with ``make test-libraries`` (it sets ``ORTBIND_LIBRARY_TIER=1``); a plain
``make test`` skips it. The timings each scenario reports are printed as a table, never asserted:
``python -m benchmarks.libraries`` measures them properly (interleaved rounds).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.libraries import LIBRARIES, Library
from support.libraries.environment import make_ready
from support.libraries.runner import run_scenario

pytestmark = [
    pytest.mark.libraries,
    pytest.mark.skipif(
        os.environ.get("ORTBIND_LIBRARY_TIER") != "1",
        reason="the real-library tier runs with `make test-libraries` (ORTBIND_LIBRARY_TIER=1)",
    ),
]


@pytest.fixture(scope="module")
def summary(request: pytest.FixtureRequest) -> Iterator[list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    yield rows
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not rows:
        return
    with capture.global_and_fixture_disabled():  # a table for the terminal, not a test's captured output
        reporter.write_line("")
        reporter.write_line("real-library tier: setup and run times (seconds), compat/official time per call")
        for row in rows:
            ratios = ", ".join(f"{call} {ratio:.2f}x" for call, ratio in row["ratios"].items())
            setup = ", ".join(f"{step} {seconds:.0f}" for step, seconds in row["setup"].items()) or "cached"
            reporter.write_line(
                f"  {row['library']:<15} identical={row['identical']}  setup: {setup}  runs {row['runs']:.0f}  {ratios}"
            )


@pytest.mark.timeout(1800)  # a first run makes the library's environment
@pytest.mark.parametrize("library", LIBRARIES, ids=[library.name for library in LIBRARIES])
def test_library_gives_identical_results_with_compat(
    library: Library, tmp_path: Path, summary: list[dict[str, Any]]
) -> None:
    environment = make_ready(library)
    start = time.perf_counter()
    official = run_scenario(environment, "official", tmp_path / "official")
    ours = run_scenario(environment, "compat", tmp_path / "compat")
    runs = time.perf_counter() - start
    summary.append(
        {
            "library": library.name,
            "identical": official["results"] == ours["results"],
            "setup": environment.timings,
            "runs": runs,
            "ratios": {call: ours["timings"][call] / official["timings"][call] for call in official["timings"]},
        }
    )
    # The official run really used the official binding, and the compat run only ortbind: one
    # ONNX Runtime library, the wheel's, and never the official extension.
    assert official["official_extension_loaded"] and official["onnxruntime_module"] == "onnxruntime"
    assert not ours["official_extension_loaded"] and ours["onnxruntime_module"] == "ortbind.compat"
    assert len(ours["runtimes"]) == 1 and Path(ours["runtimes"][0]).parent.name == "capi"
    assert ours["results"] == official["results"]
