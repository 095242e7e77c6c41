"""The VS Code manifest: settings contract, activation, languages, commands, packaging pins."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from server.config import parse_config
from tests.editors.manifest import (
    EXTENSION,
    EXTENSION_ONLY,
    flatten,
    manifest,
    nest,
    properties,
    server_defaults,
    server_properties,
)

# The language-server settings contract (shared with the server), with its defaults.
CONTRACT: dict[str, Any] = {
    "enable": {"promises": True, "deadlines": True, "jargon": True, "deliveries": True},
    "severity": {"highRiskPromise": "warning", "mediumRiskPromise": "information", "lowRiskPromise": "hint",
                 "delivery": "hint", "vagueDeadline": "warning", "jargon": "information"},
    "tracker": {"path": ""},
    "lexicon": {"extraFolders": []},
    "referenceTime": "dateHeader",
    "maxDocumentChars": 1000000,
}
EXTENSION_DEFAULTS: dict[str, Any] = {
    "server.path": "",
    "server.extraArgs": [],
    "filePatterns": ["**/*.eml", "**/*.txt", "**/*.md"],
    "trace.server": "off",
}
JSON_TYPES = {bool: "boolean", int: "integer", str: "string", list: "array"}
SEVERITY_LEVELS = ["error", "warning", "information", "hint", "off"]


def source_text() -> str:
    """All TypeScript sources of the extension."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((EXTENSION / "src").glob("*.ts")))


@pytest.mark.parametrize(("key", "default"), sorted(flatten(CONTRACT).items()))
def test_contract_setting_present_with_default_and_type(key: str, default: Any) -> None:
    spec = server_properties().get(key)
    assert spec is not None, f"versprochen.{key} missing from contributes.configuration"
    assert spec["default"] == default
    assert spec["type"] == JSON_TYPES[type(default)]


def test_no_server_setting_outside_the_contract() -> None:
    assert set(server_properties()) == set(flatten(CONTRACT))
    assert server_defaults() == CONTRACT


@pytest.mark.parametrize(("key", "default"), sorted(EXTENSION_DEFAULTS.items()))
def test_extension_only_settings(key: str, default: Any) -> None:
    assert key in EXTENSION_ONLY
    assert properties()[key]["default"] == default


def test_severity_settings_offer_all_levels_with_descriptions() -> None:
    severities = {k: v for k, v in server_properties().items() if k.startswith("severity.")}
    assert len(severities) == 6
    for key, spec in severities.items():
        assert spec["enum"] == SEVERITY_LEVELS, key
        assert len(spec["enumDescriptions"]) == len(SEVERITY_LEVELS), key
    assert properties()["referenceTime"]["enum"] == ["dateHeader", "now"]
    assert properties()["trace.server"]["enum"] == ["off", "messages", "verbose"]


def test_every_setting_is_described_scoped_and_grouped() -> None:
    groups = manifest()["contributes"]["configuration"]
    assert isinstance(groups, list) and len(groups) >= 3
    assert all(g["title"].startswith("versprochen: ") for g in groups)
    for key, spec in properties().items():
        assert spec.get("markdownDescription") or spec.get("description"), key
        assert spec.get("scope") in {"application", "machine", "machine-overridable", "window", "resource",
                                     "language-overridable"}, key
    # An executable path from a workspace's settings would run code on opening the folder.
    assert properties()["server.path"]["scope"] == "machine-overridable"
    restricted = manifest()["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
    assert {"versprochen.server.path", "versprochen.server.extraArgs"} <= set(restricted)


def test_nest_and_flatten_are_inverse() -> None:
    assert nest(flatten(CONTRACT)) == CONTRACT


def test_activation_events_and_email_language() -> None:
    events = manifest()["activationEvents"]
    for language in ("plaintext", "markdown", "email"):
        assert f"onLanguage:{language}" in events
    (email,) = [lang for lang in manifest()["contributes"]["languages"] if lang["id"] == "email"]
    assert ".eml" in email["extensions"]


def test_commands_contributed_and_registered() -> None:
    contributed = {c["command"] for c in manifest()["contributes"]["commands"]}
    registered = set(re.findall(r'registerCommand\(\s*"([^"]+)"', source_text()))
    assert contributed == registered
    assert {"versprochen.restartServer", "versprochen.checkAllDocuments", "versprochen.showOpenPromises",
            "versprochen.openProjectConfig"} <= contributed
    for command in manifest()["contributes"]["commands"]:
        assert command["category"] == "versprochen" and command["title"], command
    for entry in manifest()["contributes"]["menus"]["commandPalette"]:
        assert entry["command"] in contributed


def test_server_command_ids_are_sent_not_registered() -> None:
    # languageclient registers a VS Code command for each command the server announces; the extension's
    # own ids must differ or registration fails.
    text = source_text()
    assert '"versprochen.checkAll"' in text and '"versprochen.openPromises"' in text
    contributed = {c["command"] for c in manifest()["contributes"]["commands"]}
    assert not {"versprochen.checkAll", "versprochen.openPromises"} & contributed


def test_packaging_pins() -> None:
    data = manifest()
    engine = data["engines"]["vscode"]
    assert re.fullmatch(r"\^1\.(\d+)\.0", engine) and int(engine.split(".")[1]) >= 91
    # vsce refuses to package when @types/vscode is newer than engines.vscode.
    assert data["devDependencies"]["@types/vscode"] == engine.lstrip("^")
    assert data["dependencies"]["vscode-languageclient"].startswith("^11.")
    assert data["main"] == "./dist/extension.js"
    for script in ("lint", "test", "package", "vscode:prepublish"):
        assert script in data["scripts"]
    lock = json.loads((EXTENSION / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["lockfileVersion"] == 3
    assert lock["packages"][""]["dependencies"] == data["dependencies"]
    assert lock["packages"][""]["devDependencies"] == data["devDependencies"]


def test_vsix_ships_bundle_and_template_but_no_sources() -> None:
    lines = (EXTENSION / ".vscodeignore").read_text(encoding="utf-8").splitlines()
    assert "**" in lines
    assert {"!dist/extension.js", "!resources/versprochen.toml", "!README.md"} <= set(lines)
    assert not any(line.startswith("!") and ("src" in line or "test" in line) for line in lines)


def test_config_template_is_valid_for_the_server() -> None:
    path = EXTENSION / "resources" / "versprochen.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    config = parse_config(path, data)
    # The accept-word quick fix appends to this list, so the template must have it (empty).
    assert config.accepted == () and config.disabled_rules == () and config.severity == {}
    assert data["lexicon"]["accepted"] == []


def table_defaults(path: Path, prefix: str) -> dict[str, Any]:
    """`key → default` from a Markdown settings table whose first two cells are `key(s)` and `default`."""
    out: dict[str, Any] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`" + prefix):
            continue
        raw = cells[1].strip("`")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # README writes enum strings bare: `warning`
        for key in re.findall(r"`([^`]+)`", cells[0]):
            out[key.removeprefix(prefix)] = value
    return out


@pytest.mark.parametrize(("doc", "prefix"), [
    (EXTENSION / "README.md", "versprochen."),
    (EXTENSION.parents[1] / "docs" / "editors.md", ""),
])
def test_documented_defaults_match_the_manifest(doc: Path, prefix: str) -> None:
    documented = table_defaults(doc, prefix)
    expected = {k: v["default"] for k, v in (properties() if prefix else server_properties()).items()}
    assert documented == expected
