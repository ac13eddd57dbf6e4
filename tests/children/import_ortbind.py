"""Child program: imports ortbind alone and prints whether that imported the official binding
(onnxruntime): True or False. Run with ORTBIND_LIBRARY pointing elsewhere, the import's error is
what the test reads.

Run by tests/test_core_loader.py.
"""

from __future__ import annotations

import sys

import ortbind


def main() -> None:
    assert ortbind.runtime.RUNTIME_PATH
    print("onnxruntime" in sys.modules)


if __name__ == "__main__":
    main()
