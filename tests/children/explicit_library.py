"""Child program: with ORTBIND_LIBRARY set, ortbind loads that runtime and runs a model with it.
Prints the model's output (4.0).

Usage: explicit_library.py EXPECTED_RUNTIME_PATH (run by tests/test_core_loader.py)
"""

from __future__ import annotations

import sys

import numpy as np

import ortbind
from support import models


def main() -> None:
    expected = sys.argv[1]
    assert expected == ortbind.runtime.RUNTIME_PATH, (ortbind.runtime.RUNTIME_PATH, expected)
    s = ortbind.Session(models.add_one_element())
    print(s.run({"x": np.array([2.0], np.float32)})["y"][0])


if __name__ == "__main__":
    main()
