"""`make wheel`: the sdist and the manylinux wheels it leaves in dist/, one for each interpreter
that tools/wheel-pythons.sh finds here, each installed into a fresh venv made by that interpreter
(numpy and onnxruntime from the index at the lock's versions, nothing of this repository on
sys.path) and run there: a model's output must equal the official binding's bit for bit, and
ortbind's errors, threads, run_async and fork must behave as in the development build
(tests/children/installed_package.py).

dist/ is built again unless its sdist holds the current sources byte for byte and there is a wheel
for each of those interpreters; `make wheel` writes the sdist and the wheels built from it together,
after emptying dist/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from ortbind import _core
from support import models
from tests.helpers import CHILDREN, FREE_THREADED, ROOT

# A cold build of every wheel takes minutes each on a small machine (a warm compiler cache outside
# the checkout brings that to seconds); each install takes one or two.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(
        FREE_THREADED,
        reason="the regular suite runs these, the free-threaded wheel included (built and installed by the "
        "free-threaded interpreter): running them twice would only build the same wheels again",
    ),
]

DIST = ROOT / "dist"
# What pyproject.toml's sdist allow-list lets in.
SDIST_PATHS = ("CMakeLists.txt", "cmake", "cpp", "python", "pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md")
# What docs/wheel.md says `make wheel` reaches.
WHEEL_TAG = "manylinux_2_17"
# The runtime the fresh venvs install: the one this process has, so that outputs compare bit for bit.
RUNTIME_PIN = f"onnxruntime=={onnxruntime.__version__}"


def _interpreters() -> dict[str, Path]:
    """The wheel tag (cp312, cp313t) and path of each interpreter `make wheel` builds for here."""
    found = subprocess.run(
        ["bash", str(ROOT / "tools" / "wheel-pythons.sh")], capture_output=True, text=True, check=True
    ).stdout
    return {tag: Path(path) for tag, path in (line.split(" ", 1) for line in found.splitlines())}


INTERPRETERS = _interpreters()


def _lock(tag: str) -> Path:
    """The lock whose versions a venv of the interpreter tagged ``tag`` installs: the free-threaded
    one's for a free-threaded interpreter (its numpy is the newest with a cp313t wheel)."""
    return ROOT / "requirements" / ("free-threaded.txt" if tag.endswith("t") else "dev.txt")


def _lock_as_constraints(lock: Path, path: Path) -> Path:
    """The lock's versions without its hashes (a constraints file with hashes would put pip in
    hash-checking mode, which the local wheel and sdist cannot pass): what the fresh venvs install,
    and build the sdist with, is then the same whatever the index serves today."""
    pins = [line.removesuffix("\\").strip() for line in lock.read_text().splitlines() if line[:1].isalnum()]
    path.write_text("\n".join(pins) + "\n")
    return path


def _source_files() -> dict[str, bytes]:
    """The files of the sdist's folders in this tree, tracked or not, less what .gitignore ignores."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *SDIST_PATHS],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    names = sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})
    return {name: (ROOT / name).read_bytes() for name in names}


def _sdist_files(sdist: Path) -> dict[str, bytes]:
    """The sdist's files by path below its top folder, less the PKG-INFO the build writes."""
    files = {}
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if member.isfile():
                name = member.name.split("/", 1)[1]
                extracted = tar.extractfile(member)
                assert extracted is not None
                files[name] = extracted.read()
    files.pop("PKG-INFO")
    return files


Dist = tuple[Path, dict[str, Path]]


def _current_dist() -> Dist | None:
    """dist/'s sdist and its wheels by ABI tag (cp312, cp313t) when the sdist holds exactly this
    tree's sources and there is one wheel for each interpreter here, else None."""
    sdists = sorted(DIST.glob("ortbind-*.tar.gz"))
    # ortbind-0.1.0-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl: the ABI tag is 4th.
    wheels = {wheel.name.split("-")[3]: wheel for wheel in DIST.glob("ortbind-*.whl")}
    if len(sdists) != 1 or set(wheels) != set(INTERPRETERS) or _sdist_files(sdists[0]) != _source_files():
        return None
    return sdists[0], wheels


def _headers_env() -> dict[str, str]:
    """ONNXRUNTIME_ROOT for a build of the sdist, from the headers this process's build used, which
    saves another fetch from Debian (cmake/OrtHeaders.cmake takes ONNXRUNTIME_ROOT/include). The
    build finds /usr/include/onnxruntime by itself; a plain `pip install` of the sdist, with none of
    these, fetches the headers itself."""
    headers = Path(_core.HEADERS_DIR)
    if "ONNXRUNTIME_ROOT" in os.environ or headers.name != "include" or not headers.is_dir():
        return {}
    return {"ONNXRUNTIME_ROOT": str(headers.parent)}


@pytest.fixture(scope="module")
def dist() -> Dist:
    built = _current_dist()
    if built is None:
        # make's command-line variables (WERROR=ON in CI, ONNXRUNTIME_ROOT) reach this make through
        # MAKEFLAGS in the environment.
        make = subprocess.run(
            ["make", "wheel", f"PYTHON={sys.executable}"],
            cwd=ROOT,
            env={**os.environ, **_headers_env()},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert make.returncode == 0, make.stdout[-6000:]
        built = _current_dist()
        wanted = sorted(INTERPRETERS)
        assert built is not None, f"make wheel left no sdist of this tree and a wheel for each of {wanted} in {DIST}"
    return built


class Venv:
    """A fresh venv in ``path`` made by the interpreter tagged ``tag`` (this process's by default),
    whose programs run with an environment that points at nothing of this repository or of the
    test's own venv, and whose pip keeps to the lock's versions (in the build environment of an sdist
    too: PIP_CONSTRAINT reaches it before pip 26.2, PIP_BUILD_CONSTRAINT from then on)."""

    def __init__(self, path: Path, tag: str | None = None) -> None:
        python = INTERPRETERS[tag] if tag else Path(sys.executable)
        subprocess.run([str(python), "-m", "venv", str(path)], check=True)
        self.path = path
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "ORTBIND_LIBRARY"}
        }
        self.env["PATH"] = os.pathsep.join((str(path / "bin"), self.env.get("PATH", "")))
        lock = _lock(tag or "")
        constraints = str(_lock_as_constraints(lock, path.with_name(path.name + "-constraints.txt")))
        self.env["PIP_CONSTRAINT"] = self.env["PIP_BUILD_CONSTRAINT"] = constraints

    def run(self, program: str, *args: str, env: dict[str, str] | None = None) -> str:
        """Runs the venv's ``program`` (python, pip, ortbind...) from the venv's folder; returns
        its output, failing the test with it where the exit status is not 0."""
        done = subprocess.run(
            [str(self.path / "bin" / program), *args],
            cwd=self.path,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert done.returncode == 0, f"{program} {' '.join(args)} exited {done.returncode}:\n{done.stdout[-6000:]}"
        return done.stdout

    def install(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.run("python", "-m", "pip", "install", "-q", "--disable-pip-version-check", *args, env=env)

    def check_runs_model(self, model: Path, tmp_path: Path) -> None:
        """Runs the child on ``model`` (an MLP of support/models.py); checks its output against the
        official binding's and that ortbind and its runtime came from this venv."""
        x = np.random.default_rng(0).standard_normal((5, 64), dtype=np.float32)
        np.save(tmp_path / "x.npy", x)
        out = tmp_path / "probs.npy"
        child = CHILDREN / "installed_package.py"
        lines = self.run("python", str(child), str(model), str(tmp_path / "x.npy"), str(out)).splitlines()
        package, runtime = (Path(line).resolve() for line in lines[-2:])
        assert package.is_relative_to(self.path.resolve()), package
        assert runtime.is_relative_to(self.path.resolve()), runtime
        expected = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
        np.testing.assert_array_equal(np.load(out), expected, strict=True)


def _write_model(tmp_path: Path) -> Path:
    model = tmp_path / "mlp.onnx"
    model.write_bytes(models.mlp())
    return model


def test_sdist_holds_what_builds_the_package_and_nothing_else(dist: Dist) -> None:
    names = set(_sdist_files(dist[0]))
    assert {"CMakeLists.txt", "cmake/fetch-ort-headers.sh", "cpp/common.hpp", "python/ortbind/__init__.py"} <= names
    assert {"python/ortbind/_core.pyi", "python/ortbind/py.typed", "pyproject.toml", "README.md"} <= names
    assert not [name for name in names if name.split("/")[0] not in SDIST_PATHS], names
    assert not [name for name in names if "__pycache__" in name or name.endswith((".so", ".pyc"))], names


# One case per interpreter found here: every tag below has its wheel, or the dist fixture fails.
per_wheel = pytest.mark.parametrize("tag", sorted(INTERPRETERS))


@per_wheel
def test_wheel_is_manylinux_and_holds_the_package(dist: Dist, tag: str) -> None:
    wheel = dist[1][tag]
    assert f"{WHEEL_TAG}_" in wheel.name, wheel.name
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (metadata,) = [name for name in names if name.endswith(".dist-info/WHEEL")]
        tags = [line for line in zf.read(metadata).decode().splitlines() if line.startswith("Tag:")]
        # The wheel's Python files are this tree's: it was built from the sdist compared above.
        for path in (ROOT / "python" / "ortbind").glob("*.py*"):
            assert zf.read(f"ortbind/{path.name}") == path.read_bytes(), path.name
    # Tag: cp313-cp313t-manylinux_2_17_x86_64, and the same under its alias manylinux2014.
    assert tags and all(f"-{tag}-manylinux" in line for line in tags), tags
    assert any(f"-{tag}-{WHEEL_TAG}_" in line for line in tags), tags
    # The module is built for that interpreter's ABI (cpython-313t-x86_64-linux-gnu for cp313t).
    abi = f"cpython-{tag.removeprefix('cp')}-x86_64-linux-gnu"
    assert f"ortbind/_core.{abi}.so" in names, sorted(names)
    # auditwheel grafts no library in: the module needs glibc only (libstdc++ is linked in statically).
    assert not [name for name in names if ".libs/" in name], names


@per_wheel
@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf (binutils)")
def test_wheel_module_needs_glibc_alone_and_exports_its_init_alone(dist: Dist, tag: str, tmp_path: Path) -> None:
    with zipfile.ZipFile(dist[1][tag]) as zf:
        (name,) = [n for n in zf.namelist() if n.startswith("ortbind/_core.") and n.endswith(".so")]
        module = Path(zf.extract(name, tmp_path))
    dynamic = subprocess.run(["readelf", "-dW", str(module)], capture_output=True, text=True, check=True).stdout
    needed = {line.split("[")[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line}
    assert all(lib.startswith(("libc.so.", "libm.so.", "libpthread.so.", "libdl.so.", "ld-linux")) for lib in needed), (
        needed
    )
    symbols = subprocess.run(["readelf", "--dyn-syms", "-W", str(module)], capture_output=True, text=True, check=True)
    defined = {f[7] for f in (line.split() for line in symbols.stdout.splitlines()) if len(f) >= 8 and f[6] != "UND"}
    assert defined - {"Name"} == {"PyInit__core"}, defined


@per_wheel
def test_wheel_installs_binary_only_and_runs_in_a_fresh_venv(dist: Dist, tag: str, tmp_path: Path) -> None:
    venv = Venv(tmp_path / "venv", tag)
    venv.install("--only-binary", ":all:", f"{dist[1][tag]}[cli]", RUNTIME_PIN)
    model = _write_model(tmp_path)
    venv.check_runs_model(model, tmp_path)
    # The console script the wheel installs: what the model takes and gives, and the same answers as
    # the official binding (exit status 0; run() fails the test otherwise).
    info = venv.run("ortbind", "info", str(model))
    assert "x" in info and "float32[batch, 64]" in info and "probs" in info, info
    checked = venv.run("ortbind", "check", str(model), "--dim", "batch=3")
    assert "identical" in checked, checked
    if tag.endswith("t"):
        # The module declares that it runs without the GIL, so importing it leaves the GIL off.
        gil = venv.run("python", "-c", "import sys, ortbind; print(sys._is_gil_enabled())")
        assert gil.strip() == "False", gil


def test_sdist_builds_installs_and_runs_in_a_fresh_venv(dist: Dist, tmp_path: Path) -> None:
    # `pip install` of the sdist, in build isolation: the build requirements come from the index.
    venv = Venv(tmp_path / "venv")
    venv.install("--prefer-binary", str(dist[0]), RUNTIME_PIN, env=_headers_env())
    venv.check_runs_model(_write_model(tmp_path), tmp_path)
