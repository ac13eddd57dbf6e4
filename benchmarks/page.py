"""The benchmark page of the docs, and the README's table, written from one run's results.json.

``make bench`` ends a complete full run by publishing it: ``docs/assets/bench/results.json`` (the
run's results less the time of every single call), the charts beside it, ``docs/benchmarks.md``
(``page_template.md`` with the tables filled in) and the table between the README's markers. Every
number on the page comes from that results.json, so the page can be written again from it at any
time (``python -m benchmarks.page``, after a change to the template or to the report writer), and
the tests check that the committed page is what this module writes.

    python -m benchmarks.page [--results benchmarks/results/results.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import string
from pathlib import Path
from typing import Any

from ortbind._bench import report

from . import threads

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "page_template.md"
DOCS = ROOT / "docs"
PAGE = DOCS / "benchmarks.md"
ASSETS = DOCS / "assets" / "bench"
README = ROOT / "README.md"
# The README's table: the per-call cost, many inputs and outputs, a payload, small models, a big one.
README_WORKLOADS = ("add1", "io64", "identity_4MiB", "mlp_b1", "sklearn_forest_b1", "encoder_b1_s16", "resnet50")
README_MARKERS = ("<!-- benchmark-table: written by `make bench` (benchmarks/page.py) -->", "<!-- /benchmark-table -->")


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """What the docs keep of a run: everything but each call's time (megabytes that the medians,
    p99s and ratios already sum up), and the run's date without its time of day."""
    kept = copy.deepcopy(results)
    for workload in kept["workloads"].values():
        for stats in workload["contenders"].values():
            stats.pop("samples_ns", None)
    kept["machine"]["date"] = str(kept["machine"]["date"]).split(" ")[0]
    return kept


def _section(results: dict[str, Any], key: str, render: Any) -> str:
    value = results.get(key)
    return render(value) if value else "Not measured in this run."


def render_page(results: dict[str, Any], images: str, charts: dict[str, str]) -> str:
    """The page: the template with this run's tables, and its charts (``images`` is their folder,
    relative to the page)."""

    def chart(name: str) -> str:
        return f"![{charts[name]}]({images}{name})" if name in charts else "No chart: not measured in this run."

    machine = results["machine"]
    fields = {
        "date": machine["date"].split(" ")[0],
        "mode": results["mode"],
        "machine": "\n".join(report.machine_lines(machine)),
        "targets": report.targets_table(results["targets"]),
        "speedup_chart": chart("speedup.png"),
        "readme_table": report.speedup_table(results, README_WORKLOADS),
        "medians": report.medians_table(results),
        "payload_chart": chart("payload.png"),
        "io_chart": chart("io.png"),
        "details": report.details_table(results),
        "threads": _section(results, "threads", report.threads_section),
        "free_threading": _section(results, "free_threading", lambda result: threads.section(result["runs"])),
        "memory": _section(results, "memory", report.memory_section),
        "dask": _section(results, "dask", report.dask_section),
        "batching": _section(results, "batching", report.batching_section),
        "serving": _section(results, "serving", report.serving_section),
        "shared_weights": _section(results, "shared_weights", report.shared_weights_section),
        "contenders": report.contenders_line(results["contenders"], report.measured_contenders(results)),
    }
    return string.Template(TEMPLATE.read_text()).substitute(fields)


def readme_block(results: dict[str, Any]) -> str:
    """The README's table between its markers, markers included."""
    date = results["machine"]["date"].split(" ")[0]
    table = report.speedup_table(results, README_WORKLOADS)
    note = (
        f"Measured by `make bench` ({results['mode']} run of {date}; {results['machine']['cpu']}, "
        f"{results['machine']['cores']} cores, one intra-op thread). "
        "Every workload, target and chart: [the benchmark page](docs/benchmarks.md)."
    )
    return f"{README_MARKERS[0]}\n{table}\n\n{note}\n{README_MARKERS[1]}"


def with_readme_block(text: str, results: dict[str, Any]) -> str:
    """``text`` (the README) with the block between the markers written from ``results``."""
    start, end = (re.escape(m) for m in README_MARKERS)
    pattern = re.compile(f"{start}.*?{end}", flags=re.S)
    if not pattern.search(text):
        raise SystemExit(f"benchmarks: README.md has no {README_MARKERS[0]} ... {README_MARKERS[1]} block")
    return pattern.sub(lambda _: readme_block(results), text)


def publish(results: dict[str, Any]) -> None:
    """Writes the run into the docs: its summary, the charts, the page and the README's table."""
    kept = summary(results)
    ASSETS.mkdir(parents=True, exist_ok=True)
    (ASSETS / "results.json").write_text(json.dumps(kept, indent=1) + "\n")
    write_page(kept)


def write_page(results: dict[str, Any]) -> None:
    charts = report.suite_charts(results, ASSETS)
    PAGE.write_text(render_page(results, "assets/bench/", charts))
    README.write_text(with_readme_block(README.read_text(), results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--results",
        type=Path,
        help="publish this run's results.json (default: write the page again from the published one)",
    )
    args = parser.parse_args(argv)
    if args.results is not None:
        publish(json.loads(args.results.read_text()))
    else:
        write_page(json.loads((ASSETS / "results.json").read_text()))
    print(f"wrote {PAGE.relative_to(ROOT)}, its charts in {ASSETS.relative_to(ROOT)} and README.md's table")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
