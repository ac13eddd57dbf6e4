"""Child program: empty, truncated, random and bit-flipped model bytes, each loaded: every one either
loads or raises an ortbind.Error, never crashes. Prints three numbers: errors, loaded, cases.

Run by tests/test_robustness.py.
"""

from __future__ import annotations

import random

import ortbind
from support import models


def main() -> None:
    valid = models.mlp()
    cases = [b"", b"\0", b"\xff" * 64]
    cases += [valid[:n] for n in sorted({1, 2, 7, 16, 64, 255, 1024, len(valid) // 3, len(valid) // 2, len(valid) - 1})]
    rng = random.Random(0)
    cases += [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))) for _ in range(40)]
    flipped = bytearray(valid)
    for _ in range(40):
        k = rng.randrange(len(flipped))
        mutated = bytearray(flipped)
        mutated[k] ^= 1 << rng.randrange(8)
        cases.append(bytes(mutated))
    outcomes = {"error": 0, "loaded": 0}
    for data in cases:
        try:
            ortbind.Session(data)
        except ortbind.Error:
            outcomes["error"] += 1
        else:
            outcomes["loaded"] += 1
    print(outcomes["error"], outcomes["loaded"], len(cases))


if __name__ == "__main__":
    main()
