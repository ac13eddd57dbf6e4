"""Child program: an environment with global thread pools runs a session, and refuses a session that
asks for its own pool. Prints the row sums of the output, then "refused".

Run by tests/test_core_session.py.
"""

from __future__ import annotations

import numpy as np

import ortbind
from support import models


def main() -> None:
    env = ortbind.Env(global_thread_pools=True, intra_op_threads=1, inter_op_threads=1)
    s = ortbind.Session(models.mlp(), env=env)
    print(s.run({"x": np.ones((2, 64), np.float32)})["probs"].sum(axis=1).round(5).tolist())
    try:
        ortbind.Session(models.mlp(), env=env, intra_op_threads=2)
    except ortbind.InvalidValueError:
        print("refused")


if __name__ == "__main__":
    main()
