"""Threads on one session for the per-call workloads (add1, io8, mlp_b1): 1 and 2 threads (and every
core's worth where the machine has more), the CPU arena on and off, for ortbind's ``run``, the
official binding's ``run`` and the C++ floor, which runs the same number of C++ threads on one session
(``OrtApi::Run``, the limit: ONNX Runtime's own locks, its CPU arena's among them, are in it).

It measures in the interpreter that runs it: ``make bench`` runs it in ``.venv`` (with the GIL) and
in ``.venv-ft`` (free-threaded CPython, the official binding's ``cp313t`` wheel), each as
``python -m benchmarks.threads --json FILE``, and puts the rows side by side with the targets.

Method, as the harness's (ortbind._bench.harness): every contender is warmed up, then the
contenders take turns (A B C, B C A, ...) running blocks; a block is every thread making the same
number of calls at once, released together, and its rate is all those calls over the block's wall
time. A rate is the median over rounds; a ratio is the median of the per-round ratios of rates.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

import ortbind
from ortbind._bench.contenders import ONNX_ELEMENT
from ortbind._bench.floor import Floor, FloorBuild, build_floor

from .workloads import Workload, many_io, overhead, small_models

ROOT = Path(__file__).resolve().parent.parent
FT_PYTHON = ROOT / ".venv-ft" / "bin" / "python"
MODES = {
    # mode: (rounds, seconds a block, warm-up calls)
    "full": (15, 0.05, 2000),
    "quick": (7, 0.03, 500),
    "smoke": (2, 0.005, 20),
}
MODE_FLAGS = {"full": [], "quick": ["--quick"], "smoke": ["--smoke"]}
TARGETS = {
    "floor": "without the GIL, ortbind's 2-thread rate at least 0.95x the C++ floor's 2-thread rate, same options",
    "official": "ortbind ahead of the official binding's free-threaded wheel at every thread count",
}


def workloads() -> list[Workload]:
    return [*overhead(), *many_io([8]), small_models()[0]]


def thread_counts() -> list[int]:
    return sorted({1, 2, os.cpu_count() or 2})


class Team:
    """``threads`` Python threads that make ``n`` calls of ``call`` each when released together;
    :meth:`block` returns the wall time (ns) from their release to the last one's end. The threads
    live as long as the team, so that no block pays for starting them."""

    def __init__(self, call: Callable[[], object], threads: int) -> None:
        self._call = call
        self._n = 0
        self._stop = False
        self._start = threading.Barrier(threads + 1)
        self._done = threading.Barrier(threads + 1)
        self._errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while True:
            self._start.wait()
            if self._stop:
                return
            try:
                call = self._call
                for _ in range(self._n):
                    call()
            except BaseException as error:  # raised again by block()
                self._errors.append(error)
            self._done.wait()

    def block(self, n: int) -> int:
        self._n = n
        self._start.wait()
        started = time.perf_counter_ns()
        self._done.wait()
        wall = time.perf_counter_ns() - started
        if self._errors:
            raise self._errors[0]
        return wall

    def close(self) -> None:
        self._stop = True
        self._start.wait()
        for thread in self._threads:
            thread.join()


@dataclass
class Runner:
    """One contender at one thread count: ``block(n)`` gives the wall time (ns) of n calls on each thread."""

    name: str
    threads: int
    block: Callable[[int], int]


@dataclass
class Contenders:
    runners: list[Runner]
    closers: list[Callable[[], None]]  # in order: the teams, then the sessions they call
    skipped: dict[str, str]


def _floor_block(floor: Floor, threads: int, n: int) -> int:
    return floor.threads_block(threads, n)


def _contenders(workload: Workload, cpu_arena: bool, floor: FloorBuild | None) -> Contenders:
    runners: list[Runner] = []
    closers: list[Callable[[], None]] = []
    skipped: dict[str, str] = {}
    session = ortbind.Session(workload.model, intra_op_threads=1, inter_op_threads=1, cpu_arena=cpu_arena)
    calls: dict[str, Callable[[], object]] = {"ortbind": lambda: session.run(workload.feeds)}
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = cpu_arena
        options.log_severity_level = 3
        official = ort.InferenceSession(workload.model, options, providers=["CPUExecutionProvider"])
        calls["ort"] = lambda: official.run(None, workload.feeds)
    except ImportError:
        skipped["ort"] = "onnxruntime is not installed in this interpreter"
    for name, call in calls.items():
        for threads in thread_counts():
            team = Team(call, threads)
            runners.append(Runner(name, threads, team.block))
            closers.append(team.close)
    if floor is None or floor.binary is None:
        skipped["floor"] = "no C++ floor" if floor is None else floor.reason
    else:
        inputs = [(k, v, ONNX_ELEMENT[v.dtype]) for k, v in workload.feeds.items()]
        native = Floor(
            floor.binary, workload.model, inputs, intra_op_threads=1, inter_op_threads=1, cpu_arena=cpu_arena
        )
        for threads in thread_counts():
            runners.append(Runner("floor", threads, functools.partial(_floor_block, native, threads)))
        closers.append(native.close)
    closers.append(session.close)
    return Contenders(runners, closers, skipped)


def measure_workload(workload: Workload, cpu_arena: bool, floor: FloorBuild | None, mode: str) -> dict[str, Any]:
    rounds, block_seconds, warmup = MODES[mode]
    made = _contenders(workload, cpu_arena, floor)
    timed = made.runners
    try:
        for runner in timed:
            runner.block(max(1, warmup // runner.threads))
        # Calls per thread in a block: the block lasts about block_seconds for the slowest contender.
        per_call = max(runner.block(50) / (50 * runner.threads) for runner in timed)
        calls = max(10, int(block_seconds * 1e9 / per_call / max(thread_counts())))
        rates: dict[str, list[float]] = {f"{r.name}/{r.threads}": [] for r in timed}
        for round_number in range(rounds):
            shift = round_number % len(timed)
            for runner in timed[shift:] + timed[:shift]:
                wall = runner.block(calls)
                rates[f"{runner.name}/{runner.threads}"].append(runner.threads * calls / (wall / 1e9))
    finally:
        for close in made.closers:
            close()

    def ratio(a: str, b: str) -> float | None:
        if a not in rates or b not in rates:
            return None
        return float(np.median(np.asarray(rates[a]) / np.asarray(rates[b])))

    rows = []
    for key, values in rates.items():
        name, threads = key.split("/")
        rows.append(
            {
                "contender": name,
                "threads": int(threads),
                "calls_per_s": float(np.median(values)),
                "over_floor": ratio(key, f"floor/{threads}"),
                "over_ort": ratio(key, f"ort/{threads}"),
                "over_1_thread": ratio(key, f"{name}/1"),
            }
        )
    return {"calls_per_thread": calls, "rounds": rounds, "rows": rows, "skipped": made.skipped}


def interpreter() -> dict[str, Any]:
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    return {
        "python": sys.version.split()[0] + ("t" if free_threaded else ""),
        "free_threaded": free_threaded,
        "gil": bool(getattr(sys, "_is_gil_enabled", lambda: True)()),
    }


def measure(mode: str, floor: FloorBuild | None) -> dict[str, Any]:
    """Every workload, arena on and off, in this interpreter."""
    result: dict[str, Any] = {"interpreter": interpreter(), "workloads": {}}
    for workload in workloads():
        for cpu_arena in (True, False):
            key = f"{workload.name} arena {'on' if cpu_arena else 'off'}"
            result["workloads"][key] = measure_workload(workload, cpu_arena, floor, mode)
    return result


def measure_free_threaded(mode: str, out: Path, python: Path = FT_PYTHON) -> dict[str, Any] | None:
    """The same measurement in the free-threaded interpreter's venv (``make build-ft``), in a child
    process; None where that venv is absent."""
    if not python.exists():
        return None
    target = out / "threads-free-threaded.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    subprocess.run(
        [
            str(python),
            "-m",
            "benchmarks.threads",
            *MODE_FLAGS[mode],
            "--json",
            str(target),
            "--floor",
            str(out / "bin"),
        ],
        check=True,
        cwd=ROOT,
        env=env,
    )
    return json.loads(target.read_text())


def _label(run: dict[str, Any]) -> str:
    info = run["interpreter"]
    return f"{info['python']} {'GIL on' if info['gil'] else 'GIL off'}"


def table(runs: list[dict[str, Any]]) -> str:
    rows = []
    for run in runs:
        for workload, entry in run["workloads"].items():
            for row in entry["rows"]:
                rows.append(
                    [
                        _label(run),
                        workload,
                        row["contender"],
                        row["threads"],
                        f"{row['calls_per_s']:,.0f}",
                        "" if row["over_1_thread"] is None else f"{row['over_1_thread']:.2f}x",
                        "" if row["over_floor"] is None else f"{row['over_floor']:.2f}x",
                        "" if row["over_ort"] is None else f"{row['over_ort']:.2f}x",
                    ]
                )
    headers = ["interpreter", "workload", "contender", "threads", "calls/s", "over 1 thread", "over floor", "over ort"]
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def targets(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's two targets, evaluated on the run without the GIL (not measured without one)."""
    free = [run for run in runs if not run["interpreter"]["gil"]]
    if not free:
        why = "not measured: no run without the GIL (on the free-threaded interpreter, import ortbind enables it)"
        return [{"target": text, "measured": why, "holds": None} for text in TARGETS.values()]
    run = free[0]
    floor_cells, official_cells = [], []
    for workload, entry in run["workloads"].items():
        for row in entry["rows"]:
            if row["contender"] != "ortbind":
                continue
            if row["threads"] == 2 and row["over_floor"] is not None:
                floor_cells.append((workload, row["over_floor"]))
            if row["over_ort"] is not None:
                official_cells.append((f"{workload}, {row['threads']} thr", row["over_ort"]))

    def cell(cells: list[tuple[str, float]], bound: float) -> dict[str, Any]:
        if not cells:
            return {"measured": "not measured", "holds": None}
        text = "; ".join(f"{name} {value:.2f}x" for name, value in cells)
        return {"measured": text, "holds": all(value >= bound for _, value in cells)}

    return [
        {"target": TARGETS["floor"], **cell(floor_cells, 0.95)},
        {"target": TARGETS["official"], **cell(official_cells, 1.0)},
    ]


def section(runs: list[dict[str, Any]]) -> str:
    """The rows of every run and the targets as measured: the body of the benchmark page's section."""
    checks = tabulate(
        [[t["target"], t["measured"], {True: "yes", False: "no", None: "-"}[t["holds"]]] for t in targets(runs)],
        ["target", "measured", "holds"],
        tablefmt="github",
    )
    return f"{table(runs)}\n\n{checks}"


def report(runs: list[dict[str, Any]]) -> str:
    return f"## Threads on one session, per-call workloads\n\n{section(runs)}\n"


def run(mode: str, out: Path) -> dict[str, Any]:
    """This interpreter's measurement and the free-threaded venv's beside it; writes ``threads.md``
    and ``threads.json`` into ``out`` and returns the runs and the targets as measured."""
    out.mkdir(parents=True, exist_ok=True)
    runs = [measure(mode, build_floor(out / "bin"))]
    free = measure_free_threaded(mode, out)
    if free is not None:
        runs.append(free)
    result = {"runs": runs, "targets": targets(runs)}
    (out / "threads.md").write_text(report(runs))
    (out / "threads.json").write_text(json.dumps(result, indent=1))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.threads", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="fewer rounds, shorter blocks")
    group.add_argument("--smoke", action="store_true", help="the smallest run (for the test suite)")
    parser.add_argument("--json", type=Path, help="only measure this interpreter, into this file")
    parser.add_argument("--floor", type=Path, help="the C++ floor's build folder (with --json)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    if args.json is not None:
        args.json.write_text(json.dumps(measure(mode, build_floor(args.floor))))
        return 0
    run(mode, args.out)
    print((args.out / "threads.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
