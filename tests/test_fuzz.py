"""Fuzzing model bytes: mutated valid models (bit flips, truncations, splices) are loaded and, when
they load, run with random feeds. Runs in a child process so that a crash is a failure, not the end
of the suite. ``make fuzz`` runs it long (ORTBIND_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os

from conftest import run_python

FUZZ = """
    import random, numpy as np, ortbind, models
    seeds = [models.mlp(), models.add(), models.symbolic_pair(), models.sequence_model(), models.string_model(),
             models.zipmap(), models.optional_model(), models.conv_net()]
    rng = random.Random({seed})
    loaded = ran = refused = 0
    for i in range({examples}):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            action = rng.random()
            k = rng.randrange(len(data))
            if action < 0.6:
                data[k] ^= 1 << rng.randrange(8)
            elif action < 0.8:
                data = data[:k] + data[k + rng.randint(1, 16):]
            else:
                data[k:k] = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 16)))
        try:
            s = ortbind.Session(bytes(data))
        except ortbind.Error:
            refused += 1
            continue
        loaded += 1
        feeds = {{}}
        for spec in s.inputs:
            if spec.kind == "tensor" and isinstance(spec.dtype, np.dtype):
                shape = [d if isinstance(d, int) and 0 <= d <= 64 else rng.randint(0, 3) for d in (spec.shape or ())]
                feeds[spec.name] = np.ones(shape, spec.dtype)
            elif spec.kind == "tensor":
                feeds[spec.name] = np.array(["a"] * 2)
            elif spec.kind == "sequence":
                feeds[spec.name] = [np.ones(2, np.float32)]
        try:
            s.run(feeds)
            ran += 1
        except ortbind.Error:
            pass
    print(loaded, ran, refused)
"""


def test_fuzz_model_bytes() -> None:
    examples = int(os.environ.get("ORTBIND_FUZZ_EXAMPLES", "300"))
    result = run_python(FUZZ.format(seed=1234, examples=examples), timeout=3600)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded, _ran, refused = map(int, result.stdout.split())
    assert loaded + refused == examples
