"""What every scenario script shares: its command line, the install of ortbind.compat, timing the
library's calls, and the JSON report it prints last on stdout.

A scenario runs as ``python <library>.py official|compat WORKDIR [--repeat N]`` in the library's own
environment. With ``compat`` it calls ``ortbind.compat.install()`` before it imports the library.
:func:`finish` prints one JSON line: ``results`` (what the library returned, as plain data, compared
for equality across the two modes), ``timings`` (seconds per call of each timed call), and what the
process loaded (the official extension, the ONNX Runtime libraries), read from /proc/self/maps.

Only numpy and the standard library are needed here: the environments hold the libraries, not the
test suite's packages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

_T = TypeVar("_T")


class Scenario:
    def __init__(self) -> None:
        parser = argparse.ArgumentParser()
        parser.add_argument("mode", choices=["official", "compat"])
        parser.add_argument("workdir", type=Path)
        parser.add_argument("--repeat", type=int, default=5, help="timed calls of each timed step")
        arguments = parser.parse_args()
        self.mode: str = arguments.mode
        self.workdir: Path = arguments.workdir
        self.repeat: int = arguments.repeat
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.results: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        if self.mode == "compat":
            import ortbind.compat

            ortbind.compat.install()

    def timed(self, name: str, call: Callable[[], _T]) -> _T:
        """``call()``'s result, and its time: the median over ``repeat`` blocks of calls, each block
        long enough (about 50 ms) for the clock, divided by the calls in a block. The first call is a
        warm-up: it pays for what a library loads and caches on first use; the second sizes the
        blocks."""
        result = call()
        start = time.perf_counter()
        call()
        calls = max(1, int(0.05 / max(time.perf_counter() - start, 1e-6)))
        blocks = []
        for _ in range(self.repeat):
            start = time.perf_counter()
            for _ in range(calls):
                call()
            blocks.append((time.perf_counter() - start) / calls)
        self.timings[name] = statistics.median(blocks)
        return result

    def record(self, name: str, value: Any) -> None:
        self.results[name] = plain(value)

    def finish(self) -> None:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
        report = {
            "mode": self.mode,
            "results": self.results,
            "timings": self.timings,
            "official_extension_loaded": any("onnxruntime_pybind11_state" in p for p in paths),
            "runtimes": sorted(p for p in paths if "libonnxruntime.so" in p),
            "onnxruntime_module": getattr(sys.modules.get("onnxruntime"), "__name__", None),
        }
        print(json.dumps(report))


def plain(value: Any) -> Any:
    """``value`` as JSON data that keeps every number exactly: arrays as dtype, shape and values."""
    if isinstance(value, np.ndarray):
        return {"dtype": str(value.dtype), "shape": list(value.shape), "values": plain(value.tolist())}
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, float):
        return repr(value)  # exact, and NaN and infinities survive JSON
    if value is None or isinstance(value, bool | int | str):
        return value
    return repr(value)
