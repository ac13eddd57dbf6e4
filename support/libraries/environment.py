"""One virtual environment per library, with the official onnxruntime and ortbind installed in it.

An environment is made once for its requirements (its folder is named by their hash) and kept;
ortbind goes into it as a wheel built from this checkout (``pip wheel``, incremental in ``build/``),
kept per hash of the sources that make it and installed again when they change. Python is the one
running this module, so that the wheel's ``_core`` fits every environment.

``make_ready`` does all of it and reports how long each step took, which is how the tier's cold
(``make test-libraries`` on an empty cache) and warm costs are measured.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import ONNXRUNTIME, Library

ROOT = Path(__file__).resolve().parents[2]
CACHE_ENV = "ORTBIND_LIBRARY_CACHE"
# What ortbind's wheel is made of: a change to any of these makes a new wheel.
_SOURCES = ("pyproject.toml", "CMakeLists.txt", "cmake", "cpp", "python/ortbind")


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "ortbind" / "libraries"


def _digest(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()[:16]


def sources_hash() -> str:
    parts: list[bytes] = []
    for entry in _SOURCES:
        path = ROOT / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            parts += [str(file.relative_to(ROOT)).encode(), file.read_bytes()]
    return _digest(parts)


def _pip(python: Path | str, *args: str, log: Path) -> None:
    command = [str(python), "-m", "pip", "--disable-pip-version-check", *args]
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}); see {log}")


def ortbind_wheel(timings: dict[str, float]) -> Path:
    """ortbind's wheel for the current sources, built once per hash of them."""
    folder = cache_root() / "wheels" / sources_hash()
    found = sorted(folder.glob("ortbind-*.whl"))
    if found:
        return found[-1]
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _pip(sys.executable, "wheel", "--no-deps", "--no-build-isolation", "-w", str(folder), str(ROOT), log=folder / "log")
    timings["ortbind wheel"] = time.perf_counter() - start
    return sorted(folder.glob("ortbind-*.whl"))[-1]


@dataclass
class Environment:
    library: Library
    folder: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def python(self) -> Path:
        return self.folder / "bin" / "python"


def environment_of(library: Library) -> Environment:
    requirements = (*library.requirements, ONNXRUNTIME)
    key = _digest([sys.version.encode(), library.constraints.read_bytes(), *(r.encode() for r in requirements)])
    return Environment(library, cache_root() / "venvs" / f"{library.name}-{key}")


def make_ready(library: Library) -> Environment:
    """The library's environment, made if missing, with the current ortbind wheel installed."""
    environment = environment_of(library)
    folder, timings = environment.folder, environment.timings
    log = folder.with_suffix(".log")
    if not (folder / ".complete").exists():
        start = time.perf_counter()
        folder.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
        constraints = ("-c", str(library.constraints))
        _pip(environment.python, "install", "-q", *constraints, *library.requirements, ONNXRUNTIME, log=log)
        (folder / ".complete").write_text("\n".join(library.requirements))
        timings["environment"] = time.perf_counter() - start
    wheel = ortbind_wheel(timings)
    marker = folder / ".ortbind-wheel"
    if not marker.exists() or marker.read_text() != wheel.name + wheel.parent.name:
        start = time.perf_counter()
        _pip(environment.python, "install", "-q", "--no-deps", "--force-reinstall", str(wheel), log=log)
        marker.write_text(wheel.name + wheel.parent.name)
        timings["ortbind install"] = time.perf_counter() - start
    return environment
