"""Child program: a SIGINT sent to itself DELAY seconds into a long run on the main thread. Prints
"interrupted SECONDS" (or "finished SECONDS" if the run was not stopped), then "usable True" when
the session still runs afterwards and Python's own SIGINT handler is back in place.

Usage: ctrl_c.py DELAY NODES (NODES: the length of the matmul chain; run by tests/test_cancel.py)
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import numpy as np

import ortbind
from support import models


def main() -> None:
    delay, nodes = float(sys.argv[1]), int(sys.argv[2])
    s = ortbind.Session(models.matmul_chain(nodes, 256), intra_op_threads=1)
    x = np.eye(256, dtype=np.float32)
    threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT)).start()
    start = time.perf_counter()
    try:
        s.run({"x": x})
        print("finished", time.perf_counter() - start)
    except KeyboardInterrupt:
        print("interrupted", time.perf_counter() - start)
    # Usable afterwards, and Python's own handler is back in place.
    try:
        s.run({"x": x}, timeout=0.05)
    except ortbind.RunTimeout:
        print("usable", signal.getsignal(signal.SIGINT) is signal.default_int_handler)


if __name__ == "__main__":
    main()
