"""The command line the request benchmarks (batching.py, serving.py) share when run alone: seconds
per cell and client counts in, ``NAME.json`` and ``NAME.md`` out (``make bench`` runs them inside
the suite and puts their sections in its report)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def main(
    name: str,
    description: str,
    measure: Callable[[list[int], float], dict[str, Any]],
    markdown: Callable[[dict[str, Any]], str],
    duration: float,
    clients: str,
    argv: list[str] | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}", description=description)
    parser.add_argument("--duration", type=float, default=duration, help="seconds per cell")
    parser.add_argument("--clients", default=clients, help="comma-separated counts of concurrent clients")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = measure([int(c) for c in args.clients.split(",")], args.duration)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2))
    text = markdown(results)
    (args.out / f"{name}.md").write_text(text)
    print(text)
    return 0
