"""ortbind.compat.install(): ``import onnxruntime`` gives compat in a fresh interpreter, never loads the
official extension (checked in the process's mapped libraries), and can be undone. Each case runs in
a child program, since the test process itself imports the official binding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import onnxruntime as official

from tests.helpers import run_child


def child(case: str) -> dict[str, Any]:
    done = run_child("compat_install", case)
    assert done.returncode == 0, done.stderr
    facts: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return facts


def test_install_serves_onnxruntime_without_loading_the_official_extension() -> None:
    facts = child("install")
    assert facts["is_compat"] and facts["capi"] and facts["errors_are_ortbind"] and facts["installed"]
    assert facts["output"] == [3.0] and facts["refused"] == "InvalidArgument"
    assert facts["extension"] == []
    # One runtime in the process: the library the onnxruntime wheel ships, found before install().
    wheel_capi = Path(official.__file__).parent / "capi"
    assert facts["runtimes"] == [facts["runtime_path"]]
    assert Path(facts["runtime_path"]).parent == wheel_capi


def test_uninstall_gives_the_official_package_back() -> None:
    facts = child("uninstall")
    assert not facts["installed"] and not facts["is_compat"]
    assert facts["official_module"] == "onnxruntime.capi.onnxruntime_inference_collection"


def test_install_after_the_official_package_is_refused() -> None:
    facts = child("late")
    assert not facts["installed"] and "already imported" in facts["refused"]
