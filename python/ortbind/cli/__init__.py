"""The ``ortbind`` command line (also ``python -m ortbind``): your model, your numbers.

- ``ortbind info MODEL``: inputs and outputs with their contract, metadata, opsets, external data,
  this runtime's execution providers (``--json`` for machines);
- ``ortbind check MODEL``: ortbind's outputs against the official binding's, bit for bit;
- ``ortbind bench MODEL``: the benchmark suite's method on the model (``--profile``: where the time goes).

A user's mistake (a missing file, a file that is not a model, a ``--dim`` naming no dim, feeds that
do not fit) ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import _core
from . import bench, check, info
from ._common import UsageError

__all__ = ["UsageError", "main"]


def parser() -> argparse.ArgumentParser:
    import importlib.metadata

    top = argparse.ArgumentParser(
        prog="ortbind",
        description="Run your ONNX model through ortbind: what it takes and gives (info), whether ortbind "
        "gives the official binding's answers bit for bit (check), how fast it runs and where the time goes "
        "(bench).",
    )
    top.add_argument(
        "--version",
        action="version",
        version=f"ortbind {importlib.metadata.version('ortbind')} (ONNX Runtime {_core.RUNTIME_VERSION})",
    )
    subparsers = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    info.add_parser(subparsers)
    check.add_parser(subparsers)
    bench.add_parser(subparsers)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except UsageError as error:
        print(f"ortbind {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ortbind {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (| head): the rest of the output goes nowhere, quietly,
        # including what the interpreter flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status
