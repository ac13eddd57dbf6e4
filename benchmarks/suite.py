"""Runs the workloads against every contender, interleaved in one process, and writes the report.

Method (ortbind._bench.harness, shared with ``ortbind bench``): each contender is warmed up, then the
contenders take turns (A B C, B C A, ...) running blocks of calls, each call timed alone; medians and
p99 are over all calls of all rounds, ratios are the median of per-round ratios. The C++ floors are a
library loaded into this process, driven block by block in the same rotation.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

import ortbind
from ortbind._bench import harness, report
from ortbind._bench.contenders import CONTENDERS, Target, ort_session, ortbind_session
from ortbind._bench.floor import FloorBuild, build_floor
from ortbind._bench.harness import Contender, Skip
from ortbind._bench.machine import machine_info as _machine_info
from support import models

from . import batching, page, serving, shared_weights
from . import threads as free_threading
from .targets import evaluate_targets
from .workloads import Workload, plan, threads_model

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
INTRA_OP_THREADS = 1
INTER_OP_THREADS = 1
FLOORS = {"floor", "floor_bind", "floor_bound"}
MODES = {
    # mode: (warm-up calls, rounds, block scale, threads seconds, memory MiB)
    "full": (50, 41, 0.4, 2.0, 256),
    "quick": (20, 15, 0.2, 0.7, 128),
    "smoke": (3, 2, 0.05, 0.1, 16),
}


def _progress(total: int, enabled: bool) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, disable=not enabled, unit="step", dynamic_ncols=True)


def target(workload: Workload, env: ortbind.Env | None, floor: FloorBuild | None = None) -> Target:
    """What every contender runs for this workload: its model and feeds, one intra-op and one inter-op
    thread, the suite's environment."""
    return Target(
        workload.model,
        workload.feeds,
        intra_op_threads=INTRA_OP_THREADS,
        inter_op_threads=INTER_OP_THREADS,
        env=env,
        floor=floor,
        name=workload.name,
    )


def compare_outputs(workload: Workload, env: ortbind.Env | None) -> dict[str, Any]:
    """ortbind's outputs against the official binding's on this workload: bitwise for tensors."""
    ours = ortbind_session(target(workload, env)).run(workload.feeds)
    theirs = ort_session(target(workload, env)).run(None, workload.feeds)
    equal = len(ours) == len(theirs) and all(
        isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
        for a, b in zip(ours.values(), theirs, strict=False)
    )
    return {"outputs_equal": bool(equal)}


def measure(
    workload: Workload,
    names: list[str],
    env: ortbind.Env | None,
    floor: FloorBuild | None,
    warmup: int,
    rounds: int,
    scale: float,
) -> dict[str, Any]:
    made: dict[str, Contender] = {}
    skipped = []
    calls = max(2, int(workload.calls * scale))
    families = {name: spec.family for name, spec in CONTENDERS.items()}
    try:
        for name in names:
            try:
                made[name] = CONTENDERS[name].make(target(workload, env, floor))
            except Skip:
                skipped.append(name)
        measured = harness.measure(
            made, warmup=max(1, min(warmup, calls * 2)), rounds=rounds, calls=calls, families=families
        )
    finally:
        for contender in made.values():
            contender.close()
    stats = measured.stats(references=("floor", "floor_bind", "floor_bound", "ort", "ortbind"))
    for name in ("ortbind", "ortbind_contract"):
        # What the contract check costs per call, round by round (µs).
        extra = measured.difference_us(name, "ortbind_unchecked")
        if extra is not None:
            stats[name]["minus_unchecked_us"] = extra
    fastest: dict[str, float] = {}
    # The fastest way each binding offers for this workload, compared round by round.
    ratio = measured.fastest_ratio("ortbind", "ort")
    if ratio is not None:
        fastest["ortbind_over_ort"] = ratio
    return {
        "contenders": stats,
        "skipped": skipped,
        "calls_per_block": calls,
        "rounds": rounds,
        "fastest": fastest,
    }


def measure_threads(names: list[str], env: ortbind.Env | None, seconds: float, rounds: int) -> dict[str, Any]:
    """Throughput of one session driven by 1 and 2 Python threads, per contender (interleaved)."""
    workload = threads_model()
    runners: dict[str, Any] = {}
    if "ortbind" in names:
        s = ortbind_session(target(workload, env))
        runners["ortbind"] = lambda: s.run(workload.feeds)
    if "ort" in names:
        o = ort_session(target(workload, env))
        runners["ort"] = lambda: o.run(None, workload.feeds)

    def throughput(fn: Any, threads: int) -> float:
        counts = [0] * threads
        stop = time.perf_counter() + seconds

        def work(k: int) -> None:
            while time.perf_counter() < stop:
                fn()
                counts[k] += 1

        pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        start = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return sum(counts) / (time.perf_counter() - start)

    for fn in runners.values():
        for _ in range(20):
            fn()
    results: dict[str, dict[str, list[float]]] = {n: {"1": [], "2": []} for n in runners}
    for _ in range(rounds):
        for name, fn in runners.items():
            for threads in (1, 2):
                results[name][str(threads)].append(throughput(fn, threads))
    single = {n: float(np.median(r["1"])) for n, r in results.items()}
    return {
        "model": f"{workload.name} (conv net, batch 4, one intra-op thread per call)",
        "per_call_ms": {n: 1000.0 / single[n] for n in runners},
        "calls_per_s": {n: {k: float(np.median(v)) for k, v in r.items()} for n, r in results.items()},
        "scaling": {n: float(np.median(r["2"])) / single[n] for n, r in results.items()},
    }


def measure_memory(names: list[str], mib: int) -> dict[str, Any]:
    """Peak RSS growth (from a reset peak) for a large input and a large output, per contender, each in
    a fresh process: the payload itself is the floor (ratio 1.0), a copy on either side doubles it."""
    result: dict[str, Any] = {}
    for name in [n for n in ("ortbind", "ort") if n in names]:
        for case in ("input", "output"):
            child = [sys.executable, "-m", "benchmarks.memory_child", name, case, str(mib)]
            run = subprocess.run(child, capture_output=True, text=True, check=True, cwd=ROOT)
            data = json.loads(run.stdout)
            data["ratio"] = data["growth"] / data["payload"]
            result.setdefault(name, {})[case] = data
    return {"mib": mib, "contenders": result}


def _score_block(block: np.ndarray, session: ortbind.Session) -> np.ndarray:
    return session.run({"x": block})["probs"]


def measure_dask(rows: int, chunk: int) -> dict[str, Any] | None:
    """Batch scoring of ``rows`` rows made where they are scored (a random dask.array, as a dataset
    read by the workers would be): the same graph on one process (dask's synchronous scheduler)
    against a dask.distributed LocalCluster of two single-threaded worker processes, each building
    its session once."""
    try:
        import dask.array as da
        import distributed
    except ImportError:
        return None
    session = ortbind.Session(models.mlp(), intra_op_threads=1, inter_op_threads=1)

    def graph(n: int) -> Any:
        x = da.random.RandomState(0).standard_normal((n, 64), chunks=(chunk, 64)).astype(np.float32)
        return x.map_blocks(_score_block, session, chunks=(chunk, 10), dtype=np.float32)

    graph(2 * chunk).compute(scheduler="synchronous")
    start = time.perf_counter()
    single = graph(rows).compute(scheduler="synchronous")
    single_s = time.perf_counter() - start
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with distributed.Client(cluster):
            graph(4 * chunk).compute()
            start = time.perf_counter()
            clustered = graph(rows).compute()
            cluster_s = time.perf_counter() - start
    finally:
        cluster.close()
    return {
        "rows": rows,
        "chunk": chunk,
        "model": "mlp (64 -> 128 -> 10) on rows generated in place, one intra-op thread per process",
        "single_process_rows_per_s": rows / single_s,
        "cluster_rows_per_s": rows / cluster_s,
        "speedup": single_s / cluster_s,
        "same_results": bool(np.array_equal(single, clustered)),
    }


def machine_info() -> dict[str, Any]:
    return _machine_info(INTRA_OP_THREADS, INTER_OP_THREADS)


def floor_build(out_dir: Path) -> FloorBuild:
    """The C++ floor, compiled into the results folder; the suite cannot measure without it."""
    build = build_floor(out_dir)
    if build.binary is None:
        raise SystemExit(f"benchmarks: {build.reason}")
    return build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run, under two minutes")
    parser.add_argument("--smoke", action="store_true", help="the smallest run (for the test suite)")
    parser.add_argument("--workloads", default="*", help="comma-separated names or globs (add1,io*,...)")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated contenders")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="after a complete full run, write it into the docs (docs/benchmarks.md, its charts and results.json)"
        " and README.md's table",
    )
    args = parser.parse_args(argv)

    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    warmup, rounds, scale, thread_seconds, memory_mib = MODES[mode]
    names = [n for n in args.contenders.split(",") if n]
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders {unknown}; known: {', '.join(CONTENDERS)}")
    patterns = args.workloads.split(",")
    everything = args.workloads == "*"

    # The runtime's warnings (unused initializers in the onnx wheel's models, ...) are not results.
    env = ortbind.Env(log_level="error", log_id="bench")
    floor = floor_build(args.out / "bin") if FLOORS & set(names) else None
    workloads = [w for make in plan(mode).values() for w in make() if any(fnmatch.fnmatch(w.name, p) for p in patterns)]
    extra_steps = ("threads" in patterns or everything) + ("memory" in patterns or everything)
    bar = _progress(len(workloads) + extra_steps, not args.no_progress and sys.stderr.isatty())

    described = {name: (spec.label, spec.description) for name, spec in CONTENDERS.items()}
    results: dict[str, Any] = {"mode": mode, "machine": machine_info(), "contenders": described, "workloads": {}}
    for workload in workloads:
        if bar is not None:
            bar.set_description(workload.name)
        entry = {
            "group": workload.group,
            "notes": workload.notes,
            "payload_bytes": workload.payload_bytes,
            "io_count": workload.io_count,
        }
        entry.update(compare_outputs(workload, env))
        entry.update(measure(workload, names, env, floor, warmup, rounds, scale))
        results["workloads"][workload.name] = entry
        if bar is not None:
            bar.update()
    if "threads" in patterns or everything:
        if bar is not None:
            bar.set_description("threads")
        results["threads"] = measure_threads(names, env, thread_seconds, max(2, rounds // 3))
        if bar is not None:
            bar.update()
    if "memory" in patterns or everything:
        if bar is not None:
            bar.set_description("memory")
        results["memory"] = measure_memory(names, memory_mib)
        if bar is not None:
            bar.update()
    if mode != "smoke" and ("dask" in patterns or everything):
        rows = 1_000_000 if mode == "full" else 200_000
        dask_result = measure_dask(rows, 50_000)
        if dask_result is not None:
            results["dask"] = dask_result
    # Serving many small requests (issue-level benchmarks of their own, with their own targets): a
    # fixed time per cell, so the smoke run skips them.
    if mode != "smoke" and ("batching" in patterns or everything):
        results["batching"] = batching.measure([1, 8, 64, 256], 1.5 if mode == "full" else 0.5)
    if mode != "smoke" and ("serving" in patterns or everything):
        results["serving"] = serving.measure([16, 64], 3.0 if mode == "full" else 1.0)
    if mode != "smoke" and ("shared_weights" in patterns or everything):
        results["shared_weights"] = shared_weights.measure(8, 6, 2048)
    if mode != "smoke" and ("free_threading" in patterns or everything):
        results["free_threading"] = free_threading.run(mode, args.out)
    if bar is not None:
        bar.close()

    results["targets"] = evaluate_targets(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    charts = {} if args.no_plots else report.suite_charts(results, args.out)
    (args.out / "report.md").write_text(page.render_page(results, "", charts))
    print(report.terminal_summary(results))
    if "free_threading" in results:
        print("\n" + (args.out / "threads.md").read_text())
    print(f"\nreport: {args.out / 'report.md'}\nsamples: {args.out / 'results.json'}")
    if args.publish:
        if mode == "full" and everything and set(names) == set(CONTENDERS):
            page.publish(results)
            print(f"published: {page.PAGE.relative_to(ROOT)}, {page.ASSETS.relative_to(ROOT)}/, README.md's table")
        else:
            print("not published: only a full run of every workload and contender goes into the docs")
    return 0
