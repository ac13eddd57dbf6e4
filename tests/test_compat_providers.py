"""ortbind.compat's execution provider surface against the official binding's: providers added to
SessionOptions by name, by device and by selection policy, the devices listed, which provider runs
each node, the compile API (``ModelCompiler``), and a plugin from PyPI (onnxruntime-ggml) registered
and run through compat, with outputs identical to the official binding's with the same plugin."""

from __future__ import annotations

import gc
import os
import pathlib
import pickle
from collections.abc import Iterator
from typing import Any

import numpy as np
import onnxruntime as official
import pytest

import ortbind.compat as compat
from ortbind import runtime
from support import models, real_models
from support.compat import assert_same, failure, run_both
from support.plugins import GGML_LOG_ENV, ggml_library

CPU = "CPUExecutionProvider"
X = np.random.default_rng(7).standard_normal((4, 64)).astype(np.float32)
needs = {
    name: pytest.mark.skipif(
        not runtime.FEATURES[name].available, reason=f"{name} needs C API {runtime.FEATURES[name].api}"
    )
    for name in runtime.FEATURES
}


def both(configure: Any, model: bytes | None = None, **kwargs: Any) -> tuple[Any, Any]:
    """The official session and compat's, each made with SessionOptions set by ``configure(module,
    options)`` and no ``providers=``."""
    made = []
    for module in (official, compat):
        options = module.SessionOptions()
        configure(module, options)
        made.append(module.InferenceSession(model or models.mlp(), options, **kwargs))
    return made[0], made[1]


def described(device: Any) -> tuple[Any, ...]:
    hardware = device.device
    return (
        device.ep_name,
        device.ep_vendor,
        device.ep_metadata,
        device.ep_options,
        str(hardware.type),
        int(hardware.type),
        hardware.vendor,
        hardware.vendor_id,
        hardware.device_id,
        hardware.metadata,
    )


def cpu_device(module: Any) -> Any:
    (device,) = [d for d in module.get_ep_devices() if d.ep_name == CPU]
    return device


# --- devices, enums ----------------------------------------------------------------------------


@needs["provider_libraries"]
def test_the_cpu_device_is_listed_as_the_official_binding_lists_it() -> None:
    assert described(cpu_device(compat)) == described(cpu_device(official))
    assert isinstance(cpu_device(compat).device.type, compat.OrtHardwareDeviceType)


def test_the_provider_enums_have_the_official_members_and_values() -> None:
    for name in ("OrtExecutionProviderDevicePolicy", "OrtHardwareDeviceType", "OrtCompileApiFlags"):
        theirs, ours = getattr(official, name), getattr(compat, name)
        assert {k: int(v) for k, v in ours.__members__.items()} == {k: int(v) for k, v in theirs.__members__.items()}
        for member, value in theirs.__members__.items():
            assert str(ours[member]) == str(value)


# --- providers from SessionOptions -------------------------------------------------------------


def test_add_provider_checks_the_name_as_the_official_binding() -> None:
    for module in (official, compat):
        options = module.SessionOptions()
        assert not options.has_providers()
        options.add_provider("AzureExecutionProvider", {})
        options.add_provider(CPU, {})
        assert options.has_providers()
    theirs = failure(official.SessionOptions().add_provider, "CUDAExecutionProvider", {})
    ours = failure(compat.SessionOptions().add_provider, "CUDAExecutionProvider", {})
    assert isinstance(ours, compat.InvalidArgument) and str(ours) == str(theirs)
    theirs = failure(official.SessionOptions().add_provider, "Bogus", {})
    ours = failure(compat.SessionOptions().add_provider, "Bogus", {})
    assert isinstance(ours, RuntimeError) and str(ours) == str(theirs) == "Unknown Provider Type: Bogus"


def test_the_cpu_provider_added_by_name_runs_the_same() -> None:
    pair = both(lambda _, options: options.add_provider(CPU, {}))
    assert pair[1].get_providers() == pair[0].get_providers() == [CPU]
    run_both(pair, {"x": X})


@needs["provider_libraries"]
def test_the_cpu_device_added_runs_the_same() -> None:
    pair = both(lambda module, options: options.add_provider_for_devices([cpu_device(module)], {}))
    assert pair[1].get_providers() == pair[0].get_providers() == [CPU]
    assert pair[1].get_provider_options() == pair[0].get_provider_options()
    run_both(pair, {"x": X})
    theirs = failure(official.SessionOptions().add_provider_for_devices, [], {})
    ours = failure(compat.SessionOptions().add_provider_for_devices, [], {})
    assert isinstance(ours, compat.InvalidArgument) and str(ours) == str(theirs)
    for module in (official, compat):
        with pytest.raises(TypeError):
            module.SessionOptions().add_provider_for_devices(["not a device"], {})


@needs["provider_policy"]
@pytest.mark.parametrize("policy", list(compat.OrtExecutionProviderDevicePolicy.__members__))
def test_a_selection_policy_picks_the_providers_the_official_binding_picks(policy: str) -> None:
    def configure(module: Any, options: Any) -> None:
        options.set_provider_selection_policy(module.OrtExecutionProviderDevicePolicy.__members__[policy])
        assert options.has_providers()

    pair = both(configure)
    assert pair[1].get_providers() == pair[0].get_providers()
    assert pair[1].get_provider_options() == pair[0].get_provider_options()
    run_both(pair, {"x": X})


def test_providers_given_to_the_session_take_precedence_with_the_official_warning() -> None:
    messages = []
    for module in (official, compat):
        options = module.SessionOptions()
        options.add_provider("AzureExecutionProvider", {})
        with pytest.warns(UserWarning, match="InferenceSession will only use the providers") as caught:
            made = module.InferenceSession(models.mlp(), options, providers=[CPU])
        assert made.get_providers() == [CPU]
        messages.append([str(w.message) for w in caught])
    assert messages[1] == messages[0]


def test_a_session_with_providers_from_its_options_pickles_as_made() -> None:
    options = compat.SessionOptions()
    options.add_provider("AzureExecutionProvider", {})
    made = compat.InferenceSession(models.mlp(), options)
    again = pickle.loads(pickle.dumps(made))  # no warning: the options choose the providers again
    assert again.get_providers() == made.get_providers() == ["AzureExecutionProvider", CPU]
    assert_same(again.run(None, {"x": X}), made.run(None, {"x": X}))


@needs["node_assignment"]
def test_graph_assignment_info_as_the_official_binding_gives_it() -> None:
    for module in (official, compat):
        made = module.InferenceSession(models.mlp(), providers=[CPU])
        with pytest.raises(module.capi.onnxruntime_pybind11_state.Fail, match="record_ep_graph_assignment_info"):
            made.get_provider_graph_assignment_info()

    def configure(_: Any, options: Any) -> None:
        options.add_session_config_entry("session.record_ep_graph_assignment_info", "1")
        options.graph_optimization_level = type(options.graph_optimization_level).ORT_DISABLE_ALL

    pair = both(configure, models.matmul_hardmax(), providers=[CPU])
    theirs, ours = (
        [
            (g.ep_name, [(n.name, n.op_type, n.domain) for n in g.get_nodes()])
            for g in s.get_provider_graph_assignment_info()
        ]
        for s in pair
    )
    assert ours == theirs and ours[0][0] == CPU


# --- the compile API ---------------------------------------------------------------------------


@needs["compile_flags"]
def test_model_compiler_writes_what_the_official_one_writes(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "mlp.onnx"
    source.write_bytes(models.mlp())
    written = []
    for module in (official, compat):
        compiler = module.ModelCompiler(module.SessionOptions(), str(source))
        output = tmp_path / f"{module.__name__}.onnx"
        compiler.compile_to_file(str(output))
        written.append(output.read_bytes())
        assert module.ModelCompiler(module.SessionOptions(), source.read_bytes()).compile_to_bytes() == written[-1]
        streamed: list[bytes] = []
        module.ModelCompiler(module.SessionOptions(), str(source)).compile_to_stream(streamed.append)
        assert b"".join(streamed) == written[-1]
    assert written[1] == written[0]
    existing = tmp_path / "onnxruntime.onnx"
    for flags in ("ERROR_IF_NO_NODES_COMPILED", "ERROR_IF_OUTPUT_FILE_EXISTS"):
        errors = []
        for module in (official, compat):
            compiler = module.ModelCompiler(
                module.SessionOptions(), str(source), flags=module.OrtCompileApiFlags.__members__[flags]
            )
            errors.append(failure(compiler.compile_to_file, str(existing)))
        assert isinstance(errors[1], compat.Fail) and str(errors[1]) == str(errors[0])


def test_model_compiler_refuses_what_the_core_cannot_pass() -> None:
    for module in (official, compat):
        for empty in ("", b""):
            with pytest.raises(ValueError, match="is empty"):
                module.ModelCompiler(module.SessionOptions(), empty)
    refused: list[dict[str, Any]] = [
        {"external_initializers_file_path": "weights.bin"},
        {"get_initializer_location_func": lambda *_: None},
        {"graph_optimization_level": compat.GraphOptimizationLevel.ORT_ENABLE_ALL},
    ]
    for arguments in refused:
        with pytest.raises(compat.NotImplemented, match="ModelCompiler's"):
            compat.ModelCompiler(compat.SessionOptions(), models.mlp(), **arguments)


# --- a plugin from PyPI ------------------------------------------------------------------------

GGML = "ggml"
GGML_OPTIONS = {"weights": "f32"}
# Real models the plugin takes whole and computes right (tests/test_plugins.py says why these).
REAL = ["openwakeword-alexa", "silero-vad-v4"]


@pytest.fixture(scope="module")
def ggml() -> Iterator[str]:
    if not runtime.FEATURES["provider_libraries"].available:
        pytest.skip("provider libraries need C API 22")
    try:
        path = str(ggml_library())
    except real_models.ModelUnavailable as error:
        pytest.skip(str(error))
    os.environ.setdefault(GGML_LOG_ENV, "error")  # its own tracing to stderr otherwise
    compat.register_execution_provider_library(GGML, path)
    registered_officially = GGML not in official.get_available_providers()
    if registered_officially:
        official.register_execution_provider_library(GGML, path)
    yield GGML
    gc.collect()  # the sessions made with it, both ways, are gone
    compat.unregister_execution_provider_library(GGML)
    if registered_officially:  # later tests compare both bindings' provider lists
        official.unregister_execution_provider_library(GGML)


def test_the_plugin_registered_through_compat_is_listed_as_by_the_official_binding(ggml: str) -> None:
    assert compat.get_available_providers() == official.get_available_providers()
    theirs = sorted(described(d) for d in official.get_ep_devices())
    ours = sorted(described(d) for d in compat.get_ep_devices())
    assert ours == theirs and ggml in [d.ep_name for d in compat.get_ep_devices()]
    for module in (official, compat):
        with pytest.raises(module.capi.onnxruntime_pybind11_state.Fail, match="already registered"):
            module.register_execution_provider_library(ggml, str(ggml_library()))
        with pytest.raises(module.capi.onnxruntime_pybind11_state.Fail):
            module.unregister_execution_provider_library("never-registered")


@pytest.mark.parametrize("name", REAL)
def test_a_plugin_by_name_gives_the_official_bindings_outputs(ggml: str, name: str) -> None:
    try:
        model = real_models.BY_NAME[name]
        path, feeds = str(real_models.fetch(model)), model.feeds()
    except real_models.ModelUnavailable as error:
        pytest.skip(str(error))
    pair = tuple(module.InferenceSession(path, providers=[(ggml, GGML_OPTIONS)]) for module in (official, compat))
    assert pair[1].get_providers() == pair[0].get_providers() == [ggml, CPU]
    assert pair[1].get_provider_options() == pair[0].get_provider_options()
    run_both(pair, feeds)


def test_a_plugin_added_by_name_by_device_and_by_policy_gives_the_official_outputs(ggml: str) -> None:
    def by_name(_: Any, options: Any) -> None:
        options.add_provider(ggml, GGML_OPTIONS)

    def by_device(module: Any, options: Any) -> None:
        options.add_provider_for_devices([d for d in module.get_ep_devices() if d.ep_name == ggml], GGML_OPTIONS)

    def by_policy(module: Any, options: Any) -> None:
        # A registered CPU plugin sorts before ONNX Runtime's own CPU provider: the policy picks it.
        options.set_provider_selection_policy(module.OrtExecutionProviderDevicePolicy.PREFER_CPU)
        options.add_session_config_entry("session.record_ep_graph_assignment_info", "1")

    for configure in (by_name, by_device, by_policy):
        pair = both(configure)
        assert pair[1].get_providers() == pair[0].get_providers() == [ggml, CPU], configure.__name__
        assert pair[1].get_provider_options() == pair[0].get_provider_options()
        run_both(pair, {"x": X})
    assert [g.ep_name for g in pair[1].get_provider_graph_assignment_info()] == [ggml]
    theirs = failure(official.SessionOptions().add_provider_for_devices, official.get_ep_devices(), {})
    ours = failure(compat.SessionOptions().add_provider_for_devices, compat.get_ep_devices(), {})
    assert isinstance(ours, compat.InvalidArgument) and str(ours) == str(theirs)


def test_a_plugin_in_use_is_not_unregistered(ggml: str) -> None:
    # The official binding unregisters it, and its session then crashes the process when it runs.
    compat.register_execution_provider_library("ggml-held", str(ggml_library()))
    made = compat.InferenceSession(models.mlp(), providers=[("ggml-held", GGML_OPTIONS)])
    with pytest.raises(compat.Fail, match="live session"):
        compat.unregister_execution_provider_library("ggml-held")
    expected = made.run(None, {"x": X})
    del made
    gc.collect()
    compat.unregister_execution_provider_library("ggml-held")
    assert "ggml-held" not in compat.get_available_providers()
    assert_same(expected, compat.InferenceSession(models.mlp(), providers=[(ggml, GGML_OPTIONS)]).run(None, {"x": X}))
