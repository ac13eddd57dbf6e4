"""The runtime is found and dlopen'ed at import, never linked, and a wrong one is refused clearly."""

from __future__ import annotations

import inspect
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import ortbind
from ortbind import _core
from support import models, plugins, real_models
from tests.helpers import run_child


def test_runtime_is_the_onnxruntime_wheels_library() -> None:
    path = Path(ortbind.runtime.RUNTIME_PATH)
    assert path.name.startswith("libonnxruntime.so")
    assert path.parent.name == "capi" and path.parent.parent.name == "onnxruntime"
    assert ortbind.runtime.RUNTIME_VERSION.split(".")[:2] == path.name.split(".so.")[1].split(".")[:2]
    assert ortbind.runtime.API_VERSION >= 21


def test_import_does_not_import_the_official_binding() -> None:
    result = run_child("import_ortbind")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_core_has_no_link_time_dependency_on_onnxruntime() -> None:
    needed = subprocess.run(["ldd", _core.__file__], capture_output=True, text=True, check=True).stdout
    assert "onnxruntime" not in needed


def test_override_that_is_not_a_file() -> None:
    result = run_child("import_ortbind", env={"ORTBIND_LIBRARY": "/nonexistent/libonnxruntime.so"})
    assert result.returncode != 0
    assert "ImportError: ortbind: ORTBIND_LIBRARY=/nonexistent/libonnxruntime.so is not a file" in result.stderr


def test_override_that_is_not_onnxruntime(tmp_path: Path) -> None:
    lib = tmp_path / "libnotort.so"
    source = tmp_path / "notort.c"
    source.write_text("int not_onnxruntime(void) { return 0; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(source)], check=True)
    result = run_child("import_ortbind", env={"ORTBIND_LIBRARY": str(lib)})
    assert result.returncode != 0
    assert f"ImportError: ortbind: {lib} is not an ONNX Runtime library (no OrtGetApiBase)" in result.stderr


def test_runtime_older_than_the_headers_is_a_clear_import_error(tmp_path: Path) -> None:
    # A stand-in for an old runtime: its GetApi answers null for any version it does not know,
    # as ONNX Runtime does.
    source = tmp_path / "old.c"
    source.write_text(
        """
        #include <stddef.h>
        typedef struct { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } Base;
        static const void* get_api(unsigned version) { (void)version; return NULL; }
        static const char* version(void) { return "1.16.3"; }
        static const Base base = {get_api, version};
        const Base* OrtGetApiBase(void) { return &base; }
        """
    )
    lib = tmp_path / "libonnxruntime.so.1.16.3"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(source)], check=True)
    result = run_child("import_ortbind", env={"ORTBIND_LIBRARY": str(lib)})
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("ImportError: ortbind: ONNX Runtime 1.16.3 at ")
    assert str(lib) in message
    assert "does not provide C API version 21, the oldest ortbind runs on" in message


def test_explicit_library_path_is_used(tmp_path: Path) -> None:
    result = run_child(
        "explicit_library", ortbind.runtime.RUNTIME_PATH, env={"ORTBIND_LIBRARY": ortbind.runtime.RUNTIME_PATH}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4.0"
    assert np.float32(4.0) == float(result.stdout)


def test_available_providers_include_cpu() -> None:
    assert "CPUExecutionProvider" in ortbind.runtime.available_providers()


# pybind11's stand-in for a class made only by ortbind itself (Session._compile_contract,
# Session.bind): it raises.
NOT_OURS = {"CompiledContract.__init__", "Binding.__init__"}


def _compiled_callables() -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name, value in vars(_core).items():
        if isinstance(value, type) and not issubclass(value, BaseException):
            found.append((name, value))
            found += [
                (f"{name}.{k}", v)
                for k, v in vars(value).items()
                if callable(v) and f"{name}.{k}" not in NOT_OURS and not k.startswith("_pybind11")
            ]
        elif callable(value) and not isinstance(value, type):
            found.append((name, value))
    return found


@pytest.mark.parametrize(("name", "value"), _compiled_callables(), ids=[n for n, _ in _compiled_callables()])
def test_every_compiled_callable_has_a_signature(name: str, value: object) -> None:
    signature = inspect.signature(value)  # type: ignore[arg-type]
    assert all(p.kind is not p.VAR_POSITIONAL for p in signature.parameters.values()), (name, signature)


def test_run_signature_is_the_documented_one() -> None:
    session = ortbind.Session(models.identity())
    expected = (
        "(feeds, outputs=None, *, out=None, timeout=None, cancel=None, adapters=None, tag=None, log_level=None, "
        "run_config=None, profile=None, contract=None)"
    )
    assert str(inspect.signature(session.run)) == expected
    checked = inspect.signature(session.with_contract().run).parameters
    assert list(checked) == [
        "feeds",
        "outputs",
        "out",
        "timeout",
        "cancel",
        "adapters",
        "tag",
        "log_level",
        "run_config",
        "profile",
    ]
    assert inspect.signature(ortbind.Env).parameters["log_level"].default == "warning"


def test_an_older_runtime_runs_and_refuses_each_newer_feature_alone() -> None:
    try:
        library = plugins.older_runtime_library()
    except real_models.ModelUnavailable as error:
        pytest.skip(str(error))
    result = run_child("older_runtime", env={"ORTBIND_LIBRARY": str(library)})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["version"] == plugins.OLDER_RUNTIME_VERSION and report["api"] == 21
    assert not any(report["features"].values())
    assert report["sum"] == [[2.0] * 3] * 2 and report["tagged"] == report["sum"]
    for feature, message in report["refused"].items():
        assert "needs ONNX Runtime's C API version 2" in message, (feature, message)
        assert "provides C API version 21" in message and "install onnxruntime>=1.2" in message, (feature, message)
