"""rapidocr (RapidAI's OCR on PaddleOCR models): text drawn here with OpenCV, detected, classified and
recognized. rapidocr sets SessionOptions attributes, gives the CPU provider an options dict, checks
``isinstance(session, InferenceSession)`` and reads the recognizer's charset from
``get_modelmeta().custom_metadata_map``."""

from __future__ import annotations

from typing import Any

import numpy as np

from support.libraries.scenario import Scenario

LINES = ("ortbind runs ONNX models", "Hello World 2024", "The quick brown fox", "jumps over 13 lazy dogs")


def page() -> Any:
    import cv2

    image = np.full((260, 720, 3), 255, np.uint8)
    for row, text in enumerate(LINES):
        cv2.putText(image, text, (20, 55 + 60 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2, cv2.LINE_AA)
    return image


def main() -> None:
    scenario = Scenario()
    from rapidocr import RapidOCR

    engine = RapidOCR()
    image = page()
    output = scenario.timed("ocr", lambda: engine(image))
    scenario.record("texts", list(output.txts or ()))
    scenario.record("scores", list(output.scores or ()))
    scenario.record("boxes", np.asarray(output.boxes) if output.boxes is not None else None)
    session = engine.text_rec.session.session
    scenario.record("charset_length", len(session.get_modelmeta().custom_metadata_map.get("character", "")))
    scenario.record("providers", session.get_providers())
    scenario.finish()


if __name__ == "__main__":
    main()
