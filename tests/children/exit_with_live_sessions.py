"""Child program: the interpreter exits while sessions, their outputs, a run on a daemon thread and a
run_async on a session's own pool are all alive. Prints "bye" and must exit cleanly.

Usage: exit_with_live_sessions.py NODES (the length of the slow matmul chain; run by
tests/test_robustness.py)
"""

from __future__ import annotations

import sys
import threading

import numpy as np

import ortbind
from tests import models

# Everything made in main() stays referenced from here, so it is alive when the interpreter exits.
ALIVE: list[object] = []


def main() -> None:
    nodes = int(sys.argv[1])
    env = ortbind.Env(log_level="error", log_id="exit")
    sessions = [ortbind.Session(models.mlp(), env=env) for _ in range(3)]
    outputs = [s.run({"x": np.ones((2, 64), np.float32)}) for s in sessions]
    slow = ortbind.Session(models.matmul_chain(nodes, 256), env=env)
    threading.Thread(target=lambda: slow.run({"x": np.eye(256, dtype=np.float32)}), daemon=True).start()
    pooled = ortbind.Session(models.matmul_chain(nodes, 256), env=env, intra_op_threads=2)
    pooled._run_async({"x": np.eye(256, dtype=np.float32)}, callback=lambda result, error, session: None)
    ALIVE.extend([env, sessions, outputs, slow, pooled])
    print("bye")


if __name__ == "__main__":
    main()
