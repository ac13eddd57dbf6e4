"""Execution provider libraries (plugins), the devices ONNX Runtime offers, and where a session's
nodes run, as the official binding shows them.

``register_execution_provider_library`` and ``unregister_execution_provider_library`` are ortbind's
(:mod:`ortbind.runtime`), with the official binding's error class (``Fail``). ortbind refuses to
unregister a library while a session made with it lives, where the official binding lets the
session crash the process when it next runs. ``get_ep_devices()`` lists
:func:`ortbind.runtime.devices` as ``OrtEpDevice`` objects, each holding the ortbind
:class:`~ortbind.runtime.Device` that sessions are given.
"""

from __future__ import annotations

import os

from .. import runtime
from ..errors import Error
from .enums import OrtHardwareDeviceType
from .errors import Fail, ort_message, worded

_DEVICE_TYPES = {"cpu": OrtHardwareDeviceType.CPU, "gpu": OrtHardwareDeviceType.GPU, "npu": OrtHardwareDeviceType.NPU}


class OrtHardwareDevice:
    """A piece of hardware: its ``type``, ``vendor``, ``vendor_id``, ``device_id`` and ``metadata``."""

    __slots__ = ("_device",)

    def __init__(self, device: runtime.Device) -> None:
        self._device = device

    @property
    def type(self) -> OrtHardwareDeviceType:
        return _DEVICE_TYPES[self._device.type]

    @property
    def vendor(self) -> str:
        return self._device.vendor

    @property
    def vendor_id(self) -> int:
        return self._device.vendor_id

    @property
    def device_id(self) -> int:
        return self._device.device_id

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self._device.metadata)


class OrtEpDevice:
    """A device and the execution provider that offers it (``get_ep_devices()``), as
    ``SessionOptions.add_provider_for_devices`` takes it."""

    __slots__ = ("_device",)

    def __init__(self, device: runtime.Device) -> None:
        self._device = device

    @property
    def ep_name(self) -> str:
        return self._device.ep_name

    @property
    def ep_vendor(self) -> str:
        return self._device.ep_vendor

    @property
    def ep_metadata(self) -> dict[str, str]:
        return dict(self._device.ep_metadata)

    @property
    def ep_options(self) -> dict[str, str]:
        return dict(self._device.ep_options)

    @property
    def device(self) -> OrtHardwareDevice:
        return OrtHardwareDevice(self._device)


def get_ep_devices() -> list[OrtEpDevice]:
    """The devices ONNX Runtime offers now: the CPU provider's, and those of every registered
    provider library."""
    return [OrtEpDevice(device) for device in runtime.devices()]


def _as_fail(error: Error) -> Error:
    """ortbind's refusal as the official binding's class: ONNX Runtime's own errors keep theirs."""
    if isinstance(getattr(error, "code", None), int):
        return worded(error)
    return Fail(ort_message(1, str(error)))


def register_execution_provider_library(registration_name: str, library_path: str | os.PathLike[str]) -> None:
    """Registers a plugin's library under ``registration_name``: its providers' devices appear in
    :func:`get_ep_devices`, and ``providers=[registration_name]`` runs on them."""
    try:
        runtime.register_provider_library(registration_name, library_path)
    except Error as error:
        raise _as_fail(error) from error


def unregister_execution_provider_library(registration_name: str) -> None:
    """Unregisters a plugin's library; refused (``Fail``) while a session made with it lives."""
    try:
        runtime.unregister_provider_library(registration_name)
    except Error as error:
        raise _as_fail(error) from error


class OrtEpAssignedNode:
    """A node of the optimized graph: its ``name``, ``op_type`` and ``domain``."""

    __slots__ = ("domain", "name", "op_type")

    def __init__(self, name: str, op_type: str, domain: str) -> None:
        self.name, self.op_type, self.domain = name, op_type, domain


class OrtEpAssignedSubgraph:
    """The nodes one execution provider runs (``InferenceSession.get_provider_graph_assignment_info``)."""

    __slots__ = ("_nodes", "ep_name")

    def __init__(self, ep_name: str, nodes: list[OrtEpAssignedNode]) -> None:
        self.ep_name = ep_name
        self._nodes = nodes

    def get_nodes(self) -> list[OrtEpAssignedNode]:
        return list(self._nodes)
