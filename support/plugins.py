"""Libraries from PyPI wheels for the tests, pinned by version and wheel hash: an execution provider
library (plugin) that runs on a CPU, onnxruntime-ggml; and an older ONNX Runtime (1.21), ortbind's
oldest, to show each newer feature refused alone.

The wheel is fetched with pip (``--no-deps``: its metadata asks for an older onnxruntime than the
one it runs with) into the cache beside the real models (``$ORTBIND_MODEL_CACHE``, else
``~/.cache/ortbind/real-models``) and unpacked whole, since the plugin loads the libgomp the wheel
carries beside it. Where pip cannot reach the index, :func:`ggml_library` raises
``ModelUnavailable`` (the tests skip).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .real_models import ModelUnavailable, cache_root

GGML_PACKAGE = "onnxruntime-ggml"
GGML_VERSION = "0.2.0"
GGML_WHEEL_SHA256 = "2342809f3f6dc2d7b6d303f3bcde391ec5ab10177ce45aec9365880aa5914745"
GGML_LIBRARY = "onnxruntime_ggml/lib/libonnxruntime_ggml.so"
# The plugin logs through ONNX Runtime's logger, and also writes its own tracing to stderr unless
# this names a level.
GGML_LOG_ENV = "ORT_GGML_LOG"


def _download(requirement: str, folder: str, target: list[str], sha256: str) -> Path:
    """One wheel from PyPI for Python 3.11 on `target`, checked against its pinned hash."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--disable-pip-version-check", "--python-version", "3.11", *target, requirement, "-d", folder]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise ModelUnavailable(f"pip could not download {requirement} in 300 s (no network?)") from None
    wheels = sorted(Path(folder).glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise ModelUnavailable(f"pip download {requirement} failed:\n{done.stderr[-2000:]}")
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != sha256:
        raise RuntimeError(f"{wheels[0].name} has sha256 {digest}, pinned {sha256}")
    return wheels[0]


def ggml_library() -> Path:
    """The plugin's shared library, unpacked in the cache (downloaded once)."""
    folder = cache_root() / f"{GGML_PACKAGE}-{GGML_VERSION}"
    library = folder / GGML_LIBRARY
    if library.is_file():
        return library
    with tempfile.TemporaryDirectory(prefix="ortbind-plugin-") as scratch:
        wheel = _download(f"{GGML_PACKAGE}=={GGML_VERSION}", scratch, ["--platform", "manylinux_2_35_x86_64"],
                          GGML_WHEEL_SHA256)  # fmt: skip
        unpacked = Path(scratch) / "unpacked"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(unpacked)
        (unpacked / GGML_LIBRARY).chmod(0o755)
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.move(str(unpacked), partial)
        os.replace(partial, folder)  # atomic: a reader never sees half a plugin
    return library


OLDER_RUNTIME_VERSION = "1.21.1"
OLDER_RUNTIME_WHEEL_SHA256 = "982dcc04a6688e1af9e3da1d4ef2bdeb11417cf3f8dde81f8f721043c1919a4f"


def older_runtime_library() -> Path:
    """The libonnxruntime.so of an older release (C API 21, ortbind's baseline), from its PyPI wheel:
    ortbind loads it with ORTBIND_LIBRARY and must refuse each newer feature alone."""
    folder = cache_root() / f"onnxruntime-{OLDER_RUNTIME_VERSION}"
    library = folder / f"libonnxruntime.so.{OLDER_RUNTIME_VERSION}"
    if library.is_file():
        return library
    with tempfile.TemporaryDirectory(prefix="ortbind-runtime-") as scratch:
        wheel = _download(
            f"onnxruntime=={OLDER_RUNTIME_VERSION}",
            scratch,
            ["--implementation", "cp", "--abi", "cp311", "--platform", "manylinux_2_27_x86_64"],
            OLDER_RUNTIME_WHEEL_SHA256,
        )
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(f"onnxruntime/capi/libonnxruntime.so.{OLDER_RUNTIME_VERSION}")
        folder.mkdir(parents=True, exist_ok=True)
        partial = library.with_name(f".{library.name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        os.replace(partial, library)
    return library
