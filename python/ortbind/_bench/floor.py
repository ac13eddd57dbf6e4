"""The C++ floors (``floor.cpp``, shipped beside this file): what one call costs in ONNX Runtime itself.

The program is compiled here, on first use, against the ONNX Runtime headers ortbind was built with
(or ``ONNXRUNTIME_ROOT``'s, or the system's) by the C++ compiler (``$CXX``, else ``c++``), and kept
in a cache folder keyed by the source, the headers and the compiler. Where any of these is missing
the build gives the reason instead of a binary, and the benchmark says why it has no floor row.

:class:`FloorProcess` runs it as a child process that times a block of calls on each command
(``run N``: ``OrtApi::Run``; ``bind N``: ``OrtApi::RunWithBinding`` on one binding kept across
calls), so that its blocks interleave with the Python contenders' like any other.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import _core

SOURCE = Path(__file__).with_name("floor.cpp")
HEADER = "onnxruntime_cxx_api.h"


@dataclass(frozen=True)
class FloorBuild:
    """The compiled floor, or why there is none."""

    binary: Path | None
    reason: str = ""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ortbind" / "floor"


def find_headers() -> Path | None:
    """The folder holding ONNX Runtime's C++ headers: ``$ONNXRUNTIME_ROOT/include``, the folder
    ortbind was built with, or ``/usr/include/onnxruntime``."""
    candidates = []
    root = os.environ.get("ONNXRUNTIME_ROOT")
    if root:
        candidates += [Path(root) / "include", Path(root) / "include" / "onnxruntime"]
    candidates += [Path(_core.HEADERS_DIR), Path("/usr/include/onnxruntime")]
    return next((c for c in candidates if (c / HEADER).is_file()), None)


def build_floor(cache: Path | None = None, announce: Callable[[], None] | None = None) -> FloorBuild:
    """Compiles the floor (once per source, headers and compiler) into ``cache``; ``announce`` is
    called first when it must really compile (some seconds)."""
    compiler = os.environ.get("CXX") or "c++"
    compiler_path = shutil.which(compiler)
    if compiler_path is None:
        return FloorBuild(None, f"no C++ compiler ({compiler!r} is not on PATH; set CXX)")
    headers = find_headers()
    if headers is None:
        return FloorBuild(
            None,
            f"no ONNX Runtime headers ({HEADER} is in neither $ONNXRUNTIME_ROOT/include, "
            f"{_core.HEADERS_DIR} nor /usr/include/onnxruntime)",
        )
    key = hashlib.sha256()
    key.update(SOURCE.read_bytes())
    key.update((headers / HEADER).read_bytes())
    key.update(os.fsencode(compiler_path))
    folder = (cache or cache_root()) / key.hexdigest()[:16]
    binary = folder / "floor"
    if binary.is_file():
        return FloorBuild(binary)
    folder.mkdir(parents=True, exist_ok=True)
    if announce is not None:
        announce()
    # Compiled under a name of its own, then moved: a concurrent build never runs half a file.
    partial = folder / f".floor.{os.getpid()}"
    command = [compiler, "-O2", "-std=c++17", "-isystem", str(headers), str(SOURCE), "-o", str(partial), "-ldl"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        return FloorBuild(None, f"the C++ floor did not compile: {error}")
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if "error" in line] or done.stderr.splitlines()
        return FloorBuild(
            None, f"the C++ floor did not compile: {lines[0] if lines else 'exit ' + str(done.returncode)}"
        )
    os.replace(partial, binary)
    return FloorBuild(binary)


class FloorError(RuntimeError):
    """The floor program did not start on this model (its own message says why)."""


class FloorProcess:
    """The C++ floor on one model and one set of inputs, as a child process driven block by block."""

    def __init__(
        self,
        binary: Path,
        model: str | os.PathLike[str] | bytes,
        inputs: Sequence[tuple[str, np.ndarray[Any, Any], int]],
        command: str = "run",
        *,
        intra_op_threads: int = 1,
        inter_op_threads: int = 1,
    ) -> None:
        """``inputs`` are (name, array, ONNX element code); ``command`` is ``run`` or ``bind``."""
        self._command = command
        self._dir = tempfile.TemporaryDirectory(prefix="ortbind-floor-")
        folder = Path(self._dir.name)
        if isinstance(model, bytes):
            model_path = folder / "model.onnx"
            model_path.write_bytes(model)
        else:
            # The model's own path, so that ONNX Runtime finds its external data beside it.
            model_path = Path(model)
        lines = []
        for i, (name, value, code) in enumerate(inputs):
            data = folder / f"input{i}.bin"
            data.write_bytes(np.ascontiguousarray(value).tobytes())
            dims = " ".join(str(d) for d in value.shape)
            lines.append(f"{name} {code} {value.ndim} {dims} {data}")
        spec = folder / "inputs.txt"
        spec.write_text("\n".join(lines) + "\n")
        self._stderr = (folder / "stderr.txt").open("w+")
        argv = [
            str(binary),
            _core.RUNTIME_PATH,
            str(model_path),
            str(spec),
            str(intra_op_threads),
            str(inter_op_threads),
        ]
        self._process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        assert self._process.stdout is not None
        ready = self._process.stdout.readline().split()
        if not ready or ready[0] != "ready":
            message = self._error_text() or "the C++ floor did not start"
            self.close()
            raise FloorError(message)
        self.version = ready[1]

    def _error_text(self) -> str:
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().splitlines() if line.startswith("floor:")]
        return lines[-1] if lines else ""

    def block(self, n: int) -> list[int]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(f"{self._command} {n}\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise FloorError(self._error_text() or "the C++ floor stopped")
        return [int(x) for x in line.split()]

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            try:
                self._process.stdin.write("quit\n")
                self._process.stdin.flush()
                self._process.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()
        self._dir.cleanup()
