"""Child program: the peak RSS growth of one run with a large input (256 MiB in, one float out) or a
large output (one float in, 256 MiB out), measured from a reset peak (Linux: VmHWM, reset through
/proc/self/clear_refs).

Usage: peak_memory.py input   prints: MiB of peak growth, the output's value (the input's sum)
       peak_memory.py output  prints: MiB of peak growth, the output's MiB, its last element
Run by tests/test_core_values.py.
"""

from __future__ import annotations

import sys

import numpy as np

import ortbind
from support import models


def status_mib(key: str) -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(key))


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mib() -> float:
    return status_mib("VmHWM:")


def large_input() -> None:
    s = ortbind.Session(models.reduce_sum())
    s.run({"x": np.ones(16, np.float32)})
    x = np.ones(64 << 20, np.float32)
    reset_peak()
    before = status_mib("VmRSS:")
    y = s.run({"x": x})["y"]
    print(peak_mib() - before, float(y))


def large_output() -> None:
    s = ortbind.Session(models.expand())
    s.run({"x": np.ones(1, np.float32), "shape": np.array([16], np.int64)})
    reset_peak()
    before = status_mib("VmRSS:")
    y = s.run({"x": np.full(1, 3.0, np.float32), "shape": np.array([64 << 20], np.int64)})["y"]
    print(peak_mib() - before, y.nbytes >> 20, float(y[-1]))


def main() -> None:
    {"input": large_input, "output": large_output}[sys.argv[1]]()


if __name__ == "__main__":
    main()
