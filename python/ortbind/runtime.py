"""The loaded ONNX Runtime: which file, which version, which C API and what it allows, its execution
providers, the provider libraries (plugins) registered with it and the devices it offers.

The library is the one the ``onnxruntime`` wheel ships (or ``ORTBIND_LIBRARY``), dlopen'ed when
``ortbind`` is imported; see ``ortbind._library`` for how it is found. ortbind runs on any runtime
from C API version 21 (ONNX Runtime 1.21); what needs a newer one is listed in :data:`FEATURES` and
refused on its own, with the versions named (``NotImplementedInRuntime``), never the whole runtime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import _core, _logging

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .options import SessionOptions

from ._core import API_VERSION, BUILD_API_VERSION, RUNTIME_PATH, RUNTIME_VERSION, available_providers

__all__ = [
    "API_VERSION",
    "BUILD_API_VERSION",
    "FEATURES",
    "RUNTIME_PATH",
    "RUNTIME_VERSION",
    "Device",
    "Feature",
    "available_providers",
    "compile",
    "devices",
    "flush_logs",
    "register_provider_library",
    "unregister_provider_library",
]


@dataclass(frozen=True)
class Feature:
    """What needs a newer C API than ortbind's baseline: the version that brought it, and whether
    both the loaded runtime and this build have it."""

    api: int
    available: bool


FEATURES: Mapping[str, Feature] = {name: Feature(api, ok) for name, (api, ok) in _core.FEATURES.items()}
"""``provider_libraries``, ``provider_policy``, ``load_cancellation``, ``compile``,
``compile_flags``, ``node_assignment``, ``run_profiling``."""


@dataclass(frozen=True)
class Device:
    """A device ONNX Runtime offers, and the execution provider that offers it. Pass it in
    ``Session(providers=[device])`` or ``[(device, {option: value})]``; the session asks the runtime
    for it again by provider, type and ids, so a device whose library was unregistered is refused."""

    ep_name: str
    ep_vendor: str
    type: str  # "cpu", "gpu" or "npu"
    vendor: str
    vendor_id: int
    device_id: int
    ep_metadata: Mapping[str, str] = field(default_factory=dict, compare=False)
    ep_options: Mapping[str, str] = field(default_factory=dict, compare=False)
    metadata: Mapping[str, str] = field(default_factory=dict, compare=False)


def devices() -> list[Device]:
    """The devices the runtime offers now: the CPU provider's, and those of every registered
    provider library."""
    found = []
    for ep_name, ep_vendor, ep_metadata, ep_options, kind, vendor, vendor_id, device_id, metadata in _core._devices():
        found.append(
            Device(
                ep_name,
                ep_vendor,
                kind,
                vendor,
                vendor_id,
                device_id,
                dict(ep_metadata),
                dict(ep_options),
                dict(metadata),
            )
        )
    return found


def register_provider_library(name: str, path: str | os.PathLike[str]) -> None:
    """Registers an execution provider library (a plugin, such as ``onnxruntime-ggml``'s) under
    ``name``: its providers' devices appear in :func:`devices`, and ``Session(providers=[name])``
    runs on them. The registration lives as long as the process's environment, which it keeps."""
    _core.register_provider_library(name, os.path.abspath(os.fsdecode(path)))


def unregister_provider_library(name: str) -> None:
    """Unregisters a provider library; refused while a session made with it lives (a session of an
    unregistered plugin would crash the process when it runs)."""
    _core.unregister_provider_library(name)


def flush_logs() -> None:
    """Hands every ONNX Runtime log record queued so far to the ``ortbind.onnxruntime`` logger now,
    on this thread (ortbind's log thread does so on its own as they come)."""
    _logging.flush()


def compile(
    model: str | os.PathLike[str] | bytes | bytearray | memoryview,
    output: str | os.PathLike[str],
    *,
    env: _core.Env | None = None,
    embed: bool = False,
    require_compiled: bool = False,
    overwrite: bool = True,
    **options: Unpack[SessionOptions],
) -> None:
    """Compiles ``model`` for its execution providers (``providers=``, ``provider_policy=`` and the
    other session options, as :class:`ortbind.Session` takes them) into an EPContext model at
    ``output``, which later sessions load without compiling again (ONNX Runtime's compile API, C API
    22). ``embed`` puts the providers' compiled blobs inside the model; ``require_compiled`` makes a
    model no provider compiled an error rather than a copy; ``overwrite=False`` refuses an existing
    file (both C API 23). Runs with the GIL released."""
    given = {name: value for name, value in options.items() if value is not None}
    _core.compile(model, output, env=env, embed=embed, require_compiled=require_compiled, overwrite=overwrite, **given)
