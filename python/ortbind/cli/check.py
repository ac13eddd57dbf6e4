"""``ortbind check MODEL``: the model through ortbind and through the official binding on the same
feeds, every output compared bit for bit. Exit status 0 when all are identical, 1 when any differs
(or one binding fails where the other runs), 2 on a usage or load error."""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import _core
from .._bench.contenders import Target, ort_options, ort_session
from ..session import Session
from ._common import (
    Providers,
    UsageError,
    add_provider_options,
    first_line,
    model_path,
    open_session,
    providers_from,
    require,
)
from ._compare import Difference, compare
from ._feeds import Feeds, load_npz, make_feeds, parse_dims, parse_shapes


def add_feed_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("feeds (random values valid for the model's contract, unless --feeds gives them)")
    group.add_argument(
        "--feeds", metavar="FILE.npz", help="inputs saved with np.savez(name=array, ...); inputs it lacks are random"
    )
    group.add_argument(
        "--dim", action="append", default=[], metavar="NAME=SIZE", help="size of a named dim (repeatable; others are 1)"
    )
    group.add_argument(
        "--shape", action="append", default=[], metavar="INPUT=D1xD2x...", help="one input's whole shape (repeatable)"
    )
    group.add_argument("--seed", type=int, default=0, help="seed of the random values (default 0)")


def add_thread_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads", type=int, default=1, metavar="N", help="intra-op threads of every session (default 1)"
    )


def feeds_for(session: Session, args: argparse.Namespace) -> Feeds:
    dims = parse_dims(args.dim)
    shapes = parse_shapes(args.shape)
    given = load_npz(args.feeds) if args.feeds else {}
    return make_feeds(session, dims=dims, shapes=shapes, seed=args.seed, given=given, source=args.feeds or "")


_ORT_PREFIX = re.compile(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ")
_NESTED = "Non-zero status code returned while running "


def run_error(error: BaseException) -> str:
    """A run's error in one line: the official binding's code prefix dropped, and of ONNX Runtime's
    nested "while running If node ... while running Pad node ..." only the innermost node."""
    text = _ORT_PREFIX.sub("", first_line(error))
    if _NESTED in text:
        text = text[text.rindex(_NESTED) :]
    return text


def describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        kind = "string" if value.dtype.kind in "OUS" else str(value.dtype)
        return f"{kind}[{', '.join(str(d) for d in value.shape)}]"
    if isinstance(value, list):
        return f"list of {len(value)}"
    return type(value).__name__


@dataclass
class Comparison:
    """Both bindings' outputs on the same feeds, and every difference between them."""

    outputs: list[str]
    ours: dict[str, Any] = field(default_factory=dict)
    theirs: dict[str, Any] = field(default_factory=dict)
    differences: dict[str, list[Difference]] = field(default_factory=dict)
    ours_error: str = ""
    theirs_error: str = ""

    @property
    def identical(self) -> bool:
        return not self.ours_error and not self.theirs_error and not any(self.differences.values())


def official_session(path: Path, feeds: Feeds, threads: int, providers: Providers | None) -> Any:
    """The official binding's session with the same options and providers as ortbind's (its own
    registration of the same provider libraries)."""
    target = Target(path, feeds.arrays, intra_op_threads=threads, inter_op_threads=1, ort_log_severity=4)
    if providers is None or not (providers.providers or providers.policy):
        return ort_session(target)
    import onnxruntime as ort

    for name, library in providers.libraries:
        if name not in ort.get_available_providers():
            ort.register_execution_provider_library(name, library)
    options = ort_options(target)
    if providers.policy:
        options.set_provider_selection_policy(getattr(ort.OrtExecutionProviderDevicePolicy, providers.policy.upper()))
    names = [p if isinstance(p, str) else p[0] for p in providers.providers]
    provider_options = [{} if isinstance(p, str) else p[1] for p in providers.providers]
    return ort.InferenceSession(
        os.fspath(path), options, providers=names or None, provider_options=provider_options or None
    )


def compare_bindings(
    path: Path, session: Session, feeds: Feeds, threads: int, providers: Providers | None = None
) -> Comparison:
    """Runs ``feeds`` through ``session`` (ortbind) and the official binding with the same options."""
    result = Comparison(list(session.output_names))
    try:
        result.ours = dict(session.run(feeds.arrays))
    except _core.ValidationError as error:
        raise UsageError(f"the feeds do not fit the model: {first_line(error)}") from None
    except _core.Error as error:
        result.ours_error = run_error(error)
    try:
        official = official_session(path, feeds, threads, providers)
    except Exception as error:
        result.theirs_error = f"the official binding cannot load the model: {first_line(error)}"
    else:
        try:
            values = official.run(None, feeds.arrays)
            result.theirs = {meta.name: value for meta, value in zip(official.get_outputs(), values, strict=True)}
        except Exception as error:
            result.theirs_error = run_error(error)
    if result.ours_error and result.theirs_error:
        said = (
            f"both: {result.ours_error}"
            if result.ours_error == result.theirs_error
            else f"ortbind: {result.ours_error}; onnxruntime: {result.theirs_error}"
        )
        raise UsageError(f"both bindings refused these feeds ({said}); give valid ones with --feeds FILE.npz")
    if not result.ours_error and not result.theirs_error:
        for name in result.outputs:
            result.differences[name] = compare(name, result.ours.get(name), result.theirs.get(name))
    return result


def run(args: argparse.Namespace) -> int:
    path = model_path(args.model)
    require("check", "tabulate")
    import onnxruntime
    from tabulate import tabulate

    providers = providers_from(args)
    session = open_session(path, intra_op_threads=args.threads, inter_op_threads=1, providers=providers)
    try:
        feeds = feeds_for(session, args)
        outcome = compare_bindings(path, session, feeds, args.threads, providers)
    finally:
        session.close()
    origin = f"random, seed {args.seed}"
    print(
        tabulate(
            [(n, t, origin if w == "random" else w) for n, t, w in feeds.describe()],
            headers=["input", "fed", "from"],
            disable_numparse=True,
        )
    )
    print()
    versions = f"ortbind on ONNX Runtime {_core.RUNTIME_VERSION}, onnxruntime {onnxruntime.__version__}"
    if outcome.ours_error or outcome.theirs_error:
        failed, ran = ("ortbind", "onnxruntime") if outcome.ours_error else ("onnxruntime", "ortbind")
        print(f"DIFFERENT: {failed} failed where {ran} ran ({versions})")
        print(f"  {failed}: {outcome.ours_error or outcome.theirs_error}")
        return 1
    rows = []
    for name in outcome.outputs:
        found = outcome.differences[name]
        shown = [d.text if d.where == name else str(d) for d in found[:3]]
        verdict = "identical" if not found else "DIFFERS: " + "; ".join(shown)
        if len(found) > 3:
            verdict += f"; and {len(found) - 3} more"
        rows.append((name, describe(outcome.ours.get(name)), verdict))
    print(tabulate(rows, headers=["output", "ortbind gave", "against onnxruntime"], disable_numparse=True))
    print()
    differing = [n for n in outcome.outputs if outcome.differences[n]]
    if differing:
        print(
            f"DIFFERENT: {len(differing)} of {len(outcome.outputs)} outputs differ ({', '.join(differing)}; {versions})"
        )
        return 1
    outputs = "the output is" if len(outcome.outputs) == 1 else f"all {len(outcome.outputs)} outputs are"
    print(f"identical: {outputs} the same bit for bit ({versions})")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="ortbind's outputs against the official binding's, bit for bit",
        description="Runs the model through ortbind and through onnxruntime.InferenceSession on the same feeds "
        "and compares every output bit for bit. Exit status: 0 identical, 1 different, 2 usage or load error.",
    )
    parser.add_argument("model", metavar="MODEL", help="an .onnx file")
    add_feed_options(parser)
    add_thread_option(parser)
    add_provider_options(parser)
    parser.set_defaults(run=run)
