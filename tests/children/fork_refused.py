"""Child program: a session inherited through fork is refused in the forked process with a
ClosedError that says so, a fresh session works there, and the parent's session still runs.
Prints the forked process's exit code (0) and the parent's output shape.

Run by tests/test_pickle.py.
"""

from __future__ import annotations

import os

import numpy as np

import ortbind
from support import models


def main() -> None:
    s = ortbind.Session(models.mlp())
    x = np.ones((1, 64), np.float32)
    s.run({"x": x})
    pid = os.fork()
    if pid == 0:
        try:
            s.run({"x": x})
            os._exit(3)
        except ortbind.ClosedError as e:
            ok = "forked" in str(e)
            fresh = ortbind.Session(models.mlp(), intra_op_threads=1).run({"x": x})["probs"].shape == (1, 10)
            os._exit(0 if ok and fresh else 4)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), s.run({"x": x})["probs"].shape)


if __name__ == "__main__":
    main()
