"""The VS Code manifest as the single source of the server settings' defaults, for Python tests."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
MANIFEST = EXTENSION / "package.json"
SECTION = "versprochen"
# Settings only the extension reads; everything else under `versprochen.` goes to the server.
EXTENSION_ONLY = ("server.path", "server.extraArgs", "filePatterns", "trace.server")


@cache
def manifest() -> dict[str, Any]:
    """The parsed `editors/vscode/package.json`."""
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


def properties() -> dict[str, dict[str, Any]]:
    """Every contributed `versprochen.*` setting by its key without the prefix, across all groups."""
    out: dict[str, dict[str, Any]] = {}
    for group in manifest()["contributes"]["configuration"]:
        for name, spec in group["properties"].items():
            assert name.startswith(SECTION + "."), name
            out[name.removeprefix(SECTION + ".")] = spec
    return out


def server_properties() -> dict[str, dict[str, Any]]:
    """The contributed settings that the server receives."""
    return {k: v for k, v in properties().items() if k not in EXTENSION_ONLY}


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """`{"severity.jargon": "hint"}` → `{"severity": {"jargon": "hint"}}`."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def flatten(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The inverse of `nest`: dotted keys to leaf values (lists are leaves)."""
    out: dict[str, Any] = {}
    for key, value in nested.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def server_defaults() -> dict[str, Any]:
    """The server settings' defaults in the nested wire shape, read from the manifest."""
    return nest({key: spec["default"] for key, spec in server_properties().items()})


def problem(key: str, value: Any) -> str | None:
    """Why `value` is not a valid value of server setting `key`, or None when it is."""
    spec = server_properties().get(key)
    if spec is None:
        return f"unknown setting {key}"
    kind = spec["type"]
    checks = {
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "array": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }
    if not checks.get(kind, False):
        return f"{key}: {value!r} is not of type {kind}"
    if "enum" in spec and value not in spec["enum"]:
        return f"{key}: {value!r} not in {spec['enum']}"
    return None
