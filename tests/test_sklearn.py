"""scikit-learn pipelines converted with skl2onnx: labels and probabilities equal the official
binding's (bit for bit) and scikit-learn's own (within float32 tolerance), ZipMap on and off."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ortbind

skl2onnx = pytest.importorskip("skl2onnx")
sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def official(model: bytes) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=0)
    return x.astype(np.float32), y


@pytest.mark.parametrize("zipmap", [True, False])
@pytest.mark.parametrize(
    "make",
    [
        lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        lambda: RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0),
    ],
)
def test_classifier(data: tuple[np.ndarray, np.ndarray], zipmap: bool, make: Any) -> None:
    x, y = data
    estimator = make().fit(x, y)
    onnx_model = skl2onnx.to_onnx(estimator, x[:1], options={"zipmap": zipmap}, target_opset=17).SerializeToString()
    session = ortbind.Session(onnx_model)
    result = session.run({"X": x})
    labels = result.extract(0, np.int64)  # skl2onnx names them output_label/label by option
    np.testing.assert_array_equal(labels, estimator.predict(x))
    theirs = official(onnx_model).run(None, {"X": x})
    np.testing.assert_array_equal(labels, theirs[0])
    if zipmap:
        assert session.outputs[1].type == "sequence<map<int64, float32>>"
        rows = result.extract(1, list)
        assert rows == theirs[1]
        probs = np.array([[row[k] for k in sorted(row)] for row in rows])
    else:
        probs = result.extract(1, np.float32)
        assert probs.tobytes() == theirs[1].tobytes()
    np.testing.assert_allclose(probs, estimator.predict_proba(x), rtol=1e-4, atol=1e-5)


def test_regressor() -> None:
    x, y = make_regression(n_samples=200, n_features=6, random_state=0)
    x = x.astype(np.float32)
    estimator = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(x, y)
    onnx_model = skl2onnx.to_onnx(estimator, x[:1], target_opset=17).SerializeToString()
    session = ortbind.Session(onnx_model)
    for batch in (x[:1], x):
        ours = session.run({"X": batch}).one()
        assert ours.tobytes() == official(onnx_model).run(None, {"X": batch})[0].tobytes()
        np.testing.assert_allclose(ours[:, 0], estimator.predict(batch), rtol=1e-4, atol=1e-3)
