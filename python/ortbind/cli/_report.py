"""``ortbind bench``'s tables, its report.md and results.json, and its plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._bench.profile import Profile, Row

REFERENCES = (
    ("ort", "/ ort run"),
    ("floor", "/ C++ floor"),
    ("floor_bind", "/ bound floor"),
    ("floor_bound", "/ bound-once floor"),
)


def _us(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def result_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The main table: one row per contender measured."""
    stats = results["stats"]
    present = [(key, title) for key, title in REFERENCES if key in stats]
    header = ["contender", "median µs", "p99 µs", "calls/s"] + [title for _, title in present] + ["calls"]
    rows = []
    for name, entry in stats.items():
        cells = [results["contenders"][name][0], _us(entry["median_us"]), _us(entry["p99_us"])]
        cells.append(f"{entry['calls_per_s']:,.0f}")
        for key, _ in present:
            ratio = entry.get(f"ratio_to_{key}")
            cells.append("-" if ratio is None else f"{ratio:.2f}x")
        cells.append(str(entry["n"]))
        rows.append(cells)
    return header, rows


def _profile_rows(rows: list[Row], per_node: bool) -> tuple[list[str], list[list[str]]]:
    header = (["node", "op type", "provider"] if per_node else ["op type"]) + ["calls", "total µs", "mean µs", "share"]
    cells = []
    for row in rows:
        first = [row.name, row.op_type, row.provider] if per_node else [row.op_type]
        cells.append([*first, str(row.calls), _us(row.total_us), _us(row.mean_us), f"{100 * row.share:.1f}%"])
    return header, cells


def profile_tables(profile: Profile, *, limit: int, markdown: bool) -> str:
    from tabulate import tabulate

    fmt = "pipe" if markdown else "simple"
    covered = f"{100 * profile.kernel_us / profile.run_us:.0f}%" if profile.run_us else "-"
    intro = (
        f"ONNX Runtime's profiler over {profile.runs} runs (after one warm-up run): kernels took {covered} of the "
        f"time ONNX Runtime measured for the runs ({_us(profile.run_us / max(profile.runs, 1))} µs per profiled run; "
        "the profiler slows each run down, so read the shares rather than the times)."
    )
    parts = [intro, ""]
    for per_node, title in ((False, "per operator type"), (True, "per node")):
        table = profile.by_node if per_node else profile.by_op
        header, cells = _profile_rows(table[:limit], per_node)
        more = f" (the {limit} that take the most time of {len(table)})" if len(table) > limit else ""
        parts += [f"{'### ' if markdown else ''}Time {title}{more}", ""]
        align = ["left"] * (3 if per_node else 1) + ["right"] * 4
        parts += [str(tabulate(cells, headers=header, tablefmt=fmt, disable_numparse=True, colalign=align)), ""]
    return "\n".join(parts).rstrip()


def _plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["stats"])
    samples = [[v / 1000.0 for v in results["stats"][n]["samples_ns"]] for n in names]
    labels = [results["contenders"][n][0] for n in names]
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(names) + 1.6))
    ax.boxplot(samples, orientation="horizontal", whis=(1, 99), showfliers=False, tick_labels=labels)
    for i, entry in enumerate(results["stats"].values(), start=1):
        # Above the box (the axis is inverted below: the first contender on top).
        ax.text(
            entry["median_us"], i - 0.3, f"median {_us(entry['median_us'])} µs", ha="center", va="bottom", fontsize=8
        )
    low = min(min(s) for s in samples)
    high = max(max(s) for s in samples)
    if high > 20 * low:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.invert_yaxis()
    ax.set_xlabel("µs per call (box: quartiles, whiskers: 1st and 99th percentiles)")
    model = Path(results["model"])
    ax.set_title(f"{model.parent.name}/{model.name}: latency per call")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(results: dict[str, Any], out: Path, profile: Profile | None) -> None:
    from tabulate import tabulate

    (out / "results.json").write_text(json.dumps(results, indent=1))
    _plot(results, out / "latency.png")
    machine, plan = results["machine"], results["plan"]
    header, rows = result_rows(results)
    feeds = ", ".join(
        f"`{name}` {entry['type']}" + (f" (from {entry['from']})" if entry["from"] != "random" else "")
        for name, entry in results["feeds"].items()
    )
    random = any(entry["from"] == "random" for entry in results["feeds"].values())
    same = "yes, bit for bit" if results["same_outputs"] else "**no**"
    lines = [
        f"# ortbind bench: {Path(results['model']).parent.name}/{Path(results['model']).name}",
        "",
        f"{machine['date']}. Model `{results['model']}`; feeds {feeds}"
        + (f" (random values, seed {results['seed']})" if random else "")
        + ".",
        "",
        f"Same outputs as the official binding on these feeds: {same}.",
    ]
    for output, found in results["differences"].items():
        lines += [f"- `{output}`: {'; '.join(found)}"]
    for family, error in results["binding_errors"].items():
        lines += [f"- {family} failed: {error}"]
    lines += [
        "",
        "## Results (µs per call)",
        "",
        str(
            tabulate(
                rows,
                headers=header,
                tablefmt="pipe",
                disable_numparse=True,
                colalign=["left"] + ["right"] * (len(header) - 1),
            )
        ),
        "",
    ]
    fastest = results["fastest"]["ortbind_over_ort"]
    if fastest is not None:
        lines += [
            f"ortbind's fastest path takes **{fastest:.2f}x** the time of the official binding's fastest path "
            "(the fastest contender of each, round by round).",
            "",
        ]
    if results["skipped"]:
        lines += ["Not measured:", ""]
        lines += [f"- {results['contenders'][n][0]}: {why}" for n, why in results["skipped"].items()]
        lines.append("")
    lines += [
        "Contenders: "
        + "; ".join(
            f"**{label}**: {text}" for n, (label, text) in results["contenders"].items() if n in results["stats"]
        )
        + ".",
        "",
        "## Method",
        "",
        f"Every contender runs in this one process and thread (the C++ floors as a library loaded with ctypes),"
        f" with the same session options. After a warm-up of {plan['warmup']} call(s) each, contenders take turns"
        f" running blocks of {plan['calls_per_block']} call(s) ({plan['rounds']} rounds, A B C, B C A, ...), each call"
        " timed alone (perf_counter_ns; steady_clock in the floor), the cyclic GC paused during a block. Medians and"
        " p99 are over every call; a ratio is the median over rounds of a contender's block median over the"
        " reference's in the same round. The C++ floor dlopens the same libonnxruntime.so file as ortbind; the"
        " official binding links its own copy of the runtime.",
        "",
        "## Machine and versions",
        "",
        *[f"- {key}: {value}" for key, value in machine.items() if key != "date"],
        "",
    ]
    if profile is not None:
        lines += ["## Where the time goes", "", profile_tables(profile, limit=50, markdown=True), ""]
        lines += [
            f"The profiler's trace: `{Path(profile.source).name}` (Chrome's trace format: Perfetto opens it).",
            "",
        ]
    lines += ["## Plot", "", "![latency per call](latency.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
