"""The report: every sample as JSON, a Markdown summary with the targets, PNG plots, a terminal table."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from tabulate import tabulate

TARGETS_TEXT = {
    "add1_vs_floor": "one-element Add: ortbind run within 1.2x of the C++ Run floor",
    "add1_vs_ort": "one-element Add: ortbind run at least 2.2x faster than InferenceSession.run",
    "add1_out_vs_floor": "one-element Add: ortbind run(out=) within 1.05x of the C++ Run floor",
    "add1_contract": "one-element Add: a tightened contract costs at most 0.2 µs (contract row minus no-contract row)",
    "io64_vs_floor": "64 inputs and outputs: ortbind run within 1.2x of the C++ Run floor",
    "io64_bound_vs_floor_bind": "64 inputs and outputs: the bound path within 1.1x of the C++ RunWithBinding floor"
    " doing the same work (ortbind bound / C++ bound-once floor; beside it ortbind bind / C++ bound floor, inputs"
    " rebound per call)",
    "fastest_vs_ort": "every workload: ortbind's fastest path at most 0.9x the official binding's fastest",
    "run_vs_ort": "every workload: ortbind run faster than InferenceSession.run",
    "memory": "large payloads: peak memory within 5% of inputs plus outputs (no copy)",
    "architectures": "compute-bound architectures: ortbind run within 2% of InferenceSession.run",
    "threads": "two threads on one session: throughput at least 1.9x one thread",
    "compat_vs_ortbind": "one-element Add: ortbind.compat InferenceSession.run within 1.15x of ortbind run",
    "compat_vs_ort": "one-element Add: ortbind.compat InferenceSession.run at least 2x faster than"
    " InferenceSession.run",
}


def _median(results: dict[str, Any], workload: str, contender: str) -> float | None:
    entry = results["workloads"].get(workload, {}).get("contenders", {}).get(contender)
    return None if entry is None else float(entry["median_us"])


def _ratio(results: dict[str, Any], workload: str, contender: str, reference: str) -> float | None:
    entry = results["workloads"].get(workload, {}).get("contenders", {}).get(contender)
    return None if entry is None or f"ratio_to_{reference}" not in entry else float(entry[f"ratio_to_{reference}"])


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def ratio_row(key: str, value: float | None, limit: float, higher_is_better: bool = False) -> None:
        if value is None:
            rows.append({"target": TARGETS_TEXT[key], "measured": "not measured", "holds": None})
            return
        holds = value >= limit if higher_is_better else value <= limit
        rows.append({"target": TARGETS_TEXT[key], "measured": f"{value:.2f}x", "holds": holds})

    to_ort = _ratio(results, "add1", "ortbind", "ort")
    ratio_row("add1_vs_floor", _ratio(results, "add1", "ortbind", "floor"), 1.2)
    ratio_row("add1_vs_ort", None if not to_ort else 1.0 / to_ort, 2.2, True)
    ratio_row("add1_out_vs_floor", _ratio(results, "add1", "ortbind_out", "floor"), 1.05)
    ratio_row("compat_vs_ortbind", _ratio(results, "add1", "compat", "ortbind"), 1.15)
    compat_to_ort = _ratio(results, "add1", "compat", "ort")
    ratio_row("compat_vs_ort", None if not compat_to_ort else 1.0 / compat_to_ort, 2.0, True)
    ratio_row("io64_vs_floor", _ratio(results, "io64", "ortbind", "floor"), 1.2)
    once = _ratio(results, "io64", "ortbind_bound", "floor_bound")
    per_call = _ratio(results, "io64", "ortbind_bind", "floor_bind")
    rows.append(
        {
            "target": TARGETS_TEXT["io64_bound_vs_floor_bind"],
            "measured": "not measured"
            if once is None
            else f"{once:.2f}x" + ("" if per_call is None else f" (rebound per call: {per_call:.2f}x)"),
            "holds": None if once is None else once <= 1.1,
        }
    )
    contract_row = results["workloads"].get("add1", {}).get("contenders", {}).get("ortbind_contract", {})
    extra = contract_row.get("minus_unchecked_us")
    rows.append(
        {
            "target": TARGETS_TEXT["add1_contract"],
            "measured": "not measured" if extra is None else f"{extra:.2f} µs",
            "holds": None if extra is None else extra <= 0.2,
        }
    )
    fastest = {n: w["fastest"]["ortbind_over_ort"] for n, w in results["workloads"].items() if w.get("fastest")}
    if fastest:
        worst = max(fastest, key=lambda n: fastest[n])
        rows.append(
            {
                "target": TARGETS_TEXT["fastest_vs_ort"],
                "measured": f"worst {worst} {fastest[worst]:.2f}x; "
                + ", ".join(f"{n} {r:.2f}x" for n, r in fastest.items()),
                "holds": fastest[worst] <= 0.9,
            }
        )
    else:
        rows.append({"target": TARGETS_TEXT["fastest_vs_ort"], "measured": "not measured", "holds": None})
    run_ratios = {n: r for n in results["workloads"] if (r := _ratio(results, n, "ortbind", "ort")) is not None}
    if run_ratios:
        slowest = max(run_ratios, key=lambda n: run_ratios[n])
        rows.append(
            {
                "target": TARGETS_TEXT["run_vs_ort"],
                "measured": f"slowest {slowest} {run_ratios[slowest]:.3f}x of InferenceSession.run",
                "holds": run_ratios[slowest] < 1.0,
            }
        )
    else:
        rows.append({"target": TARGETS_TEXT["run_vs_ort"], "measured": "not measured", "holds": None})

    memory = results.get("memory", {}).get("contenders", {}).get("ortbind")
    if memory:
        worst = max(memory[c]["ratio"] for c in memory)
        rows.append(
            {
                "target": TARGETS_TEXT["memory"],
                "measured": f"peak growth {worst:.3f}x the payload",
                "holds": worst <= 1.05,
            }
        )
    else:
        rows.append({"target": TARGETS_TEXT["memory"], "measured": "not measured", "holds": None})

    arch = [n for n, w in results["workloads"].items() if w["group"] == "architecture"]
    ratios = [(n, r) for n in arch if (r := _ratio(results, n, "ortbind", "ort")) is not None]
    if ratios:
        worst = max(r for _, r in ratios)
        # The floor runs the same library file as ortbind; the official binding links its own build
        # of the runtime. ortbind against its floor separates binding cost from build differences.
        text = ", ".join(
            f"{n} {r:.3f}x (ortbind / C++ floor {_ratio(results, n, 'ortbind', 'floor') or float('nan'):.3f}x)"
            for n, r in ratios
        )
        rows.append({"target": TARGETS_TEXT["architectures"], "measured": text, "holds": worst <= 1.02})
    else:
        rows.append({"target": TARGETS_TEXT["architectures"], "measured": "not measured", "holds": None})

    for key in ("batching", "shared_weights"):
        rows += [dict(t) for t in results.get(key, {}).get("targets", [])]
    threads = results.get("threads", {}).get("scaling", {}).get("ortbind")
    rows.append(
        {
            "target": TARGETS_TEXT["threads"],
            "measured": "not measured" if threads is None else f"{threads:.2f}x",
            "holds": None if threads is None else threads >= 1.9,
        }
    )
    return rows


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    names = [n for n in results["contenders"] if any(n in w["contenders"] for w in results["workloads"].values())]
    header = ["workload", "same outputs"] + [results["contenders"][n][0] for n in names]
    rows = []
    for workload, entry in results["workloads"].items():
        cells = [workload, "yes" if entry["outputs_equal"] else "NO"]
        for n in names:
            stats = entry["contenders"].get(n)
            cells.append("-" if stats is None else _fmt(stats["median_us"]))
        rows.append(cells)
    return header, rows


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    return str(tabulate(rows, headers=header, tablefmt="pipe", disable_numparse=True))


def _terminal_table(header: list[str], rows: list[list[str]]) -> str:
    align = ["left"] + ["right"] * (len(header) - 1)
    return str(tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True, colalign=align))


def _detail_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for workload, entry in results["workloads"].items():
        for name, stats in entry["contenders"].items():
            floor, bound, once, ort = (
                stats.get(f"ratio_to_{r}") for r in ("floor", "floor_bind", "floor_bound", "ort")
            )
            rows.append(
                [
                    workload,
                    results["contenders"][name][0],
                    _fmt(stats["median_us"]),
                    _fmt(stats["p99_us"]),
                    f"{stats['calls_per_s']:,.0f}",
                    "-" if floor is None else f"{floor:.2f}",
                    "-" if bound is None else f"{bound:.2f}",
                    "-" if once is None else f"{once:.2f}",
                    "-" if ort is None else f"{ort:.2f}",
                    str(stats["n"]),
                ]
            )
    return rows


def _line_plot(
    results: dict[str, Any], group: str, x_key: str, per_x: bool, path: Path, labels: tuple[str, str, str], log_y: bool
) -> bool:
    """One line per contender over the workloads of ``group``, against their ``x_key``; median
    latency, divided by x when ``per_x``."""
    import matplotlib.pyplot as plt

    order = sorted((w for w in results["workloads"].values() if w["group"] == group), key=lambda w: w[x_key])
    if not order:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, (label, _) in results["contenders"].items():
        points = [
            (w[x_key], w["contenders"][name]["median_us"] / (w[x_key] if per_x else 1))
            for w in order
            if name in w["contenders"]
        ]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=label)
    ax.set_xscale("log", base=2)
    if log_y:
        ax.set_yscale("log")
    xlabel, ylabel, title = labels
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot(results: dict[str, Any], out: Path) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        return []
    made = []
    payload_labels = ("payload (bytes in, bytes out)", "median latency (µs)", "Identity over float32 payloads")
    if _line_plot(results, "payload", "payload_bytes", False, out / "payload.png", payload_labels, True):
        made.append("payload.png")
    io_labels = ("inputs (= outputs) per call", "median latency per input/output pair (µs)", "Cost per pair")
    if _line_plot(results, "io", "io_count", True, out / "io.png", io_labels, False):
        made.append("io.png")
    return made


def write_report(results: dict[str, Any], out: Path, plots: bool = True) -> str:
    results["targets"] = evaluate_targets(results)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    header, rows = _table(results)
    machine = results["machine"]
    lines = [
        "# ortbind benchmark report",
        "",
        f"Mode: {results['mode']}. {machine['date']}.",
        "",
        "## Machine and versions",
        "",
        *[f"- {k}: {v}" for k, v in machine.items() if k != "date"],
        "",
        "The C++ floor dlopens the same libonnxruntime.so file as ortbind. The official binding",
        "(onnxruntime.InferenceSession) links its own copy of the same ONNX Runtime release.",
        "",
        "## Method",
        "",
        "Every contender runs in this one process and thread (the C++ floors as a library loaded with ctypes);",
        "after a warm-up, contenders take turns running blocks of calls (A B C, B C A, ...), each call timed",
        "alone (perf_counter_ns; steady_clock in the floor), the cyclic GC paused during a block.",
        "Medians and p99 are over all calls of all rounds. This machine's speed shifts from moment to moment",
        "(every contender, the floor included, slows down together), so ratios are taken round by round",
        "(block median over the reference's block median in the same round) and their median is reported.",
        "",
        "## Targets",
        "",
        _markdown_table(
            ["target", "measured", "holds"],
            [
                [t["target"], t["measured"], {True: "yes", False: "**no**", None: "-"}[t["holds"]]]
                for t in results["targets"]
            ],
        ),
        "",
        "## Median latency (µs per call)",
        "",
        _markdown_table(header, rows),
        "",
        "## Every contender: median, p99, calls/s, ratio to the C++ floors and to InferenceSession.run",
        "",
        _markdown_table(
            [
                "workload",
                "contender",
                "median µs",
                "p99 µs",
                "calls/s",
                "/ floor",
                "/ bound floor",
                "/ bound-once floor",
                "/ ort run",
                "calls",
            ],
            _detail_rows(results),
        ),
        "",
        "Contenders: " + "; ".join(f"**{label}**: {text}" for label, text in results["contenders"].values()) + ".",
    ]
    threads = results.get("threads")
    if threads:
        lines += ["", "## Two Python threads on one session", "", f"Model: {threads['model']}.", ""]
        lines.append(
            _markdown_table(
                ["contender", "ms per call", "calls/s, 1 thread", "calls/s, 2 threads", "scaling"],
                [
                    [
                        n,
                        f"{threads['per_call_ms'][n]:.2f}",
                        f"{c['1']:,.0f}",
                        f"{c['2']:,.0f}",
                        f"{threads['scaling'][n]:.2f}x",
                    ]
                    for n, c in threads["calls_per_s"].items()
                ],
            )
        )
    memory = results.get("memory")
    if memory:
        lines += ["", f"## Peak memory for a {memory['mib']} MiB payload (fresh process each)", ""]
        lines.append(
            _markdown_table(
                ["contender", "case", "peak RSS growth (MiB)", "payload (MiB)", "growth / payload"],
                [
                    [n, case, f"{d['growth'] / 2**20:.1f}", f"{d['payload'] / 2**20:.1f}", f"{d['ratio']:.3f}"]
                    for n, cases in memory["contenders"].items()
                    for case, d in cases.items()
                ],
            )
        )
    dask = results.get("dask")
    if dask:
        lines += [
            "",
            f"## Batch scoring {dask['rows']:,} rows: one process against a two-worker Dask cluster",
            "",
            f"Model: {dask['model']}; chunks of {dask['chunk']:,} rows.",
            "",
        ]
        lines.append(
            _markdown_table(
                ["one process (rows/s)", "LocalCluster, 2 workers (rows/s)", "speedup", "same results"],
                [
                    [
                        f"{dask['single_process_rows_per_s']:,.0f}",
                        f"{dask['cluster_rows_per_s']:,.0f}",
                        f"{dask['speedup']:.2f}x",
                        "yes" if dask["same_results"] else "NO",
                    ]
                ],
            )
        )
    # The batching and serving benchmarks write their own sections (benchmarks/batching.py, serving.py).
    for key, module in (("batching", "batching"), ("serving", "serving"), ("shared_weights", "shared_weights")):
        if results.get(key):
            section = importlib.import_module(f"benchmarks.{module}").markdown(results[key])
            lines += ["", section.rstrip("\n")]
    if plots:
        images = plot(results, out)
        if images:
            lines += ["", "## Plots", ""] + [f"![{i}]({i})" for i in images]
    (out / "report.md").write_text("\n".join(lines) + "\n")

    summary = _terminal_table(header, rows)
    verdicts = "\n".join(
        f"  [{ {True: 'holds', False: 'MISSED', None: '  -  '}[t['holds']] }] {t['target']}: {t['measured']}"
        for t in results["targets"]
    )
    extra = ""
    if dask:
        extra = (
            f"\n\nDask: {dask['rows']:,} rows, one process {dask['single_process_rows_per_s']:,.0f} rows/s, "
            f"two workers {dask['cluster_rows_per_s']:,.0f} rows/s ({dask['speedup']:.2f}x)"
        )
    return f"Median µs per call\n{summary}\n\nTargets\n{verdicts}{extra}"
