"""Child program: an output outlives its closed session and the environment, and once both are gone a
new environment with other settings can be made. Prints "ok".

Run by tests/test_core_session.py.
"""

from __future__ import annotations

import gc

import numpy as np

import ortbind
from support import models


def main() -> None:
    env = ortbind.Env(log_level="error", log_id="lifetime")
    session = ortbind.Session(models.identity(), env=env)
    y = session.run({"x": np.arange(1 << 16, dtype=np.float32)})["y"]
    session.close()
    del session, env
    gc.collect()
    # The environment is gone (a new one with other settings can be made), the output lives.
    other = ortbind.Env(log_level="warning", log_id="next")
    assert other.log_id == "next"
    assert y.sum() == np.arange(1 << 16, dtype=np.float32).sum()
    print("ok")


if __name__ == "__main__":
    main()
