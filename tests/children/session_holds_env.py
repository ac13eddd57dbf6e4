"""Child program: a session keeps its environment alive after the Env handle is gone, so a conflicting
environment is refused. Prints "refused: True" and then the session's output (2.0).

Run by tests/test_core_session.py.
"""

from __future__ import annotations

import gc

import numpy as np

import ortbind
from support import models


def main() -> None:
    session = ortbind.Session(models.add_one_element(), env=ortbind.Env(log_level="error", log_id="held"))
    gc.collect()
    # The Env handle is gone, but the session keeps the environment alive: a conflicting one is refused.
    try:
        ortbind.Env(log_level="warning")
    except ortbind.EnvError as error:
        print("refused:", "log_id='held'" in str(error))
    assert session.env.log_id == "held"
    print(session.run({"x": np.array([1.0], np.float32)})["y"][0])


if __name__ == "__main__":
    main()
