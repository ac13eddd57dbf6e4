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
from ortbind._bench import harness
from ortbind._bench.floor import FloorBuild
from ortbind._bench.harness import Contender
from ortbind._bench.machine import machine_info as _machine_info

from . import contenders as C
from .report import write_report
from .workloads import Workload, plan, threads_model

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
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


def compare_outputs(workload: Workload) -> dict[str, Any]:
    """ortbind's outputs against the official binding's on this workload: bitwise for tensors."""
    ours = C.ortbind_session(workload).run(workload.feeds)
    theirs = C.ort_session(workload).run(None, workload.feeds)
    equal = len(ours) == len(theirs) and all(
        isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
        for a, b in zip(ours.values(), theirs, strict=False)
    )
    return {"outputs_equal": bool(equal)}


def measure(
    workload: Workload, names: list[str], floor: FloorBuild | None, warmup: int, rounds: int, scale: float
) -> dict[str, Any]:
    made: dict[str, Contender] = {}
    skipped = []
    calls = max(2, int(workload.calls * scale))
    try:
        for name in names:
            contender = C.make(name, workload, floor)
            if contender is None:
                skipped.append(name)
            else:
                made[name] = contender
        measured = harness.measure(
            made, warmup=max(1, min(warmup, calls * 2)), rounds=rounds, calls=calls, families=C.FAMILIES
        )
    finally:
        for contender in made.values():
            contender.close()
    stats = measured.stats(references=("floor", "floor_bind", "floor_bound", "ort"))
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


def measure_threads(names: list[str], seconds: float, rounds: int) -> dict[str, Any]:
    """Throughput of one session driven by 1 and 2 Python threads, per contender (interleaved)."""
    workload = threads_model()
    runners: dict[str, Any] = {}
    if "ortbind" in names:
        s = C.ortbind_session(workload)
        runners["ortbind"] = lambda: s.run(workload.feeds)
    if "ort" in names:
        o = C.ort_session(workload)
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
    from tests import models

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
    return _machine_info(C.INTRA_OP_THREADS, C.INTER_OP_THREADS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run, under two minutes")
    parser.add_argument("--smoke", action="store_true", help="the smallest run (for the test suite)")
    parser.add_argument("--workloads", default="*", help="comma-separated names or globs (add1,io*,...)")
    parser.add_argument("--contenders", default=",".join(C.CONTENDERS), help="comma-separated contenders")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    warmup, rounds, scale, thread_seconds, memory_mib = MODES[mode]
    names = [n for n in args.contenders.split(",") if n]
    unknown = [n for n in names if n not in C.CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders {unknown}; known: {', '.join(C.CONTENDERS)}")
    patterns = args.workloads.split(",")

    # The runtime's warnings (unused initializers in the onnx wheel's models, ...) are not results.
    C.ENV = ortbind.Env(log_level="error", log_id="bench")
    floor = C.floor_build(args.out / "bin") if {"floor", "floor_bind", "floor_bound"} & set(names) else None
    workloads = [w for make in plan(mode).values() for w in make() if any(fnmatch.fnmatch(w.name, p) for p in patterns)]
    extra_steps = ("threads" in patterns or args.workloads == "*") + ("memory" in patterns or args.workloads == "*")
    bar = _progress(len(workloads) + extra_steps, not args.no_progress and sys.stderr.isatty())

    results: dict[str, Any] = {"mode": mode, "machine": machine_info(), "contenders": C.CONTENDERS, "workloads": {}}
    for workload in workloads:
        if bar is not None:
            bar.set_description(workload.name)
        entry = {
            "group": workload.group,
            "notes": workload.notes,
            "payload_bytes": workload.payload_bytes,
            "io_count": workload.io_count,
        }
        entry.update(compare_outputs(workload))
        entry.update(measure(workload, names, floor, warmup, rounds, scale))
        results["workloads"][workload.name] = entry
        if bar is not None:
            bar.update()
    if "threads" in patterns or args.workloads == "*":
        if bar is not None:
            bar.set_description("threads")
        results["threads"] = measure_threads(names, thread_seconds, max(2, rounds // 3))
        if bar is not None:
            bar.update()
    if "memory" in patterns or args.workloads == "*":
        if bar is not None:
            bar.set_description("memory")
        results["memory"] = measure_memory(names, memory_mib)
        if bar is not None:
            bar.update()
    if mode != "smoke" and ("dask" in patterns or args.workloads == "*"):
        rows = 1_000_000 if mode == "full" else 200_000
        dask_result = measure_dask(rows, 50_000)
        if dask_result is not None:
            results["dask"] = dask_result
    # Serving many small requests (issue-level benchmarks of their own, with their own targets): a
    # fixed time per cell, so the smoke run skips them.
    if mode != "smoke" and ("batching" in patterns or args.workloads == "*"):
        from . import batching

        results["batching"] = batching.measure([1, 8, 64, 256], 1.5 if mode == "full" else 0.5)
    if mode != "smoke" and ("serving" in patterns or args.workloads == "*"):
        from . import serving

        results["serving"] = serving.measure([16, 64], 3.0 if mode == "full" else 1.0)
    if mode != "smoke" and ("shared_weights" in patterns or args.workloads == "*"):
        from . import shared_weights

        results["shared_weights"] = shared_weights.measure(8, 6, 2048)
    if mode != "smoke" and ("free_threading" in patterns or args.workloads == "*"):
        from . import threads

        results["free_threading"] = threads.run(mode, args.out)
    if bar is not None:
        bar.close()

    args.out.mkdir(parents=True, exist_ok=True)
    table = write_report(results, args.out, plots=not args.no_plots)
    print(table)
    if "free_threading" in results:
        print("\n" + (args.out / "threads.md").read_text())
    print(f"\nreport: {args.out / 'report.md'}\nsamples: {args.out / 'results.json'}")
    return 0
