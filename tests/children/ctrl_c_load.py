"""Child program: a SIGINT sent to itself while the 2 GiB model is being made from memory (its
tables copied, which takes seconds). Prints "interrupted SECONDS" (or "made SECONDS" if the load was
not stopped), then "usable True" when a session is made and runs afterwards.

Usage: ctrl_c_load.py FOLDER (run by tests/test_runtime_api.py)
"""

from __future__ import annotations

import mmap
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

import ortbind
from support import models


def main() -> None:
    folder = Path(sys.argv[1])
    width = 1024
    path = models.huge_model(folder, (1 << 30) // (width * 4) + 1024, width)
    with open(folder / "tables.bin", "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        view = memoryview(data)
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        start = time.perf_counter()
        try:
            ortbind.Session(path.read_bytes(), external_data={"tables.bin": view}, optimization="disabled")
            print("made", time.perf_counter() - start)
        except KeyboardInterrupt:
            print("interrupted", time.perf_counter() - start)
        view.release()
    session = ortbind.Session(models.add())
    x = np.ones((2, 3), np.float32)
    print("usable", bool((session.run({"x": x, "y": x})["z"] == 2).all()))


if __name__ == "__main__":
    main()
