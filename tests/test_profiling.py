"""ONNX Runtime's profiler: profile= at creation, end_profiling() returns the trace it wrote."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

import ortbind
from support import models


def test_profile_writes_node_events(tmp_path: Path) -> None:
    before = time.time_ns()
    session = ortbind.Session(models.mlp(), profile=tmp_path / "p")
    x = np.ones((2, 64), np.float32)
    session.run({"x": x})
    assert session.profiling_start_ns >= before
    path = Path(session.end_profiling())
    assert path.is_file() and path.parent == tmp_path and path.name.startswith("p")
    events = json.loads(path.read_text())
    assert isinstance(events, list)
    nodes = [event for event in events if event.get("cat") == "Node"]
    assert nodes, "no node events in the profile"
    assert all("name" in event and "dur" in event for event in nodes)


def test_end_profiling_without_profile_returns_empty() -> None:
    session = ortbind.Session(models.add())
    assert session.end_profiling() == ""


def test_end_profiling_on_closed_session() -> None:
    session = ortbind.Session(models.add())
    session.close()
    with pytest.raises(ortbind.ClosedError):
        session.end_profiling()


def test_profile_prefix_with_nul_is_refused() -> None:
    with pytest.raises(ortbind.InvalidValueError, match="NUL"):
        ortbind.Session(models.add(), profile="a\0b")
