"""Child program: RSS growth of many runs per value kind, each run with a freshly made input object.

Prints one JSON object: kind -> [MiB grown over the measured runs, MiB the inputs of those runs
would hold if each were leaked]. Run by tests/test_robustness.py in a fresh interpreter.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import ortbind
from support import models

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 300


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def fresh_floats() -> np.ndarray[Any, Any]:
    return np.random.default_rng().random(1 << 17, dtype=np.float32)  # 512 KiB


def fresh_small(sizes: Iterator[int]) -> np.ndarray[Any, Any]:
    # About 200 KiB: outputs this small go back to the session's pool (cpp/output_pool.hpp). With
    # several sizes, the pool keeps buffers per set of input shapes and retires the oldest set.
    return np.random.default_rng().random(next(sizes), dtype=np.float32)


def fresh_strings() -> np.ndarray[Any, Any]:
    return np.array([f"{i:0>100}" for i in range(1000)])  # about 400 KiB of UCS-4


def main() -> None:
    identity = ortbind.Session(models.identity())
    strings = ortbind.Session(models.string_model())
    sequences = ortbind.Session(models.sequence_model())
    lengths = ortbind.Session(models.sequence_length())
    maps = ortbind.Session(models.dict_vectorizer())
    optionals = ortbind.Session(models.optional_model())
    checked = ortbind.Session(models.identity(shape=["n"])).with_contract(dims={"n": (1, 1 << 20)})
    loop = asyncio.new_event_loop()
    bound = identity.bind()
    bound_strings = strings.bind()
    bound_x = fresh_floats()
    bound_once = identity.bind(inputs={"x": bound_x}, out={"y": np.empty_like(bound_x)})

    def with_out() -> object:
        x = fresh_floats()
        return identity.run({"x": x}, out={"y": np.empty_like(x)})

    one_size = itertools.cycle([50_000])
    six_sizes = itertools.cycle([50_000 - k for k in range(6)])  # more sets of shapes than the pool keeps
    kinds: dict[str, tuple[Callable[[], object], float]] = {
        "numeric": (lambda: identity.run({"x": fresh_floats()}), 0.5),
        "pooled": (lambda: identity.run({"x": fresh_small(one_size)}), 0.19),
        "pooled_shapes": (lambda: identity.run({"x": fresh_small(six_sizes)}), 0.19),
        "string": (lambda: strings.run({"text": fresh_strings()}), 0.4),
        "string_objects": (lambda: strings.run({"text": fresh_strings().astype(object)}), 0.4),
        "sequence": (lambda: sequences.run({"seq": [fresh_floats(), fresh_floats()]}), 1.0),
        "empty_sequence": (lambda: lengths.run({"seq": []}), 0.0),
        "map": (lambda: maps.run({"features": {"a": 1.0, "b": 2.0, "c": float(np.random.random())}}), 0.0),
        "optional": (lambda: optionals.run({"opt": fresh_floats()}), 0.5),
        "optional_absent": (lambda: optionals.run({"opt": None}), 0.0),
        "out": (with_out, 1.0),
        "run_async": (lambda: loop.run_until_complete(identity.run_async({"x": fresh_floats()})), 0.5),
        "contract": (lambda: checked.run({"x": fresh_floats()}), 0.5),
        "bound": (lambda: bound.run({"x": fresh_floats()}), 0.5),
        "bound_string": (lambda: bound_strings.run({"text": fresh_strings()}), 0.4),
        "bound_once": (bound_once.run, 0.0),
    }
    # Sessions on a plugin provider (onnxruntime-ggml), made, run and closed: given its library's path.
    plugin = os.environ.get("ORTBIND_PLUGIN_LIBRARY")
    if plugin:
        ortbind.runtime.register_provider_library("ggml", plugin)
        mlp = models.mlp()
        on_plugin = ortbind.Session(mlp, providers=[("ggml", {"weights": "f32"})])

        def plugin_session() -> object:
            with ortbind.Session(mlp, providers=[("ggml", {"weights": "f32"})]) as session:
                return session.run({"x": np.random.default_rng().random((4, 64), dtype=np.float32)})

        kinds["plugin_run"] = (
            lambda: on_plugin.run({"x": np.random.default_rng().random((256, 64), dtype=np.float32)}),
            0.06,
        )
        kinds["plugin_session"] = (plugin_session, len(mlp) / 2**20)
    growth: dict[str, list[float]] = {}
    for kind, (run, mib_per_run) in kinds.items():
        for _ in range(RUNS // 5):  # warm-up: arenas and caches reach their size
            run()
        gc.collect()
        base = rss_mib()
        for _ in range(RUNS):
            run()
        gc.collect()
        growth[kind] = [rss_mib() - base, mib_per_run * RUNS]
    loop.close()
    print(json.dumps(growth))


if __name__ == "__main__":
    main()
