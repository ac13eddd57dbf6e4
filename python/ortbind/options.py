"""The options :class:`ortbind.Session` takes.

One table in the compiled core (``_core.SESSION_OPTIONS``, written in ``cpp/session/config.cpp``)
names each option with its default, its type and its documentation, and parses it; this module
exposes that table as :data:`SESSION_OPTIONS`, and :class:`SessionOptions` types the keyword
arguments for static checkers. The tests check that the two agree, and the docs' option reference
is written from the table.
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import numpy as np

from . import _core
from .runtime import Device
from .weights import PrepackedWeights

Provider = str | Device | tuple[str | Device, Mapping[str, Any]]
Buffer = bytes | bytearray | memoryview


class SessionOptions(TypedDict, total=False):
    """The keyword arguments of ``Session(model, *, env=None, **options)``; None leaves an option as
    ONNX Runtime sets it. See :data:`SESSION_OPTIONS` for what each one does."""

    providers: Sequence[Provider] | None
    provider_policy: (
        Literal[
            "default",
            "prefer_cpu",
            "prefer_npu",
            "prefer_gpu",
            "max_performance",
            "max_efficiency",
            "min_overall_power",
        ]
        | None
    )
    optimization: Literal["disabled", "basic", "extended", "all"]
    intra_op_threads: int | None
    inter_op_threads: int | None
    execution_mode: Literal["sequential", "parallel"]
    free_dimensions: Mapping[str, int] | None
    config: Mapping[str, str] | None
    profile: str | os.PathLike[str] | None
    custom_op_libraries: Sequence[str | os.PathLike[str]] | None
    prepacked_weights: PrepackedWeights | None
    initializers: Mapping[str, np.ndarray[Any, Any]] | None
    external_data: Mapping[str, Buffer] | None
    cpu_arena: bool | None
    memory_pattern: bool | None
    optimized_model: str | os.PathLike[str] | None
    deterministic: bool | None
    log_level: Literal["verbose", "info", "warning", "error", "fatal"] | None
    reuse_outputs: bool | None


class RunSettings(TypedDict, total=False):
    """What a run may set for itself, on ``run``, ``Binding.run`` and ``run_async`` alike: a ``tag``
    ONNX Runtime's log names the run by, a ``log_level`` for this run's log records, ``run_config``
    entries (``onnxruntime_run_options_config_keys.h``), and a ``profile`` path prefix for ONNX
    Runtime's profile of this run alone (C API 25; see ``ortbind.runtime.FEATURES``)."""

    tag: str | None
    log_level: Literal["verbose", "info", "warning", "error", "fatal"] | None
    run_config: Mapping[str, str] | None
    profile: str | os.PathLike[str] | None


@dataclass(frozen=True)
class SessionOption:
    """One row of the table: the option's name, its default, its type as the stub writes it, and
    what it does."""

    name: str
    default: Any
    annotation: str
    doc: str


SESSION_OPTIONS: tuple[SessionOption, ...] = tuple(
    SessionOption(name, ast.literal_eval(default), annotation, doc)
    for name, default, annotation, doc in _core.SESSION_OPTIONS
)


def session_signature(model_annotation: str) -> inspect.Signature:
    """``Session.__init__``'s signature as help() and IDEs show it: every option by name."""
    parameters = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=model_annotation),
        inspect.Parameter("env", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Env | None"),
        inspect.Parameter("timeout", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="float | None"),
        inspect.Parameter("cancel", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="CancelToken | None"),
    ]
    parameters += [
        inspect.Parameter(
            option.name, inspect.Parameter.KEYWORD_ONLY, default=option.default, annotation=option.annotation
        )
        for option in SESSION_OPTIONS
    ]
    return inspect.Signature(parameters, return_annotation="None")


def markdown_table() -> str:
    """The table as the docs' option reference shows it (docs/reference/options.md, checked by the
    tests against this)."""
    rows = ["| option | default | type | what it does |", "|---|---|---|---|"]
    for option in SESSION_OPTIONS:
        kind = option.annotation.replace("|", "\\|")
        rows.append(f"| `{option.name}` | `{option.default!r}` | `{kind}` | {option.doc} |")
    return "\n".join(rows) + "\n"
