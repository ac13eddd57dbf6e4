"""Child program: RSS and Python-object growth over many runs of one session, and RSS growth over many
session create/run/close cycles. Prints three numbers: MiB grown over 100,000 runs, bytes of Python
objects grown over 20,000 runs, MiB grown over 1,000 session cycles.

Run by tests/test_robustness.py.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

import ortbind
from support import models


def rss() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main() -> None:
    data = models.mlp()
    s = ortbind.Session(data)
    feeds = {"x": np.ones((4, 64), np.float32)}
    for _ in range(2000):
        s.run(feeds)
    gc.collect()
    base = rss()
    for _ in range(100_000):
        s.run(feeds)
    gc.collect()
    runs = rss() - base
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    for _ in range(20_000):
        s.run(feeds)
    gc.collect()
    py_growth = sum(st.size_diff for st in tracemalloc.take_snapshot().compare_to(snap0, "filename"))
    tracemalloc.stop()
    for _ in range(50):
        ortbind.Session(data).close()
    gc.collect()
    base = rss()
    for _ in range(1000):
        t = ortbind.Session(data)
        t.run(feeds)
        t.close()
    gc.collect()
    sessions = rss() - base
    print(runs, py_growth, sessions)


if __name__ == "__main__":
    main()
