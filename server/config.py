"""Project configuration: `versprochen.toml`, found from the working directory upward."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lexicon import SEVERITIES, Lexicon, LexiconError, load_lexicon

CONFIG_NAME = "versprochen.toml"


class ConfigError(ValueError):
    """The project config is unreadable or invalid; the message names the file and key."""


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """What a team keeps in version control: extra rules, accepted words, severities, paths."""

    path: Path | None = None
    lexicon_dirs: tuple[Path, ...] = ()
    accepted: tuple[str, ...] = ()
    disabled_rules: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    tracker_path: Path | None = None
    templates_dir: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def load_lexicon(self) -> Lexicon:
        """The built-in lexicon extended and adjusted by this config."""
        return load_lexicon(self.lexicon_dirs, accepted=self.accepted,
                            severity_overrides=self.severity, disabled=self.disabled_rules)


def find_config(start: Path | None = None) -> Path | None:
    """The nearest `versprochen.toml` in `start` (default: the working directory) or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key}: expected a list of strings")
    return tuple(value)


def parse_config(path: Path, data: dict[str, Any]) -> ProjectConfig:
    """Validate a parsed `versprochen.toml`; relative paths are taken from its folder."""
    base = path.parent
    lex = data.get("lexicon", {})
    rules = data.get("rules", {})
    for section, value in (("lexicon", lex), ("rules", rules)):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
    severity = rules.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{path}: rules.severity: must be a table of rule = level")
    for name, level in severity.items():
        if level not in SEVERITIES:
            raise ConfigError(f"{path}: rules.severity.{name}: must be one of {', '.join(SEVERITIES)}")
    tracker = data.get("tracker", {}).get("path")
    templates = data.get("templates", {}).get("dir")
    return ProjectConfig(
        path=path,
        lexicon_dirs=tuple(base / p for p in _strings(lex, "extra", f"{path}: lexicon")),
        accepted=_strings(lex, "accepted", f"{path}: lexicon"),
        disabled_rules=_strings(rules, "disabled", f"{path}: rules"),
        severity=dict(severity),
        tracker_path=base / tracker if isinstance(tracker, str) else None,
        templates_dir=base / templates if isinstance(templates, str) else None,
        raw=data,
    )


def load_config(path: Path | None = None, *, start: Path | None = None) -> ProjectConfig:
    """Load the given config file, or the nearest one; no file means the defaults."""
    path = path or find_config(start)
    if path is None:
        return ProjectConfig()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    return parse_config(path, data)


def load_project_lexicon(start: Path | None = None) -> Lexicon:
    """The lexicon for the project around `start`, with clear errors for bad files."""
    config = load_config(start=start)
    try:
        return config.load_lexicon()
    except LexiconError as exc:
        raise ConfigError(str(exc)) from exc
