"""What every subcommand shares: the user-error type, opening a model, optional dependencies."""

from __future__ import annotations

import argparse
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _core, runtime
from ..session import Session


class UsageError(Exception):
    """A mistake of the user's (a missing file, a wrong option, feeds that do not fit): the command
    prints the message on one line and exits with status 2, without a traceback."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def require(command: str, *modules: str) -> None:
    """Imports the optional packages a subcommand needs, or says how to install them."""
    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise UsageError(f"ortbind {command} needs {', '.join(missing)}: pip install 'ortbind[cli]'")


def model_path(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise UsageError(f"{text}: no such file")
    if path.is_dir():
        raise UsageError(f"{text}: is a folder, not an ONNX model file")
    return path


def quiet_env() -> _core.Env | None:
    """An environment that logs fatal errors only (the runtime's warnings about a user's model are
    not results, and a run's error is reported by the command itself), or None (the live one) where
    another is in use in this process. Not kept: it ends with the command's sessions, so that a
    process calling :func:`ortbind.cli.main` may make an environment of its own afterwards."""
    try:
        return _core.Env(log_level="fatal", log_id="ortbind-cli")
    except _core.EnvError:
        return None


@dataclass(frozen=True)
class Providers:
    """The execution providers a command's sessions use (``--provider``, ``--provider-library``,
    ``--provider-policy``); none given: the CPU provider."""

    libraries: list[tuple[str, str]] = field(default_factory=list)  # (name, path) to register first
    providers: list[str | tuple[str, dict[str, str]]] = field(default_factory=list)
    policy: str | None = None

    def register(self) -> None:
        """Registers the provider libraries with ortbind's runtime (those not registered yet)."""
        for name, path in self.libraries:
            if name not in runtime.available_providers():
                try:
                    runtime.register_provider_library(name, path)
                except _core.Error as error:
                    raise UsageError(f"--provider-library {name}={path}: {first_line(error)}") from None

    def session_options(self) -> dict[str, Any]:
        return {"providers": self.providers or None, "provider_policy": self.policy}


def add_provider_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("execution providers (default: the CPU provider)")
    group.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="NAME[:KEY=VALUE,...]",
        help="an execution provider by name, with options (repeat, in priority order): a built-in one, or one a "
        "--provider-library registered",
    )
    group.add_argument(
        "--provider-library",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="registers an execution provider library (a plugin) under NAME first (repeat for several)",
    )
    group.add_argument(
        "--provider-policy",
        metavar="POLICY",
        help="ONNX Runtime picks the providers: default, prefer_cpu, prefer_npu, prefer_gpu, max_performance, "
        "max_efficiency, min_overall_power",
    )


def providers_from(args: argparse.Namespace) -> Providers:
    libraries = []
    for entry in args.provider_library:
        name, sep, path = entry.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--provider-library {entry}: give NAME=PATH")
        libraries.append((name, os.path.abspath(path)))
    providers: list[str | tuple[str, dict[str, str]]] = []
    for entry in args.provider:
        name, _, rest = entry.partition(":")
        options = {}
        for pair in filter(None, rest.split(",")):
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise UsageError(f"--provider {entry}: options are KEY=VALUE, separated by commas")
            options[key] = value
        providers.append((name, options) if options else name)
    return Providers(libraries, providers, args.provider_policy)


def open_session(
    path: Path,
    *,
    intra_op_threads: int | None = None,
    inter_op_threads: int | None = None,
    providers: Providers | None = None,
) -> Session:
    """ortbind's session on the model, or a :class:`UsageError` saying why ONNX Runtime refused it."""
    chosen = providers or Providers()
    chosen.register()
    try:
        return Session(
            os.fspath(path),
            env=quiet_env(),
            intra_op_threads=intra_op_threads,
            inter_op_threads=inter_op_threads,
            **chosen.session_options(),
        )
    except _core.Error as error:
        raise UsageError(
            f"{path}: not a model ONNX Runtime can load ({type(error).__name__}: {first_line(error)})"
        ) from None
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror or error}") from None
