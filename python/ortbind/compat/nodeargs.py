"""``NodeArg`` and ``ModelMetadata``: a model's signature and metadata as the official binding shows them."""

from __future__ import annotations

from ..session import Metadata, ValueSpec
from ._types import node_shape, type_text


class NodeArg:
    """One input or output of a model: ``name``, ``type`` (``'tensor(float)'``) and ``shape`` (ints for
    fixed dims, strs for named ones, None for unknown ones; ``[]`` for a non-tensor or an unknown
    rank)."""

    __slots__ = ("_name", "_shape", "_type")

    def __init__(self, spec: ValueSpec) -> None:
        self._name = spec.name
        self._type = type_text(spec)
        self._shape = node_shape(spec)

    @property
    def name(self) -> str:
        return self._name

    @property
    def type(self) -> str:
        return self._type

    @property
    def shape(self) -> list[int | str | None]:
        # A new list each time, as the official binding builds one: a caller may change it.
        return list(self._shape)

    def __str__(self) -> str:
        return f"NodeArg(name={self._name!r}, type={self._type!r}, shape={self._shape!r})"

    __repr__ = __str__


class ModelMetadata:
    """The model's metadata: producer, graph name and description, domain, description, version and
    the custom metadata map (a dict of str to str)."""

    __slots__ = (
        "_custom_metadata_map",
        "_description",
        "_domain",
        "_graph_description",
        "_graph_name",
        "_producer_name",
        "_version",
    )

    def __init__(self, metadata: Metadata) -> None:
        self._producer_name = metadata.producer
        self._graph_name = metadata.graph_name
        self._graph_description = metadata.graph_description
        self._domain = metadata.domain
        self._description = metadata.description
        self._version = metadata.version
        self._custom_metadata_map = dict(metadata.custom)

    @property
    def producer_name(self) -> str:
        return self._producer_name

    @property
    def graph_name(self) -> str:
        return self._graph_name

    @property
    def graph_description(self) -> str:
        return self._graph_description

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def description(self) -> str:
        return self._description

    @property
    def version(self) -> int:
        return self._version

    @property
    def custom_metadata_map(self) -> dict[str, str]:
        return dict(self._custom_metadata_map)
