"""``ModelCompiler``: a model compiled for its execution providers into an EPContext model, over
:func:`ortbind.compile` (ONNX Runtime's compile API).

The providers are those the ``SessionOptions`` chose (``add_provider``, ``add_provider_for_devices``,
``set_provider_selection_policy``), with the other session options. What ortbind's core does not
pass to the compile API is refused with ``NotImplemented`` naming it, never ignored: a graph
optimization level other than the compile API's default (``ORT_DISABLE_ALL``), a file for the
initializers of nodes not compiled, a function placing each initializer, and the EPContext data
hooks.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import Error, NotImplementedInRuntime
from ..runtime import compile as _compile
from .enums import GraphOptimizationLevel, OrtCompileApiFlags
from .errors import worded
from .options import SessionOptions
from .providers import CPU


def _unsupported(what: str) -> NotImplementedInRuntime:
    return NotImplementedInRuntime(f"ortbind.compat: ModelCompiler's {what} is not supported by ortbind's core")


class ModelCompiler:
    """Compiles a model for the providers of ``sess_options``: ``compile_to_file(path)``,
    ``compile_to_bytes()`` or ``compile_to_stream(write)``."""

    def __init__(
        self,
        sess_options: SessionOptions,
        input_model_path_or_bytes: str | os.PathLike[str] | bytes,
        embed_compiled_data_into_model: bool = False,
        external_initializers_file_path: str | os.PathLike[str] | None = None,
        external_initializers_size_threshold: int = 1024,
        flags: int = OrtCompileApiFlags.NONE,
        graph_optimization_level: GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
        get_initializer_location_func: Callable[..., Any] | None = None,
    ) -> None:
        self._model: str | bytes
        if isinstance(input_model_path_or_bytes, str | os.PathLike):
            if not input_model_path_or_bytes:
                raise ValueError("Input model path is empty")
            self._model = os.fspath(input_model_path_or_bytes)
        elif isinstance(input_model_path_or_bytes, bytes):
            if not input_model_path_or_bytes:
                raise ValueError("Input model bytes array is empty")
            self._model = input_model_path_or_bytes
        else:
            raise TypeError(f"Unable to load from type '{type(input_model_path_or_bytes)}'")
        if external_initializers_file_path:
            raise _unsupported("external_initializers_file_path")
        if get_initializer_location_func is not None:
            raise _unsupported("get_initializer_location_func")
        if GraphOptimizationLevel(graph_optimization_level) != GraphOptimizationLevel.ORT_DISABLE_ALL:
            raise _unsupported("graph_optimization_level other than ORT_DISABLE_ALL")
        chosen, policy = sess_options.providers()
        self._arguments: dict[str, Any] = {
            **sess_options.session_arguments(),
            # The level is this call's, not the options': the official binding's too.
            "optimization": "disabled",
            "providers": [(target, settings) for target, settings in chosen if target != CPU] or None,
            "provider_policy": policy,
            "embed": bool(embed_compiled_data_into_model),
            "require_compiled": bool(flags & OrtCompileApiFlags.ERROR_IF_NO_NODES_COMPILED),
            "overwrite": not flags & OrtCompileApiFlags.ERROR_IF_OUTPUT_FILE_EXISTS,
        }

    def compile_to_file(self, output_model_path: str | os.PathLike[str]) -> None:
        """Writes the compiled model to ``output_model_path``."""
        if not isinstance(output_model_path, str | os.PathLike):
            raise TypeError(f"Output model's filepath is of unexpected type '{type(output_model_path)}'")
        try:
            _compile(self._model, output_model_path, **self._arguments)
        except Error as error:
            raise worded(error) from None

    def compile_to_bytes(self) -> bytes:
        """The compiled model, serialized (written through a temporary file)."""
        with tempfile.TemporaryDirectory(prefix="ortbind-compile-") as folder:
            output = Path(folder) / "model.onnx"
            self.compile_to_file(output)
            return output.read_bytes()

    def compile_to_stream(self, write_function: Callable[[bytes], None]) -> None:
        """Hands the compiled model, serialized, to ``write_function``."""
        write_function(self.compile_to_bytes())

    def set_ep_context_data_write_func(self, write_func: Callable[..., Any]) -> None:
        raise _unsupported("set_ep_context_data_write_func")

    def clear_ep_context_data_write_func(self) -> None:
        """Nothing to clear: no write function can be set."""

    def set_ep_context_binary_information(self, output_directory: str | os.PathLike[str], model_name: str) -> None:
        raise _unsupported("set_ep_context_binary_information")
