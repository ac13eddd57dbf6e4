"""``ortbind bench MODEL``: the benchmark suite's method on the user's model.

Every contender (ortbind's ways to run, the official binding's, the C++ floors where they can be built
here) is made on the same feeds and session options, warmed up, then timed in rotation, block by
block, for about ``--duration`` seconds (``ortbind._bench.harness``, which the repository's suite
uses too). ``--profile`` adds ONNX Runtime's profiler: which operators and nodes take the time.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

from .. import _core
from .._bench import harness
from .._bench.contenders import CONTENDERS, Target, make, references
from .._bench.floor import FloorBuild, build_floor
from .._bench.machine import machine_info
from .._bench.profile import Profile, collect_profile
from .._bench.report import profile_tables, result_rows, write_model_report
from ._common import UsageError, model_path, open_session, quiet_env, require
from .check import add_feed_options, add_thread_option, compare_bindings, feeds_for

DEFAULT_CONTENDERS = (
    "ortbind",
    "ortbind_out",
    "ortbind_bound",
    "ort",
    "ort_iobinding",
    "floor",
    "floor_bind",
    "floor_bound",
)


def parse_contenders(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown or not names:
        raise UsageError(
            f"--contenders {text}: {'unknown ' + ', '.join(unknown) if unknown else 'none named'}; "
            f"known: {', '.join(CONTENDERS)}"
        )
    return list(dict.fromkeys(names))


def _profile_calls(duration_s: float, per_call_us: float, nodes: int | None) -> int:
    """Runs to profile: about a tenth of the timed duration (a profiled run is slower), at most 1000,
    and within what keeps the profile's JSON (one event per node per run) under 200,000 events."""
    calls = int(0.1 * duration_s * 1e6 / max(per_call_us, 1.0))
    limit = 500 if nodes is None else min(1000, max(5, 200_000 // max(nodes, 1)))
    return max(5, min(calls, limit))


def _node_count(path: Path) -> int | None:
    try:
        import onnx

        return len(onnx.load(str(path), load_external_data=False).graph.node)
    except Exception:
        return None


def run(args: argparse.Namespace) -> int:
    path = model_path(args.model)
    require("bench", "tabulate", "tqdm", *(("matplotlib",) if args.out else ()))
    from tabulate import tabulate
    from tqdm import tqdm

    names = parse_contenders(args.contenders)
    if not (args.duration > 0 and math.isfinite(args.duration)):
        raise UsageError(f"--duration {args.duration}: must be a number of seconds > 0")
    if args.threads < 1:
        raise UsageError(f"--threads {args.threads}: must be at least 1")
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a folder")

    session = open_session(path, intra_op_threads=args.threads, inter_op_threads=1)
    try:
        feeds = feeds_for(session, args)
        comparison = compare_bindings(path, session, feeds, args.threads)
    finally:
        session.close()

    floor: FloorBuild | None = None
    if {"floor", "floor_bind", "floor_bound"} & set(names):
        floor = build_floor(
            announce=lambda: print(
                "compiling the C++ floor (once per ONNX Runtime headers and compiler)...", file=sys.stderr, flush=True
            )
        )
    target = Target(
        path,
        feeds.arrays,
        intra_op_threads=args.threads,
        inter_op_threads=1,
        env=quiet_env(),
        floor=floor,
        name=path.name,
        ort_log_severity=4,
    )
    failed_family = {"ortbind": comparison.ours_error, "ort": comparison.theirs_error}
    made: dict[str, harness.Contender] = {}
    skipped: dict[str, str] = {}
    bar: Any = None
    try:
        for name in names:
            spec = CONTENDERS[name]
            if spec.family and failed_family.get(spec.family):
                skipped[name] = f"this binding fails on these feeds ({failed_family[spec.family]})"
                continue
            try:
                made[name] = make(spec, target)
            except harness.Skip as reason:
                skipped[name] = str(reason)
        if not made:
            raise UsageError("no contender can run this model: " + "; ".join(f"{n}: {r}" for n, r in skipped.items()))
        print(
            f"timing {len(made)} contenders for about {args.duration:g} s (a few calls of each first size the blocks)",
            file=sys.stderr,
            flush=True,
        )
        plan = harness.plan_for_duration(made, args.duration)
        bar = tqdm(
            total=len(made) * (plan.rounds + 1),
            desc=path.name,
            unit="block",
            file=sys.stderr,
            disable=True if args.no_progress else None,
            leave=False,
            dynamic_ncols=True,
        )
        measured = harness.measure(
            made,
            warmup=plan.warmup,
            rounds=plan.rounds,
            calls=plan.calls,
            families={n: CONTENDERS[n].family for n in made},
            on_block=lambda name, phase: bar.update(),
        )
    finally:
        if bar is not None:
            bar.close()
        for contender in made.values():
            contender.close()

    stats = measured.stats(references(list(made)))
    profile: Profile | None = None
    if args.profile:
        per_call = min(s["median_us"] for s in stats.values())
        calls = _profile_calls(args.duration, per_call, _node_count(path))
        print(f"profiling {calls} runs with ONNX Runtime's profiler...", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="ortbind-profile-") as folder:
            profile = collect_profile(target, calls, Path(out or folder) / "profile")

    results: dict[str, Any] = {
        "model": str(path),
        "feeds": {n: {"type": t, "from": w} for n, t, w in feeds.describe()},
        "seed": args.seed,
        "machine": machine_info(args.threads, 1),
        "plan": {
            "duration_s": args.duration,
            "warmup": plan.warmup,
            "rounds": plan.rounds,
            "calls_per_block": plan.calls,
        },
        "contenders": {n: [CONTENDERS[n].label, CONTENDERS[n].description] for n in names},
        "same_outputs": comparison.identical,
        "differences": {n: [str(d) for d in ds] for n, ds in comparison.differences.items() if ds},
        "binding_errors": {k: v for k, v in failed_family.items() if v},
        "stats": stats,
        "skipped": skipped,
        "fastest": {"ortbind_over_ort": measured.fastest_ratio("ortbind", "ort")},
        "profile": None if profile is None else profile.as_dict(),
    }

    header, rows = result_rows(results)
    print(f"{path} on {', '.join(f'{n} {t}' for n, t, _ in feeds.describe())}")
    same = "yes, bit for bit" if comparison.identical else "NO (ortbind check says where)"
    print(f"same outputs as onnxruntime: {same}")
    print(
        f"warm-up {plan.warmup} call(s), then {plan.rounds} rounds of {plan.calls} call(s) per contender, in "
        f"rotation; ONNX Runtime {_core.RUNTIME_VERSION}, {args.threads} intra-op thread(s)"
    )
    print()
    print(tabulate(rows, headers=header, disable_numparse=True, colalign=["left"] + ["right"] * (len(header) - 1)))
    for name, why in skipped.items():
        print(f"  no {CONTENDERS[name].label} row: {why}")
    fastest = results["fastest"]["ortbind_over_ort"]
    if fastest is not None:
        print(
            f"\nortbind's fastest path takes {fastest:.2f}x the time of the official binding's fastest (round by round)"
        )
    if profile is not None:
        print()
        print(profile_tables(profile, limit=12, markdown=False))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_model_report(results, out, profile)
        print(f"\nreport: {out / 'report.md'}\nsamples: {out / 'results.json'}\nplot: {out / 'latency.png'}")
    else:
        print("\n(pass --out DIR for report.md, results.json and a plot)")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="ortbind against the official binding (and the C++ floor) on your model",
        description="Times every contender on the same feeds and session options: a warm-up, then blocks of "
        "calls in rotation (each call timed alone), medians and p99 over every call, ratios round by round. "
        "Contenders: " + "; ".join(f"{n}: {s.description}" for n, s in CONTENDERS.items()) + ".",
    )
    parser.add_argument("model", metavar="MODEL", help="an .onnx file")
    add_feed_options(parser)
    add_thread_option(parser)
    parser.add_argument(
        "--duration", type=float, default=10.0, metavar="S", help="seconds of timed calls, all contenders (default 10)"
    )
    parser.add_argument(
        "--contenders",
        default=",".join(DEFAULT_CONTENDERS),
        metavar="A,B,...",
        help=f"which to run (default {','.join(DEFAULT_CONTENDERS)})",
    )
    parser.add_argument("--out", metavar="DIR", help="write report.md, results.json and latency.png there")
    parser.add_argument(
        "--profile", action="store_true", help="also run ONNX Runtime's profiler: time per operator type and per node"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
