"""The newer runtime API without any plugin: the C API version in use and the features it allows, the
CPU provider's own device, selection policies, which provider runs each node, per-run settings,
load control (timeout, cancel, Ctrl-C), the optimized model, deterministic compute, the compile API
and ONNX Runtime's log in Python's logging."""

from __future__ import annotations

import glob
import json
import logging
import mmap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

import ortbind
from ortbind import runtime
from support import models
from tests.helpers import run_child

X = np.random.default_rng(7).standard_normal((2, 64)).astype(np.float32)

needs = {
    name: pytest.mark.skipif(not f.available, reason=f"needs C API {f.api}") for name, f in runtime.FEATURES.items()
}


def test_the_api_in_use_is_the_runtimes_up_to_the_headers() -> None:
    minor = int(runtime.RUNTIME_VERSION.split(".")[1])
    assert min(minor, runtime.BUILD_API_VERSION) == runtime.API_VERSION
    assert runtime.API_VERSION >= 21
    assert set(runtime.FEATURES) == {
        "provider_libraries", "provider_policy", "load_cancellation", "compile", "compile_flags", "node_assignment",
        "run_profiling",
    }  # fmt: skip
    for feature in runtime.FEATURES.values():
        assert feature.available == (feature.api <= runtime.API_VERSION)


@needs["provider_libraries"]
def test_the_cpu_provider_offers_its_own_device() -> None:
    (cpu,) = [d for d in runtime.devices() if d.ep_name == "CPUExecutionProvider"]
    assert cpu.type == "cpu" and cpu.ep_vendor == "Microsoft"
    assert cpu.ep_metadata.get("version") == runtime.RUNTIME_VERSION
    expected = ortbind.Session(models.mlp()).run({"x": X})["probs"]
    choices: list[list[Any]] = [[cpu], [(cpu, {})]]
    for given in choices:
        session = ortbind.Session(models.mlp(), providers=given)
        np.testing.assert_array_equal(session.run({"x": X})["probs"], expected)


@needs["provider_policy"]
@pytest.mark.parametrize(
    "policy",
    ["default", "prefer_cpu", "prefer_npu", "prefer_gpu", "max_performance", "max_efficiency", "min_overall_power"],
)
def test_every_policy_runs_on_the_cpu_here(policy: str) -> None:
    session = ortbind.Session(models.mlp(), provider_policy=policy)  # type: ignore[arg-type]
    np.testing.assert_array_equal(session.run({"x": X})["probs"], ortbind.Session(models.mlp()).run({"x": X})["probs"])
    if runtime.FEATURES["node_assignment"].available:
        assert {provider for provider, _ in session.node_assignment()} == {"CPUExecutionProvider"}


def test_an_unknown_policy_and_an_unknown_provider_are_refused_by_name() -> None:
    if runtime.FEATURES["provider_policy"].available:
        with pytest.raises(
            ortbind.InvalidValueError, match=r"provider_policy must be one of 'default', .* not 'fastest'"
        ):
            ortbind.Session(models.add(), provider_policy="fastest")  # type: ignore[arg-type]
    with pytest.raises(
        ortbind.InvalidValueError, match="'NoSuchProvider' is not in this ONNX Runtime, nor a registered"
    ):
        ortbind.Session(models.add(), providers=["NoSuchProvider"])


@needs["provider_libraries"]
def test_a_device_the_runtime_no_longer_offers_is_refused() -> None:
    gone = runtime.Device("NoSuchProvider", "nobody", "gpu", "nobody", 1, 2)
    with pytest.raises(ortbind.InvalidValueError, match="is no longer offered by ONNX Runtime"):
        ortbind.Session(models.add(), providers=[gone])


def test_registration_errors_name_the_library(tmp_path: Path) -> None:
    if not runtime.FEATURES["provider_libraries"].available:
        with pytest.raises(ortbind.errors.NotImplementedInRuntime, match="C API version 22"):
            runtime.register_provider_library("x", tmp_path / "x.so")
        return
    with pytest.raises(ortbind.errors.Fail, match="Failed to load library"):
        runtime.register_provider_library("missing", tmp_path / "missing.so")
    # A shared library that is not a provider library (no CreateEpFactories).
    not_provider = glob.glob(str(Path(np.__file__).parent.parent / "numpy.libs" / "*.so*"))[:1]
    if not_provider:
        with pytest.raises(ortbind.errors.Fail, match="CreateEpFactories"):
            runtime.register_provider_library("not-a-provider", not_provider[0])
    with pytest.raises(ortbind.NameMismatchError, match="no provider library is registered as 'nope'"):
        runtime.unregister_provider_library("nope")
    assert "not-a-provider" not in runtime.available_providers()


@needs["node_assignment"]
def test_node_assignment_names_each_node_and_its_provider() -> None:
    session = ortbind.Session(models.mlp(), optimization="disabled")
    assigned = session.node_assignment()
    op_types = [node.op_type for _, nodes in assigned for node in nodes]
    graph = onnx.load_from_string(models.mlp()).graph
    assert sorted(op_types) == sorted(node.op_type for node in graph.node)
    assert all(provider == "CPUExecutionProvider" for provider, _ in assigned)
    session.close()
    with pytest.raises(ortbind.ClosedError):
        session.node_assignment()


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    runtime.flush_logs()
    return [r.getMessage() for r in caplog.records if r.name == "ortbind.onnxruntime"]


def test_run_settings_reach_the_run(caplog: pytest.LogCaptureFixture) -> None:
    # The session logs everything; each run's own level narrows it for that run.
    session = ortbind.Session(models.mlp(), log_level="verbose")
    expected = session.run({"x": X})["probs"]
    with caplog.at_level(logging.DEBUG, logger="ortbind.onnxruntime"):
        got = session.run({"x": X}, tag="request-17", run_config={"memory.enable_memory_arena_shrinkage": "cpu:0"})
        bound = session.bind().run({"x": X}, tag="bound-9")
        quiet = session.run({"x": X}, tag="quiet-3", log_level="error")
        logged = messages(caplog)
    np.testing.assert_array_equal(got["probs"], expected)
    np.testing.assert_array_equal(bound["probs"], expected)
    np.testing.assert_array_equal(quiet["probs"], expected)
    assert any("request-17" in m for m in logged) and any("bound-9" in m for m in logged)
    with pytest.raises(ortbind.KindError, match="run_config keys and values must be str"):
        session.run({"x": X}, run_config={"a": 1})  # type: ignore[dict-item]
    with pytest.raises(ortbind.InvalidValueError, match="log_level must be one of"):
        session.run({"x": X}, log_level="loud")


@needs["run_profiling"]
def test_a_run_profiles_itself_alone(tmp_path: Path) -> None:
    session = ortbind.Session(models.mlp(), optimization="disabled")
    session.run({"x": X})
    session.run({"x": X}, profile=tmp_path / "one")
    session.run({"x": X})
    (trace,) = tmp_path.glob("one*.json")
    events = json.loads(trace.read_text())
    nodes = len(onnx.load_from_string(models.mlp()).graph.node)
    assert sum(1 for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")) == nodes


async def _async_profile(session: ortbind.Session, prefix: Path) -> Any:
    return await session.run_async({"x": X}, profile=prefix, tag="async")


@needs["run_profiling"]
def test_run_async_takes_the_same_settings(tmp_path: Path) -> None:
    import asyncio

    session = ortbind.Session(models.mlp())
    result = asyncio.run(_async_profile(session, tmp_path / "async"))
    np.testing.assert_array_equal(result["probs"], session.run({"x": X})["probs"])
    assert list(tmp_path.glob("async*.json"))


def test_the_runtimes_log_reaches_python_logging_from_its_own_threads(caplog: pytest.LogCaptureFixture) -> None:
    # run_async runs on ONNX Runtime's intra-op threads, which log from there: queued, then emitted
    # by ortbind's log thread with the GIL.
    session = ortbind.Session(models.mlp(), intra_op_threads=2, log_level="verbose")
    with caplog.at_level(logging.DEBUG, logger="ortbind.onnxruntime"):
        done = threading.Event()
        session._run_async({"x": X}, tag="from-a-pool-thread", callback=lambda *_: done.set())
        assert done.wait(30)
        logged = messages(caplog)
    assert any("from-a-pool-thread" in m for m in logged)
    records = [r for r in caplog.records if r.name == "ortbind.onnxruntime"]
    assert {r.levelno for r in records} <= {logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR}
    assert all(hasattr(r, "ort_category") and hasattr(r, "ort_location") for r in records)


def test_env_log_level_applies_to_sessions_made_afterwards(caplog: pytest.LogCaptureFixture) -> None:
    env = ortbind.Env.default()
    with caplog.at_level(logging.DEBUG, logger="ortbind.onnxruntime"):
        env.set_log_level("info")
        try:
            assert env.log_level == "info"
            ortbind.Session(models.mlp()).run({"x": X}, tag="after-set")
        finally:
            env.set_log_level("warning")
        logged = messages(caplog)
    assert any("after-set" in m for m in logged)
    with pytest.raises(ortbind.InvalidValueError, match="log_level must be one of"):
        env.set_log_level("everything")


def test_the_default_stays_quiet(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="ortbind.onnxruntime"):
        ortbind.Session(models.mlp()).run({"x": X})
        runtime.flush_logs()
    assert [r for r in caplog.records if r.name == "ortbind.onnxruntime" and r.levelno < logging.WARNING] == []


def test_optimized_model_and_deterministic_compute(tmp_path: Path) -> None:
    out = tmp_path / "optimized.onnx"
    session = ortbind.Session(models.mlp(), optimized_model=out, deterministic=True)
    assert out.is_file()
    np.testing.assert_array_equal(ortbind.Session(out).run({"x": X})["probs"], session.run({"x": X})["probs"])


@needs["compile"]
def test_compile_on_the_cpu_rewrites_the_model_and_require_compiled_refuses(tmp_path: Path) -> None:
    out = tmp_path / "compiled.onnx"
    ortbind.compile(models.mlp(), out)
    np.testing.assert_array_equal(
        ortbind.Session(out).run({"x": X})["probs"], ortbind.Session(models.mlp()).run({"x": X})["probs"]
    )
    if runtime.FEATURES["compile_flags"].available:
        refused = tmp_path / "refused.onnx"
        with pytest.raises(ortbind.errors.Fail, match="Unable to compile any nodes"):
            ortbind.compile(models.mlp(), refused, require_compiled=True)
        assert not refused.exists()
        with pytest.raises(ortbind.Error):
            ortbind.compile(models.mlp(), out, overwrite=False)
    with pytest.raises(ortbind.errors.InvalidProtobuf):
        ortbind.compile(b"not a model", tmp_path / "x.onnx")


@needs["load_cancellation"]
def test_a_cancelled_token_stops_a_session_being_made() -> None:
    token = ortbind.CancelToken()
    token.cancel()
    with pytest.raises(ortbind.Cancelled, match="making the session was cancelled by its CancelToken"):
        ortbind.Session(models.mlp(), cancel=token)
    with pytest.raises(ortbind.KindError, match="timeout must be a number of seconds"):
        ortbind.Session(models.mlp(), timeout="soon")  # type: ignore[arg-type]


@pytest.mark.slow
@needs["load_cancellation"]
def test_timeout_and_cancel_stop_the_2_gib_model_being_made(tmp_path: Path) -> None:
    # Loading its tables from memory copies over 2 GiB: long enough to stop midway.
    width = 1024
    path = models.huge_model(tmp_path, (1 << 30) // (width * 4) + 1024, width)
    with open(tmp_path / "tables.bin", "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        view = memoryview(data)
        try:
            with pytest.raises(ortbind.RunTimeout, match="making the session did not finish within its time limit"):
                ortbind.Session(path.read_bytes(), external_data={"tables.bin": view}, optimization="disabled",
                                timeout=0.2)  # fmt: skip
            token = ortbind.CancelToken()
            threading.Timer(0.2, token.cancel).start()
            with pytest.raises(ortbind.Cancelled, match="cancelled by its CancelToken"):
                ortbind.Session(path.read_bytes(), external_data={"tables.bin": view}, optimization="disabled",
                                cancel=token)  # fmt: skip
        finally:
            view.release()


@pytest.mark.slow
@needs["load_cancellation"]
def test_ctrl_c_stops_the_2_gib_model_being_made(tmp_path: Path) -> None:
    result = run_child("ctrl_c_load", str(tmp_path), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[0] == "interrupted", result.stdout
