"""Child program of the benchmark suite (suite.measure_memory): the peak RSS growth, from a reset peak
(Linux: VmHWM, reset through /proc/self/clear_refs), of one run with a large input or a large
output, in a fresh process. Prints one JSON object: {"growth": bytes, "payload": bytes}.

Usage: python -m benchmarks.memory_child CONTENDER CASE MIB (from the repository root)
  CONTENDER: ortbind or ort (the official binding); CASE: input or output; MIB: the payload's size.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from support import models


def status(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))


def main() -> None:
    name, case, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n = (mib << 20) // 4
    small: dict[str, np.ndarray[Any, Any]]
    if case == "input":
        model = models.reduce_sum()
        small = {"x": np.ones(16, np.float32)}
    else:
        model = models.expand()
        small = {"x": np.ones(1, np.float32), "shape": np.array([16], np.int64)}
    run: Callable[[dict[str, np.ndarray[Any, Any]]], list[Any]]
    if name.startswith("ortbind"):
        import ortbind

        s = ortbind.Session(model, intra_op_threads=1)

        def run(feeds: dict[str, np.ndarray[Any, Any]]) -> list[Any]:
            return list(s.run(feeds).values())
    else:
        import onnxruntime as ort

        o = ort.InferenceSession(model, providers=["CPUExecutionProvider"])

        def run(feeds: dict[str, np.ndarray[Any, Any]]) -> list[Any]:
            return list(o.run(None, feeds))

    run(small)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to the current RSS
    base = status("VmRSS:")
    if case == "input":
        feeds = {"x": np.ones(n, np.float32)}
        payload = n * 4 + 4
    else:
        feeds = {"x": np.full(1, 2.0, np.float32), "shape": np.array([n], np.int64)}
        payload = n * 4 + 12
    outputs = run(feeds)
    print(json.dumps({"growth": status("VmHWM:") - base, "payload": payload}))
    del outputs  # alive until the peak is read


if __name__ == "__main__":
    main()
