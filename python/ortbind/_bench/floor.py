"""The C++ floors (``floor.cpp``, shipped beside this file): what one call costs in ONNX Runtime itself.

The library is compiled here, on first use, against the ONNX Runtime headers ortbind was built with
(or ``ONNXRUNTIME_ROOT``'s, or the system's) by the C++ compiler (``$CXX``, else ``c++``), and kept
in a cache folder keyed by the source, the headers and the compiler. Where any of these is missing
the build gives the reason instead of a library, and the benchmark says why it has no floor row.

:class:`Floor` loads it into this process (ctypes, which lets go of the GIL for the call) and times
a block of calls of one kind on each :meth:`Floor.block` (``run``: ``OrtApi::Run``; ``bind``:
``OrtApi::RunWithBinding`` on one binding kept across calls, inputs rebound; ``bound``: everything
bound once), so that its blocks interleave with the Python contenders' on the same thread. In
another process the floor drew its own share of this machine's shifts in speed, which the
round-by-round ratios cannot cancel. :meth:`Floor.threads_block` runs the Run floor on several C++
threads at once on the one session and gives the block's wall time.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import weakref
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
    """The compiled floor library, or why there is none."""

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
    binary = folder / "libfloor.so"
    if binary.is_file():
        return FloorBuild(binary)
    folder.mkdir(parents=True, exist_ok=True)
    if announce is not None:
        announce()
    # Compiled under a name of its own, then moved: a concurrent build never runs half a file.
    partial = folder / f".libfloor.{os.getpid()}.so"
    command = [
        compiler, "-O2", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden",
        "-isystem", str(headers), str(SOURCE), "-o", str(partial), "-ldl", "-pthread",
    ]  # fmt: skip
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
    """The floor did not start on this model, or a call failed (ONNX Runtime's message says why)."""


KINDS = {"run": 0, "bind": 1, "bound": 2}
_ERROR_SIZE = 4096


def _load(binary: Path) -> ctypes.CDLL:
    library = ctypes.CDLL(str(binary))
    library.floor_open.restype = ctypes.c_void_p
    library.floor_open.argtypes = [
        ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
        ctypes.c_char_p, ctypes.c_size_t,
    ]  # fmt: skip
    library.floor_version.restype = ctypes.c_char_p
    library.floor_version.argtypes = [ctypes.c_void_p]
    library.floor_block.restype = ctypes.c_int
    library.floor_block.argtypes = [
        ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.POINTER(ctypes.c_longlong),
        ctypes.c_char_p, ctypes.c_size_t,
    ]  # fmt: skip
    library.floor_threads.restype = ctypes.c_int
    library.floor_threads.argtypes = [
        ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.POINTER(ctypes.c_longlong),
        ctypes.c_char_p, ctypes.c_size_t,
    ]  # fmt: skip
    library.floor_close.restype = None
    library.floor_close.argtypes = [ctypes.c_void_p]
    return library


class Floor:
    """The C++ floor on one model and one set of inputs, in this process, driven block by block."""

    def __init__(
        self,
        binary: Path,
        model: str | os.PathLike[str] | bytes,
        inputs: Sequence[tuple[str, np.ndarray[Any, Any], int]],
        command: str = "run",
        *,
        intra_op_threads: int = 1,
        inter_op_threads: int = 1,
        cpu_arena: bool | None = None,
    ) -> None:
        """``inputs`` are (name, array, ONNX element code); ``command`` is ``run``, ``bind`` or ``bound``;
        ``cpu_arena`` switches ONNX Runtime's CPU arena as ortbind's session option does (None: its
        default)."""
        self._kind = KINDS[command]
        self._library = _load(binary)
        self._error = ctypes.create_string_buffer(_ERROR_SIZE)
        with tempfile.TemporaryDirectory(prefix="ortbind-floor-") as name:
            folder = Path(name)
            if isinstance(model, bytes):
                model_path = folder / "model.onnx"
                model_path.write_bytes(model)
            else:
                # The model's own path, so that ONNX Runtime finds its external data beside it.
                model_path = Path(model)
            lines = []
            for i, (input_name, value, code) in enumerate(inputs):
                data = folder / f"input{i}.bin"
                data.write_bytes(np.ascontiguousarray(value).tobytes())
                dims = " ".join(str(d) for d in value.shape)
                lines.append(f"{input_name} {code} {value.ndim} {dims} {data}")
            spec = folder / "inputs.txt"
            spec.write_text("\n".join(lines) + "\n")
            # The inputs are read into the floor's own memory here: the folder can go.
            self._handle = self._library.floor_open(
                os.fsencode(_core.RUNTIME_PATH),
                os.fsencode(model_path),
                os.fsencode(spec),
                intra_op_threads,
                inter_op_threads,
                -1 if cpu_arena is None else int(cpu_arena),
                self._error,
                _ERROR_SIZE,
            )
        if not self._handle:
            raise FloorError(self._error.value.decode(errors="replace") or "the C++ floor did not start")
        # Its session and environment are released with this object at the latest.
        self._release = weakref.finalize(self, self._library.floor_close, self._handle)
        self.version = self._library.floor_version(self._handle).decode()
        self._samples = (ctypes.c_longlong * 0)()

    def block(self, n: int) -> list[int]:
        if not self._handle:
            raise FloorError("the C++ floor is closed")
        if len(self._samples) < n:
            self._samples = (ctypes.c_longlong * n)()
        if self._library.floor_block(self._handle, self._kind, n, self._samples, self._error, _ERROR_SIZE) != 0:
            raise FloorError(self._error.value.decode(errors="replace"))
        return list(self._samples[:n])

    def threads_block(self, threads: int, n: int) -> int:
        """``n`` Run calls on each of ``threads`` C++ threads at once on the one session: the block's
        wall time (ns), from the moment every thread is ready to the end of the last call."""
        if not self._handle:
            raise FloorError("the C++ floor is closed")
        wall = ctypes.c_longlong(0)
        if self._library.floor_threads(self._handle, threads, n, ctypes.byref(wall), self._error, _ERROR_SIZE) != 0:
            raise FloorError(self._error.value.decode(errors="replace"))
        return wall.value

    def close(self) -> None:
        if self._handle:
            self._release()
            self._handle = None
