"""Child program: the interpreter exits while sessions, their outputs, a run on a daemon thread, a
run_async on a session's own pool, and daemon threads calling run and a binding's run in a loop
are all alive. Prints "bye" and must exit cleanly (a loop's thread that takes the GIL back while
the interpreter finalizes must not bring the process down).

Usage: exit_with_live_sessions.py NODES (the length of the slow matmul chain; run by
tests/test_robustness.py)
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable

import numpy as np

import ortbind
from support import models

# Everything made in main() stays referenced from here, so it is alive when the interpreter exits.
ALIVE: list[object] = []
# Released by the interpreter itself as it clears this module, on the thread that finalizes it.
GLOBAL_SESSION: ortbind.Session | None = None


def main() -> None:
    nodes = int(sys.argv[1])
    global GLOBAL_SESSION
    env = ortbind.Env(log_level="error", log_id="exit")
    GLOBAL_SESSION = ortbind.Session(models.add_one_element(), env=env)
    sessions = [ortbind.Session(models.mlp(), env=env) for _ in range(3)]
    outputs = [s.run({"x": np.ones((2, 64), np.float32)}) for s in sessions]
    slow = ortbind.Session(models.matmul_chain(nodes, 256), env=env)
    threading.Thread(target=lambda: slow.run({"x": np.eye(256, dtype=np.float32)}), daemon=True).start()
    pooled = ortbind.Session(models.matmul_chain(nodes, 256), env=env, intra_op_threads=2)
    pooled._run_async({"x": np.eye(256, dtype=np.float32)}, callback=lambda result, error, session: None)
    small = ortbind.Session(models.add(), env=env)
    binding = small.bind()
    feeds = {"x": np.ones((2, 3), np.float32), "y": np.ones((2, 3), np.float32)}

    def loop(run: Callable[[], object]) -> None:
        while True:
            with contextlib.suppress(ortbind.Error):  # runs started at exit are terminated at once
                run()

    for run in (lambda: small.run(feeds), lambda: binding.run(feeds)):
        threading.Thread(target=loop, args=(run,), daemon=True).start()
    ALIVE.extend([env, sessions, outputs, slow, pooled, small, binding])
    print("bye")


if __name__ == "__main__":
    main()
