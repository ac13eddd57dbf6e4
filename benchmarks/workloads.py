"""The workloads, all made here: models from support/models.py (the onnx helper API), a scikit-learn
model converted with skl2onnx, and the architectures shipped in the onnx wheel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from support import models


@dataclass
class Workload:
    name: str
    group: str  # overhead | payload | io | small | sklearn | architecture
    model: bytes
    feeds: dict[str, np.ndarray]
    calls: int  # calls per timed block
    payload_bytes: int = 0
    io_count: int = 0
    notes: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def overhead() -> list[Workload]:
    return [
        Workload(
            "add1",
            "overhead",
            models.add_one_element(),
            {"x": np.array([1.5], np.float32)},
            400,
            payload_bytes=4,
            notes="one-element Add: the per-call overhead",
        )
    ]


def payload(sizes: list[int]) -> list[Workload]:
    result = []
    for size in sizes:
        n = max(1, size // 4)
        calls = int(np.clip(2_000_000 // max(size, 1), 3, 400))
        result.append(
            Workload(
                f"identity_{_human(size)}",
                "payload",
                models.identity(shape=["n"]),
                {"x": np.ones(n, np.float32)},
                calls,
                payload_bytes=n * 4,
                notes=f"Identity of a {_human(size)} float32 array",
            )
        )
    return result


def many_io(counts: list[int]) -> list[Workload]:
    return [
        Workload(
            f"io{c}",
            "io",
            models.many_io(c),
            {f"x{i}": np.array([i], np.float32) for i in range(c)},
            300,
            io_count=c,
            notes=f"{c} inputs and {c} outputs of one float",
        )
        for c in counts
    ]


def small_models() -> list[Workload]:
    rng = _rng()
    return [
        Workload(
            "mlp_b1",
            "small",
            models.mlp(),
            {"x": rng.standard_normal((1, 64)).astype(np.float32)},
            300,
            notes="MLP 64-128-10, batch 1",
        ),
        Workload(
            "mlp_b64",
            "small",
            models.mlp(),
            {"x": rng.standard_normal((64, 64)).astype(np.float32)},
            200,
            notes="MLP 64-128-10, batch 64",
        ),
        Workload(
            "convnet_b1",
            "small",
            models.conv_net(),
            {"x": rng.standard_normal((1, 3, 32, 32)).astype(np.float32)},
            60,
            notes="small conv net, one 3x32x32 image",
        ),
        Workload(
            "encoder_b1_s16",
            "small",
            models.encoder_block(),
            {"x": rng.standard_normal((1, 16, 64)).astype(np.float32)},
            100,
            notes="transformer encoder block, 16 tokens of 64",
        ),
    ]


def sklearn_models() -> list[Workload]:
    try:
        from skl2onnx import to_onnx
        from sklearn.datasets import make_classification
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        return []
    x, y = make_classification(n_samples=500, n_features=20, n_informative=10, n_classes=3, random_state=0)
    x = x.astype(np.float32)
    result = []
    for name, label, estimator in (
        (
            "sklearn_logreg_b1",
            "scaler and logistic regression",
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
        ),
        ("sklearn_forest_b1", "random forest", RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0)),
    ):
        estimator.fit(x, y)
        onnx_model = to_onnx(estimator, x[:1], options={"zipmap": False}, target_opset=17)
        result.append(
            Workload(
                name,
                "sklearn",
                onnx_model.SerializeToString(),
                {"X": x[:1].copy()},
                300,
                notes=f"scikit-learn {label} (skl2onnx, zipmap off), batch 1",
            )
        )
    return result


def architectures(names: list[str]) -> list[Workload]:
    import onnx

    folder = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    result = []
    for name in names:
        path = folder / f"light_{name}.onnx"
        if not path.exists():
            continue
        model = onnx.load(path)
        initializers = {i.name for i in model.graph.initializer}
        graph_input = next(i for i in model.graph.input if i.name not in initializers)
        shape = [d.dim_value or 1 for d in graph_input.type.tensor_type.shape.dim]
        feeds = {graph_input.name: _rng().standard_normal(shape).astype(np.float32)}
        result.append(
            Workload(
                name,
                "architecture",
                path.read_bytes(),
                feeds,
                3,
                notes=f"{ARCHITECTURES.get(name, name)} from the onnx wheel's backend test data",
            )
        )
    return result


ARCHITECTURES = {"squeezenet": "SqueezeNet", "resnet50": "ResNet-50", "densenet121": "DenseNet-121"}


def threads_model() -> Workload:
    """A model of about a millisecond per call with one intra-op thread, for the threads workload."""
    return Workload(
        "convnet_b4", "threads", models.conv_net(), {"x": _rng().standard_normal((4, 3, 32, 32)).astype(np.float32)}, 0
    )


def _human(size: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size // scale}{unit}"
    return f"{size}B"


Plan = dict[str, Callable[[], list[Workload]]]


def plan(mode: str) -> Plan:
    if mode == "smoke":
        return {
            "overhead": overhead,
            "payload": lambda: payload([4, 1 << 20]),
            "io": lambda: many_io([1, 8]),
            "small": lambda: small_models()[:1],
            "sklearn": lambda: sklearn_models()[:1],
            "architecture": lambda: architectures(["squeezenet"]),
        }
    if mode == "quick":
        return {
            "overhead": overhead,
            "payload": lambda: payload([4, 1 << 10, 1 << 16, 1 << 20, 16 << 20]),
            "io": lambda: many_io([1, 8, 64]),
            "small": small_models,
            "sklearn": sklearn_models,
            "architecture": lambda: architectures(["squeezenet"]),
        }
    return {
        "overhead": overhead,
        "payload": lambda: payload([4, 64, 1 << 10, 16 << 10, 256 << 10, 4 << 20, 64 << 20]),
        "io": lambda: many_io([1, 8, 64]),
        "small": small_models,
        "sklearn": sklearn_models,
        "architecture": lambda: architectures(["squeezenet", "resnet50", "densenet121"]),
    }
