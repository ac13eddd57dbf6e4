"""Real libraries end to end, with the official binding and with ortbind.compat.

For each library of the real-library tier (support/libraries), its scenario runs in rounds:
each round runs it once with the official binding and once after ``ortbind.compat.install()``,
each in a fresh interpreter, the order alternating from round to round. Every timed call of the
scenario (a block of calls, median over blocks; see support/libraries/scenario.py) gives a
ratio compat / official per round; the report gives the median ratio over rounds, beside each side's
median time, and whether every round's results were identical. Calls that make sessions (onnxscript's
eager operators, onnxsim's folding, polygraphy's comparator) measure session creation; the others
measure runs.

Usage: python -m benchmarks.libraries [--libraries magika,piper] [--rounds 5] [--repeat 5]
Writes benchmarks/results/libraries.json and libraries.md, and prints the table. The environments
are made on first use, as in ``make test-libraries``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tabulate import tabulate

from support.libraries import BY_NAME, LIBRARIES, Library
from support.libraries.environment import make_ready
from support.libraries.runner import MODES, run_scenario

RESULTS = Path(__file__).resolve().parent / "results"


def measure(library: Library, rounds: int, repeat: int) -> dict[str, Any]:
    environment = make_ready(library)
    times: dict[str, dict[str, list[float]]] = {mode: {} for mode in MODES}
    identical = True
    with tempfile.TemporaryDirectory() as folder:
        for number in range(rounds):
            order = MODES if number % 2 == 0 else MODES[::-1]
            reports = {
                mode: run_scenario(environment, mode, Path(folder) / f"{mode}{number}", repeat) for mode in order
            }
            identical &= reports["official"]["results"] == reports["compat"]["results"]
            for mode, report in reports.items():
                for call, seconds in report["timings"].items():
                    times[mode].setdefault(call, []).append(seconds)
    calls = {}
    for call, official in times["official"].items():
        ours = times["compat"][call]
        calls[call] = {
            "official_ms": statistics.median(official) * 1e3,
            "compat_ms": statistics.median(ours) * 1e3,
            "ratio": statistics.median(o / t for o, t in zip(ours, official, strict=True)),
            "ratios": [o / t for o, t in zip(ours, official, strict=True)],
        }
    return {
        "library": library.name,
        "author": library.author,
        "uses": library.uses,
        "identical": identical,
        "calls": calls,
    }


def table(results: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    header = ["library", "call", "identical", "official ms", "compat ms", "compat / official"]
    rows = [
        [
            r["library"],
            call,
            "yes" if r["identical"] else "NO",
            f"{c['official_ms']:.3f}",
            f"{c['compat_ms']:.3f}",
            f"{c['ratio']:.2f}x",
        ]
        for r in results
        for call, c in r["calls"].items()
    ]
    return header, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--libraries", default=",".join(BY_NAME), help="comma-separated names")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5, help="timed blocks of each call per run")
    args = parser.parse_args(argv)
    chosen = [BY_NAME[name] for name in args.libraries.split(",") if name] or list(LIBRARIES)
    results = []
    for library in chosen:
        results.append(measure(library, args.rounds, args.repeat))
        print(f"{library.name}: done", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "libraries.json").write_text(json.dumps({"rounds": args.rounds, "libraries": results}, indent=2) + "\n")
    header, rows = table(results)
    print(tabulate(rows, header))
    lines = [
        "## Real libraries, end to end: the official binding and ortbind.compat",
        "",
        f"Each library's scenario, {args.rounds} rounds, each round once with each binding in a fresh interpreter"
        " (the order alternating); times are medians over rounds, ratios the median of per-round ratios.",
        "",
        tabulate(rows, header, tablefmt="github"),
        "",
    ]
    (RESULTS / "libraries.md").write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
