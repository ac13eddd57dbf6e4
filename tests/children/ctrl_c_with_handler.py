"""Child program: a SIGINT during a long run while the user's own SIGINT handler is installed: the
handler runs and the run ends with ortbind.Cancelled. Prints "cancelled ['handled']".

Usage: ctrl_c_with_handler.py NODES (the length of the matmul chain; run by tests/test_cancel.py)
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import numpy as np

import ortbind
from support import models


def main() -> None:
    nodes = int(sys.argv[1])
    seen: list[str] = []
    signal.signal(signal.SIGINT, lambda *a: seen.append("handled"))
    s = ortbind.Session(models.matmul_chain(nodes, 256), intra_op_threads=1)
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        s.run({"x": np.eye(256, dtype=np.float32)})
    except ortbind.Cancelled:
        print("cancelled", seen)


if __name__ == "__main__":
    main()
