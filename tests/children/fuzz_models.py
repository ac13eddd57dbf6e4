"""Child program: mutated valid models (bit flips, truncations, splices) loaded and, when they load,
run with feeds made from their signature. Any exception other than an ortbind.Error, or a crash,
fails the run. Prints one JSON object of counts.

Usage: fuzz_models.py SEED EXAMPLES
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

import numpy as np

import ortbind
from support import models


def mutate(data: bytearray, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 8)):
        action = rng.random()
        k = rng.randrange(len(data))
        if action < 0.6:
            data[k] ^= 1 << rng.randrange(8)
        elif action < 0.8:
            data = data[:k] + data[k + rng.randint(1, 16) :]
        else:
            data[k:k] = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 16)))
    return bytes(data)


def feeds_for(session: ortbind.Session, rng: random.Random) -> dict[str, Any]:
    feeds: dict[str, Any] = {}
    for spec in session.inputs:
        if spec.kind == "tensor" and isinstance(spec.dtype, np.dtype):
            shape = [d if isinstance(d, int) and 0 <= d <= 64 else rng.randint(0, 3) for d in (spec.shape or ())]
            feeds[spec.name] = np.ones(shape, spec.dtype)
        elif spec.kind == "tensor":
            feeds[spec.name] = np.array(["a"] * 2)
        elif spec.kind == "sequence":
            feeds[spec.name] = [np.ones(2, np.float32)] if rng.random() < 0.8 else []
    return feeds


def main() -> None:
    seed, examples = int(sys.argv[1]), int(sys.argv[2])
    seeds = [
        models.mlp(),
        models.add(),
        models.symbolic_pair(),
        models.sequence_model(),
        models.string_model(),
        models.zipmap(),
        models.optional_model(),
        models.conv_net(),
    ]
    rng = random.Random(seed)
    counts = {"examples": examples, "loaded": 0, "refused": 0, "ran": 0, "run_refused": 0}
    for _ in range(examples):
        try:
            session = ortbind.Session(mutate(bytearray(rng.choice(seeds)), rng))
        except ortbind.Error:
            counts["refused"] += 1
            continue
        counts["loaded"] += 1
        try:
            session.run(feeds_for(session, rng))
            counts["ran"] += 1
        except ortbind.Error:
            counts["run_refused"] += 1
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
