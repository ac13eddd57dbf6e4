"""insightface (DeepInsight's face analysis): an ArcFace-shaped recognition model and a gender/age
model, made here with the onnx helper API (the library downloads its own), routed by
``model_zoo.get_model`` and run on synthesized images. insightface subclasses InferenceSession
(``PickableInferenceSession``, pickled by calling ``__init__`` again), reads ``_providers`` and
``_provider_options``, calls ``set_providers`` and ``get_provider_options``."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from support.libraries.scenario import Scenario


def conv_model(path: Path, size: int, outputs: int, seed: int) -> None:
    """data: float[None, 3, size, size] -> Conv(stride 4) -> Relu -> GlobalAveragePool -> Gemm ->
    float[None, outputs]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = {
        "conv_w": rng.standard_normal((16, 3, 5, 5)).astype(np.float32) * 0.1,
        "conv_b": rng.standard_normal(16).astype(np.float32) * 0.1,
        "fc_w": rng.standard_normal((16, outputs)).astype(np.float32),
        "fc_b": rng.standard_normal(outputs).astype(np.float32) * 0.1,
    }
    nodes = [
        helper.make_node("Conv", ["data", "conv_w", "conv_b"], ["conv"], strides=[4, 4], pads=[2, 2, 2, 2]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["fc1"]),
    ]
    graph = helper.make_graph(
        nodes,
        "scenario",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [None, 3, size, size])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [None, outputs])],
        [numpy_helper.from_array(value, name) for name, value in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def images(count: int, size: int) -> list[np.ndarray]:
    y, x = np.mgrid[0:size, 0:size]
    return [
        np.stack([(x * (3 + i) + y * 5) % 256, (x * 7 + y * (2 + i)) % 256, (x + y + 40 * i) % 256], axis=-1).astype(
            np.uint8
        )
        for i in range(count)
    ]


def main() -> None:
    scenario = Scenario()
    from insightface.app.common import Face
    from insightface.model_zoo import get_model

    recognition_path, attribute_path = scenario.workdir / "arcface.onnx", scenario.workdir / "genderage.onnx"
    conv_model(recognition_path, 112, 128, seed=1)
    conv_model(attribute_path, 96, 3, seed=2)

    recognition = get_model(str(recognition_path), providers=["CPUExecutionProvider"])
    recognition.prepare(ctx_id=-1)
    session = recognition.session
    scenario.record("routed", [type(recognition).__name__, session.get_providers(), session.get_provider_options()])
    scenario.record("private", [session._providers, session._provider_options, Path(session._model_path).name])
    faces = images(4, 112)
    features = scenario.timed("get_feat", lambda: recognition.get_feat(faces))
    scenario.record("features", features)
    scenario.record("similarity", recognition.compute_sim(features[0], features[1]))

    unpickled = pickle.loads(pickle.dumps(session))
    scenario.record("unpickled", [type(unpickled).__name__, unpickled.model_path == session.model_path])
    scenario.record("unpickled_run", unpickled.run(None, {"data": np.ones((1, 3, 112, 112), np.float32)}))

    attribute = get_model(str(attribute_path), providers=["CPUExecutionProvider"])
    attribute.prepare(ctx_id=-1)
    picture = images(1, 160)[0]

    def gender_age() -> list[tuple[int, int]]:
        found = []
        for box in ([20, 20, 120, 130], [40, 30, 150, 150], [0, 0, 159, 159]):
            face = Face(bbox=np.array(box, np.float32))
            gender, age = attribute.get(picture, face)
            found.append((int(gender), int(age)))
        return found

    scenario.record("attribute", [type(attribute).__name__, attribute.taskname])
    scenario.record("gender_age", scenario.timed("gender_age", gender_age))
    scenario.finish()


if __name__ == "__main__":
    main()
