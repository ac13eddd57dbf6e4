"""The benchmark reports, one writer for both: ``ortbind bench``'s report on one model and the suite's
(``make bench``) on its workloads. How a number is shown, the tables, the Markdown sections and the
charts (one hue per family of contenders: the C++ floors grey, ortbind blue, the official binding
orange) live here. Everything reads results as plain dicts, what ``results.json`` holds, so a report
can be written again from a saved ``results.json``.

tabulate and matplotlib come with the ``cli`` extra: they are imported where a table or a chart is
made, so that the command line can name a missing package instead of failing when it starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .profile import Profile, Row

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The references a contender's time is divided by, and their column titles.
REFERENCES = (
    ("ort", "/ ort run"),
    ("floor", "/ C++ floor"),
    ("floor_bind", "/ bound floor"),
    ("floor_bound", "/ bound-once floor"),
)
HOLDS = {True: "yes", False: "**no**", None: "-"}
DPI = 120


def us(value: float | None) -> str:
    """A time in µs: one decimal below 1000, none above."""
    if value is None:
        return "-"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def markdown_table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], numbers_right: bool = True, text_columns: int = 1
) -> str:
    """A Markdown (pipe) table, cells as given: the first ``text_columns`` left, the others right if
    ``numbers_right``."""
    from tabulate import tabulate

    align = ["left"] * text_columns + ["right" if numbers_right else "left"] * (len(header) - text_columns)
    return str(tabulate(list(rows), headers=list(header), tablefmt="pipe", disable_numparse=True, colalign=align))


def terminal_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The same table for a terminal: the first column left, the others right."""
    from tabulate import tabulate

    align = ["left"] + ["right"] * (len(header) - 1)
    return str(tabulate(list(rows), headers=list(header), tablefmt="simple", disable_numparse=True, colalign=align))


def family(name: str) -> str:
    """Whose a contender is, for its colour: ``floor``, ``ortbind``, ``compat`` (ortbind.compat) or
    ``ort`` (the official binding)."""
    for prefix in ("floor", "ortbind", "compat"):
        if name.startswith(prefix):
            return prefix
    return "ort"


# Per family: colour map and the part of it used (dark to light), so that members differ in shade.
_SHADES = {
    "floor": ("Greys", 0.95, 0.45),
    "ortbind": ("Blues", 0.95, 0.4),
    "compat": ("Greens", 0.85, 0.5),
    "ort": ("Oranges", 0.8, 0.4),
}
_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def styles(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """A line style per contender: the family's hue in a shade of its own, with its own dash and marker,
    so that no two lines look alike."""
    import matplotlib

    members: dict[str, list[str]] = {}
    for name in names:
        members.setdefault(family(name), []).append(name)
    result: dict[str, dict[str, Any]] = {}
    for fam, group in members.items():
        cmap, dark, light = _SHADES[fam]
        shades = np.linspace(dark, light, len(group)) if len(group) > 1 else [dark]
        for k, name in enumerate(group):
            result[name] = {
                "color": matplotlib.colormaps[cmap](float(shades[k])),
                "linestyle": _LINESTYLES[k % len(_LINESTYLES)],
                "marker": _MARKERS[k % len(_MARKERS)],
            }
    return result


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def _save(fig: Figure, path: Path) -> None:
    import matplotlib.pyplot as plt

    # No metadata: the same results give the same file.
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)


# ---------------------------------------------------------------------------------------------------
# One model: ``ortbind bench MODEL``


def result_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The main table of ``ortbind bench``: one row per contender measured."""
    stats = results["stats"]
    present = [(key, title) for key, title in REFERENCES if key in stats]
    header = ["contender", "median µs", "p99 µs", "calls/s"] + [title for _, title in present] + ["calls"]
    rows = []
    for name, entry in stats.items():
        cells = [results["contenders"][name][0], us(entry["median_us"]), us(entry["p99_us"])]
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
        cells.append([*first, str(row.calls), us(row.total_us), us(row.mean_us), f"{100 * row.share:.1f}%"])
    return header, cells


def profile_tables(profile: Profile, *, limit: int, markdown: bool) -> str:
    """ONNX Runtime's profile as two tables, time per operator type and per node."""
    from tabulate import tabulate

    fmt = "pipe" if markdown else "simple"
    covered = f"{100 * profile.kernel_us / profile.run_us:.0f}%" if profile.run_us else "-"
    intro = (
        f"ONNX Runtime's profiler over {profile.runs} runs (after one warm-up run): kernels took {covered} of the "
        f"time ONNX Runtime measured for the runs ({us(profile.run_us / max(profile.runs, 1))} µs per profiled run; "
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


def _box_plot(results: dict[str, Any], path: Path) -> None:
    """Every call's time per contender, as boxes in the contender's family colour."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    names = list(results["stats"])
    samples = [[v / 1000.0 for v in results["stats"][n]["samples_ns"]] for n in names]
    labels = [results["contenders"][n][0] for n in names]
    fig, ax = _figure(7.5, 0.6 * len(names) + 1.6)
    boxes = ax.boxplot(
        samples, orientation="horizontal", whis=(1, 99), showfliers=False, tick_labels=labels, patch_artist=True
    )
    style = styles(names)
    for name, box, median in zip(names, boxes["boxes"], boxes["medians"], strict=True):
        box.set_facecolor(style[name]["color"])
        box.set_alpha(0.6)
        median.set_color("black")
    for i, entry in enumerate(results["stats"].values(), start=1):
        # Above the box (the axis is inverted below: the first contender on top).
        ax.text(
            entry["median_us"], i - 0.3, f"median {us(entry['median_us'])} µs", ha="center", va="bottom", fontsize=8
        )
    # The scale from what the plot shows (the whiskers), not from outliers it leaves out.
    low = min(float(np.percentile(s, 1)) for s in samples)
    high = max(float(np.percentile(s, 99)) for s in samples)
    if high > 20 * low:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.invert_yaxis()
    ax.set_xlabel("µs per call (box: quartiles, whiskers: 1st and 99th percentiles)")
    model = Path(results["model"])
    ax.set_title(f"{model.parent.name}/{model.name}: latency per call")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    _save(fig, path)


def write_model_report(results: dict[str, Any], out: Path, profile: Profile | None) -> None:
    """``ortbind bench --out DIR``: results.json (every call's time), report.md and latency.png."""
    (out / "results.json").write_text(json.dumps(results, indent=1))
    _box_plot(results, out / "latency.png")
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
    for fam, error in results["binding_errors"].items():
        lines += [f"- {fam} failed: {error}"]
    lines += ["", "## Results (µs per call)", "", markdown_table(header, rows), ""]
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
        contenders_line(results["contenders"], results["stats"]),
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
        *machine_lines(machine),
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


# ---------------------------------------------------------------------------------------------------
# Both


def machine_lines(machine: dict[str, Any]) -> list[str]:
    """The machine and versions as a Markdown list (the date has a line of its own elsewhere)."""
    lines = []
    for key, value in machine.items():
        if key == "date":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        lines.append(f"- {key.replace('_', ' ')}: {value}")
    return lines


def contenders_line(contenders: dict[str, Sequence[str]], measured: Iterable[str]) -> str:
    """What each measured contender does, in one paragraph."""
    present = set(measured)
    return (
        "Contenders: "
        + "; ".join(f"**{label}**: {text}" for name, (label, text, *_) in contenders.items() if name in present)
        + "."
    )


# ---------------------------------------------------------------------------------------------------
# The suite: ``make bench``


def measured_contenders(results: dict[str, Any]) -> list[str]:
    """The contenders that have a number in some workload, in the suite's order."""
    return [n for n in results["contenders"] if any(n in w["contenders"] for w in results["workloads"].values())]


def targets_table(targets: list[dict[str, Any]]) -> str:
    return markdown_table(
        ["target", "measured", "holds"],
        [[t["target"], t["measured"], HOLDS[t["holds"]]] for t in targets],
        numbers_right=False,
    )


def medians_table(results: dict[str, Any], workloads: Sequence[str] | None = None) -> str:
    """Median µs per call: a row per workload, a column per contender."""
    names = measured_contenders(results)
    header = ["workload"] + [results["contenders"][n][0] for n in names]
    rows = []
    for workload, entry in results["workloads"].items():
        if workloads is not None and workload not in workloads:
            continue
        stats = entry["contenders"]
        rows.append([workload] + [us(stats[n]["median_us"]) if n in stats else "-" for n in names])
    return markdown_table(header, rows)


def speedups(results: dict[str, Any]) -> dict[str, tuple[float | None, float | None]]:
    """Per workload, how many times faster ortbind is than the official binding: its fastest path
    against the official binding's fastest, and ``run`` against ``InferenceSession.run`` (round by
    round medians; above 1 is faster)."""
    result: dict[str, tuple[float | None, float | None]] = {}
    for workload, entry in results["workloads"].items():
        fastest = entry.get("fastest", {}).get("ortbind_over_ort")
        run = entry["contenders"].get("ortbind", {}).get("ratio_to_ort")
        result[workload] = (None if not fastest else 1.0 / fastest, None if not run else 1.0 / run)
    return result


def speedup_table(results: dict[str, Any], workloads: Sequence[str]) -> str:
    """A few workloads: what each is, the median of ``run`` in each binding, and the two speed-ups."""
    rows = []
    ratios = speedups(results)
    for workload in workloads:
        entry = results["workloads"].get(workload)
        if entry is None:
            continue
        stats = entry["contenders"]
        fastest, run = ratios[workload]
        rows.append(
            [
                workload,
                entry.get("notes") or entry["group"],
                us(stats.get("ortbind", {}).get("median_us")),
                us(stats.get("ort", {}).get("median_us")),
                "-" if run is None else f"{run:.2f}x",
                "-" if fastest is None else f"{fastest:.2f}x",
            ]
        )
    header = [
        "workload",
        "what",
        "ortbind `run` µs",
        "official `run` µs",
        "`run` speed-up",
        "fastest path speed-up",
    ]
    return markdown_table(header, rows, text_columns=2)


def details_table(results: dict[str, Any]) -> str:
    """Every contender of every workload: median, p99, calls/s, ratios to the floors and to ort run."""
    rows = []
    for workload, entry in results["workloads"].items():
        for name, stats in entry["contenders"].items():
            ratios = [stats.get(f"ratio_to_{r}") for r in ("floor", "floor_bind", "floor_bound", "ort")]
            rows.append(
                [
                    workload,
                    results["contenders"][name][0],
                    us(stats["median_us"]),
                    us(stats["p99_us"]),
                    f"{stats['calls_per_s']:,.0f}",
                    *("-" if r is None else f"{r:.2f}" for r in ratios),
                    str(stats["n"]),
                ]
            )
    header = ["workload", "contender", "median µs", "p99 µs", "calls/s", "/ floor", "/ bound floor"]
    header += ["/ bound-once floor", "/ ort run", "calls"]
    return markdown_table(header, rows)


def threads_section(threads: dict[str, Any]) -> str:
    rows = [
        [n, f"{threads['per_call_ms'][n]:.2f}", f"{c['1']:,.0f}", f"{c['2']:,.0f}", f"{threads['scaling'][n]:.2f}x"]
        for n, c in threads["calls_per_s"].items()
    ]
    header = ["contender", "ms per call", "calls/s, 1 thread", "calls/s, 2 threads", "scaling"]
    return f"Model: {threads['model']}.\n\n" + markdown_table(header, rows)


def memory_section(memory: dict[str, Any]) -> str:
    rows = [
        [n, case, f"{d['growth'] / 2**20:.1f}", f"{d['payload'] / 2**20:.1f}", f"{d['ratio']:.3f}"]
        for n, cases in memory["contenders"].items()
        for case, d in cases.items()
    ]
    header = ["contender", "case", "peak RSS growth (MiB)", "payload (MiB)", "growth / payload"]
    return f"A {memory['mib']} MiB payload, each case in a fresh process.\n\n" + markdown_table(header, rows)


def dask_section(dask: dict[str, Any]) -> str:
    row = [
        f"{dask['single_process_rows_per_s']:,.0f}",
        f"{dask['cluster_rows_per_s']:,.0f}",
        f"{dask['speedup']:.2f}x",
        "yes" if dask["same_results"] else "NO",
    ]
    header = ["one process (rows/s)", "LocalCluster, 2 workers (rows/s)", "speed-up", "same results"]
    return f"{dask['rows']:,} rows, {dask['model']}; chunks of {dask['chunk']:,} rows.\n\n" + markdown_table(
        header, [row], numbers_right=False
    )


def batching_section(results: dict[str, Any]) -> str:
    """The batching benchmark: its targets, then requests/s and latency per model, clients and contender."""
    rows = []
    for cell in results["cells"]:
        batch = cell.get("mean_batch_rows")
        rows.append(
            [
                cell["model"],
                str(cell["clients"]),
                cell["contender"],
                f"{cell['requests_per_s']:,.0f}",
                f"{cell['p50_ms']:.2f}",
                f"{cell['p99_ms']:.2f}",
                "" if batch is None else f"{batch:.1f}",
            ]
        )
    settings = results["settings"]
    facts = ", ".join(
        f"{name}: one batch of {settings['max_batch']} rows {f['batch_run_ms'] * 1e3:.0f} µs, "
        f"largest difference from one-row runs {f['max_abs_difference']:.1e}"
        for name, f in results["facts"].items()
    )
    header = ["model", "clients", "contender", "requests/s", "p50 ms", "p99 ms", "mean batch rows"]
    return (
        f"One-row requests from concurrent asyncio clients, {settings['duration_s']} s per cell; "
        f"Batcher(max_batch={settings['max_batch']}, max_delay={settings['max_delay_s'] * 1e3:g} ms); "
        f"one intra-op thread ({settings['run_async_intra_op_threads']} for run_async, its RunAsync path). "
        f"{facts}.\n\n" + targets_table(results["targets"]) + "\n\n" + markdown_table(header, rows)
    )


def serving_section(results: dict[str, Any]) -> str:
    """The serving benchmark: requests/s and latency of the example service, with and without batching."""

    def mean_batch(cell: dict[str, Any]) -> str:
        stats = cell["server_batching"]
        return "" if not stats or not stats["batches"] else f"{stats['rows'] / stats['batches']:.1f}"

    rows = [
        [
            c["mode"],
            str(c["clients"]),
            f"{c['requests_per_s']:,.0f}",
            f"{c['p50_ms']:.2f}",
            f"{c['p99_ms']:.2f}",
            str(c["errors"]),
            mean_batch(c),
        ]
        for c in results["cells"]
    ]
    header = ["service", "concurrent requests", "requests/s", "p50 ms", "p99 ms", "errors", "mean batch rows"]
    return (
        f"One JSON row per request to the MLP, {results['settings']['duration_s']} s per cell; the service runs "
        "in its own process on 127.0.0.1, the aiohttp client in the benchmark's. Mean batch rows counts every "
        "batch the service ran (warm-up included).\n\n" + markdown_table(header, rows)
    )


def shared_weights_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    one = report["cases"].get("one", {}).get("growth")
    header = ["case", "sessions", "peak RSS MB", "growth MB", "growth / one session"]
    rows = [
        [
            case,
            str(r["sessions"]),
            f"{r['peak_rss'] / 1e6:.0f}",
            f"{r['growth'] / 1e6:.0f}",
            f"{r['growth'] / one:.2f}x" if one else "-",
        ]
        for case, r in report["cases"].items()
    ]
    return header, rows


def shared_weights_section(report: dict[str, Any]) -> str:
    """Peak memory of several sessions of one model, with and without shared weights."""
    header, rows = shared_weights_rows(report)
    return (
        f"{report['sessions']} sessions of a {report['weights_mb']:.0f} MB model. Peak RSS per case, each in a "
        "fresh child process; sessions agree bit for bit within each case: "
        f"{'yes' if report['same_outputs_within_case'] else 'NO'}.\n\n" + markdown_table(header, rows)
    )


def terminal_summary(results: dict[str, Any]) -> str:
    """What the suite prints: median µs per call, each target's verdict, and the Dask line."""
    names = measured_contenders(results)
    header = ["workload", "same outputs"] + [results["contenders"][n][0] for n in names]
    rows = [
        [w, "yes" if e["outputs_equal"] else "NO"]
        + [us(e["contenders"][n]["median_us"]) if n in e["contenders"] else "-" for n in names]
        for w, e in results["workloads"].items()
    ]
    verdicts = "\n".join(
        f"  [{ {True: 'holds', False: 'MISSED', None: '  -  '}[t['holds']] }] {t['target']}: {t['measured']}"
        for t in results["targets"]
    )
    text = f"Median µs per call\n{terminal_table(header, rows)}\n\nTargets\n{verdicts}"
    dask = results.get("dask")
    if dask:
        text += (
            f"\n\nDask: {dask['rows']:,} rows, one process {dask['single_process_rows_per_s']:,.0f} rows/s, "
            f"two workers {dask['cluster_rows_per_s']:,.0f} rows/s ({dask['speedup']:.2f}x)"
        )
    return text


# ---------------------------------------------------------------------------------------------------
# The suite's charts


def speedup_chart(results: dict[str, Any], path: Path) -> bool:
    """Per workload, ortbind's speed-up over the official binding: fastest path against fastest path,
    and ``run`` against ``run``. A bar past the line at 1 is ortbind faster."""
    ratios = {w: r for w, r in speedups(results).items() if any(v is not None for v in r)}
    if not ratios:
        return False
    names = list(ratios)
    y = np.arange(len(names))
    height = 0.38
    fig, ax = _figure(8.0, 0.42 * len(names) + 1.8)
    # Two shades of ortbind's hue: the darker for the fastest paths, the lighter for run.
    shades = styles(["ortbind_fastest", "ortbind_run"])
    series = (
        ("fastest path against fastest path", 0, -height / 2, shades["ortbind_fastest"]["color"]),
        ("run against InferenceSession.run", 1, height / 2, shades["ortbind_run"]["color"]),
    )
    top = 1.0
    for label, index, offset, colour in series:
        values = [ratios[n][index] for n in names]
        shown = [v if v is not None else 0.0 for v in values]
        bars = ax.barh(y + offset, shown, height, label=label, color=colour)
        for bar, value in zip(bars, values, strict=True):
            if value is not None:
                # On white, so that a label beside the line at 1 stays legible.
                ax.text(bar.get_width() + 0.02, bar.get_y() + bar.get_height() / 2, f"{value:.2f}x", va="center",
                        fontsize=7, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})  # fmt: skip
                top = max(top, value)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.15)
    ax.set_xlabel("speed-up over the official binding (median of round-by-round ratios; above 1: ortbind faster)")
    ax.set_title("ortbind against onnxruntime.InferenceSession, per workload")
    ax.grid(True, axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, frameon=False)
    _save(fig, path)
    return True


def _size(value: float) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= scale:
            return f"{value / scale:g} {unit}"
    return f"{value:g} B"


def latency_chart(
    results: dict[str, Any], group: str, x_key: str, per_x: bool, path: Path, labels: tuple[str, str, str]
) -> bool:
    """One line per contender over the workloads of ``group`` against their ``x_key``: above, the
    median latency (divided by x when ``per_x``); below, the time relative to the C++ ``Run`` floor,
    round by round, where lines that share the top panel's scale come apart. The legend sits outside
    the axes, on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

    order = sorted((w for w in results["workloads"].values() if w["group"] == group), key=lambda w: w[x_key])
    if not order:
        return False
    names = [n for n in measured_contenders(results) if any(n in w["contenders"] for w in order)]
    style = styles(names)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9.5, 7.0), sharex=True, height_ratios=(3, 2), layout="constrained")
    for name in names:
        stats = [(w[x_key], w["contenders"][name]) for w in order if name in w["contenders"]]
        xs = [x for x, _ in stats]
        look = {"label": results["contenders"][name][0], "markersize": 5, "linewidth": 1.4, **style[name]}
        top.plot(xs, [e["median_us"] / (x if per_x else 1) for x, e in stats], **look)
        ratios = [(x, e["ratio_to_floor"]) for x, e in stats if "ratio_to_floor" in e]
        if ratios:
            bottom.plot(*zip(*ratios, strict=True), **{**look, "label": None})
    xlabel, ylabel, title = labels
    ticks = [w[x_key] for w in order]
    for ax in (top, bottom):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.grid(True, alpha=0.3)
    bottom.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _: _size(value) if group == "payload" else f"{value:g}")
    )
    bottom.axhline(1.0, color="black", linewidth=0.8)
    top.set_ylabel(ylabel)
    top.set_title(title)
    bottom.set_ylabel("time / C++ Run floor")
    bottom.set_xlabel(xlabel)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    _save(fig, path)
    return True


# The suite's charts: file name -> what it shows (the image's alt text).
CHARTS = {
    "speedup.png": "ortbind's speed-up over the official binding per workload",
    "payload.png": "median latency against payload size, per contender",
    "io.png": "median latency per input/output pair against their count, per contender",
}


def suite_charts(results: dict[str, Any], folder: Path) -> dict[str, str]:
    """The suite's charts in ``folder``, those the results have data for: file name -> alt text."""
    made = [speedup_chart(results, folder / "speedup.png")]
    payload = ("payload (bytes in, bytes out)", "median latency (µs)", "Identity over float32 payloads")
    made.append(latency_chart(results, "payload", "payload_bytes", False, folder / "payload.png", payload))
    io = ("inputs (= outputs) per call", "median latency per input/output pair (µs)", "Cost per input/output pair")
    made.append(latency_chart(results, "io", "io_count", True, folder / "io.png", io))
    return {name: alt for (name, alt), done in zip(CHARTS.items(), made, strict=True) if done}
