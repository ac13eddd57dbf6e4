"""Child program: a SIGINT sent to itself DELAY seconds into a long ``ortbind.compat`` run on the main
thread. Prints "interrupted SECONDS" (or "finished SECONDS"), then "usable True" when the session
still runs afterwards.

Usage: compat_ctrl_c.py DELAY NODES (NODES: the length of the matmul chain; run by
tests/test_compat_session.py)
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import numpy as np

import ortbind.compat as ort
from support import models


def main() -> None:
    delay, nodes = float(sys.argv[1]), int(sys.argv[2])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(models.matmul_chain(nodes, 256), options, providers=["CPUExecutionProvider"])
    feeds = {session.get_inputs()[0].name: np.eye(256, dtype=np.float32)}
    threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT)).start()
    start = time.perf_counter()
    try:
        session.run(None, feeds)
        print("finished", time.perf_counter() - start)
    except KeyboardInterrupt:
        print("interrupted", time.perf_counter() - start)
    limit = ort.RunOptions()
    limit.timeout = 0.05
    try:
        session.run(None, feeds, limit)
    except ort.Fail:
        print("usable", signal.getsignal(signal.SIGINT) is signal.default_int_handler)


if __name__ == "__main__":
    main()
