"""``ortbind info MODEL``: what a model takes and gives, what wrote it, and what this runtime offers."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from .. import _core, runtime
from ..session import Session, ValueSpec
from ._common import (
    Providers,
    add_provider_options,
    first_line,
    model_path,
    open_session,
    providers_from,
    require,
)
from ._feeds import dim_names

UNSET_VERSION = (1 << 63) - 1  # what ONNX Runtime reports for a model that sets no model_version


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _tensors(graph: Any) -> Any:
    """Every tensor of a graph, its nodes' attributes and their subgraphs included."""
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _tensors(subgraph)


def onnx_facts(path: Path) -> dict[str, Any]:
    """What the onnx package reads from the file and ONNX Runtime does not report: opsets, IR
    version, node count and external data files. ``{"unavailable": why}`` without it."""
    try:
        import onnx
        from onnx.external_data_helper import uses_external_data
    except ImportError:
        return {"unavailable": "needs the onnx package (pip install onnx)"}
    try:
        model = onnx.load(os.fspath(path), load_external_data=False)
    except Exception as error:
        return {"unavailable": f"the onnx package could not parse it ({first_line(error)})"}
    external: dict[str, dict[str, Any]] = {}
    for tensor in _tensors(model.graph):
        if not uses_external_data(tensor):
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "?")
        entry = external.setdefault(location, {"file": location, "tensors": 0, "size": None})
        entry["tensors"] += 1
        data = path.parent / location
        entry["size"] = data.stat().st_size if data.is_file() else None
    return {
        "ir_version": model.ir_version,
        "producer_version": model.producer_version,
        "opsets": {entry.domain or "ai.onnx": entry.version for entry in model.opset_import},
        "nodes": len(model.graph.node),
        "initializers": len(model.graph.initializer),
        "functions": len(model.functions),
        "external_data": list(external.values()),
    }


def _value(spec: ValueSpec, session: Session, inputs: bool) -> dict[str, Any]:
    rules = session.contract.inputs if inputs else session.contract.outputs
    rule = rules.get(spec.name)
    return {
        "name": spec.name,
        "kind": spec.kind,
        "type": spec.type,
        "contract": str(rule) if rule is not None else spec.type,
        "declared_shape": list(spec.shape) if spec.shape is not None else None,
    }


def assignment(session: Session) -> list[dict[str, Any]] | None:
    """Which provider runs which nodes (op types counted), where the runtime says (C API 24)."""
    if not runtime.FEATURES["node_assignment"].available:
        return None
    merged: dict[str, dict[str, int]] = {}
    for provider, nodes in session.node_assignment():
        counts = merged.setdefault(provider, {})
        for node in nodes:
            op = f"{node.domain}.{node.op_type}" if node.domain else node.op_type
            counts[op] = counts.get(op, 0) + 1
    return [{"provider": p, "nodes": sum(c.values()), "op_types": c} for p, c in merged.items()]


def gather(path: Path, providers: Providers | None = None) -> dict[str, Any]:
    session = open_session(path, providers=providers)
    try:
        metadata = session.metadata
        facts: dict[str, Any] = {
            "model": os.fspath(path),
            "file_size": path.stat().st_size,
            "inputs": [_value(spec, session, True) for spec in session.inputs],
            "outputs": [_value(spec, session, False) for spec in session.outputs],
            "contract": str(session.contract),
            "named_dims": list(session.contract.symbols),
            "placeholder_dims": [d for d in dim_names(session) if d not in session.contract.symbols],
            "metadata": {
                "producer": metadata.producer,
                "graph_name": metadata.graph_name,
                "graph_description": metadata.graph_description,
                "domain": metadata.domain,
                "description": metadata.description,
                "version": None if metadata.version == UNSET_VERSION else metadata.version,
                "custom": dict(metadata.custom),
            },
            "onnx": onnx_facts(path),
            "node_assignment": assignment(session),
            "runtime": {
                "version": _core.RUNTIME_VERSION,
                "library": _core.RUNTIME_PATH,
                "api_version": _core.API_VERSION,
                "providers": list(_core.available_providers()),
            },
        }
    finally:
        session.close()
    return facts


def _declared(entry: dict[str, Any]) -> str:
    shape = entry["declared_shape"]
    if shape is None:
        return ""
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def render(facts: dict[str, Any]) -> str:
    from tabulate import tabulate

    meta, onnx_part, runtime = facts["metadata"], facts["onnx"], facts["runtime"]
    producer = meta["producer"] or "(not recorded)"
    if onnx_part.get("producer_version"):
        producer += f" {onnx_part['producer_version']}"
    rows: list[tuple[str, str]] = [
        ("model", f"{facts['model']} ({_size(facts['file_size'])})"),
        ("producer", producer),
        ("graph", meta["graph_name"] + (f": {meta['graph_description']}" if meta["graph_description"] else "")),
    ]
    for key in ("domain", "description", "version"):
        if meta[key] not in ("", None):
            rows.append((key, str(meta[key])))
    if "unavailable" in onnx_part:
        rows += [("opsets", onnx_part["unavailable"]), ("external data", onnx_part["unavailable"])]
    else:
        rows.append(("opsets", ", ".join(f"{d} {v}" for d, v in onnx_part["opsets"].items())))
        rows.append(("IR version", str(onnx_part["ir_version"])))
        rows.append(
            (
                "graph size",
                f"{onnx_part['nodes']} nodes, {onnx_part['initializers']} initializers"
                + (f", {onnx_part['functions']} functions" if onnx_part["functions"] else ""),
            )
        )
        files = onnx_part["external_data"]
        rows.append(
            (
                "external data",
                "; ".join(
                    f"{f['file']} ({_size(f['size']) if f['size'] is not None else 'MISSING'}, {f['tensors']} tensors)"
                    for f in files
                )
                or "none",
            )
        )
    custom = meta["custom"]
    rows.append(("custom metadata", ", ".join(f"{k}={v}" for k, v in custom.items()) or "none"))
    lines = [str(tabulate(rows, tablefmt="plain", disable_numparse=True))]
    for side in ("inputs", "outputs"):
        table = [(e["name"], e["contract"], _declared(e)) for e in facts[side]]
        lines += ["", f"{side} ({len(table)})"]
        lines.append(str(tabulate(table, headers=["name", "type", "declared dims"], disable_numparse=True)))
    named, placeholders = facts["named_dims"], facts["placeholder_dims"]
    dims = f"named dims: {', '.join(named) or 'none'}"
    if placeholders:
        dims += f"; placeholder names, unknown dims (?) to the contract: {', '.join(placeholders)}"
    if named or placeholders:
        dims += " (--dim NAME=SIZE sizes any of them; other dims are 1)"
    if facts["node_assignment"] is not None:
        table = [
            (e["provider"], e["nodes"], ", ".join(f"{op} x{n}" for op, n in sorted(e["op_types"].items())))
            for e in facts["node_assignment"]
        ]
        lines += ["", "execution providers of the optimized graph's nodes"]
        lines.append(str(tabulate(table, headers=["provider", "nodes", "op types"], disable_numparse=True)))
    lines += [
        "",
        dims,
        f"runtime: ONNX Runtime {runtime['version']} ({runtime['library']}), C API {runtime['api_version']}",
        f"execution providers: {', '.join(runtime['providers'])}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    path = model_path(args.model)
    if not args.json:
        require("info", "tabulate")
    facts = gather(path, providers_from(args))
    print(json.dumps(facts, indent=2) if args.json else render(facts))
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "info",
        help="what a model takes and gives, what wrote it, what this runtime offers",
        description="Inputs and outputs with the contract ortbind checks (named dims, unknown dims as ?), "
        "metadata, opsets, file size, external data files and this runtime's execution providers.",
    )
    parser.add_argument("model", metavar="MODEL", help="an .onnx file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    add_provider_options(parser)
    parser.set_defaults(run=run)
