"""Language-server settings: the nested camelCase wire format parsed into frozen dataclasses."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SECTION = "versprochen"
LEVELS = ("error", "warning", "information", "hint", "off")
REFERENCE_TIMES = ("dateHeader", "now")


@dataclass(frozen=True, slots=True)
class EnableSettings:
    """Which kinds of findings are shown at all."""

    promises: bool = True
    deadlines: bool = True
    jargon: bool = True
    deliveries: bool = True


@dataclass(frozen=True, slots=True)
class SeveritySettings:
    """The LSP severity per kind of finding (error|warning|information|hint|off)."""

    high_risk_promise: str = "warning"
    medium_risk_promise: str = "information"
    low_risk_promise: str = "hint"
    delivery: str = "hint"
    vague_deadline: str = "warning"
    jargon: str = "information"


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """Where the promise tracker's database lies ("" = the default location if it exists)."""

    path: str = ""


@dataclass(frozen=True, slots=True)
class LexiconSettings:
    """Extra rule folders on top of the built-in lexicon and the project's."""

    extra_folders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    """All server settings; the defaults equal those in `editors/vscode/package.json`."""

    enable: EnableSettings = field(default_factory=EnableSettings)
    severity: SeveritySettings = field(default_factory=SeveritySettings)
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    lexicon: LexiconSettings = field(default_factory=LexiconSettings)
    reference_time: str = "dateHeader"
    max_document_chars: int = 1_000_000


def camel(name: str) -> str:
    """snake_case -> camelCase (the wire spelling)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _check_value(path: str, name: str, value: Any, default: Any) -> Any:
    """The value if valid for the field, else raise ValueError with a German explanation."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{path}: erwartet true oder false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < 1:
            raise ValueError(f"{path}: erwartet eine positive ganze Zahl")
        return int(value)
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{path}: erwartet eine Liste von Texten")
        return tuple(value)
    if not isinstance(value, str):
        raise ValueError(f"{path}: erwartet einen Text")
    allowed: tuple[str, ...] | None = LEVELS if path.startswith("severity.") else None
    if name == "reference_time":
        allowed = REFERENCE_TIMES
    if allowed is not None and value not in allowed:
        raise ValueError(f"{path}: „{value}“ ist ungültig, erlaubt: {', '.join(allowed)}")
    return value


def _parse_into(cls: type[Any], raw: Mapping[str, Any], prefix: str, errors: list[str]) -> Any:
    """Build dataclass `cls` from a camelCase mapping; invalid values keep the default and add an error."""
    defaults = cls()
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = camel(f.name)
        if key not in raw or raw[key] is None:
            continue
        path = f"{prefix}{key}"
        default = getattr(defaults, f.name)
        value = raw[key]
        if dataclasses.is_dataclass(default):
            if isinstance(value, Mapping):
                values[f.name] = _parse_into(type(default), value, path + ".", errors)
            else:
                errors.append(f"{path}: erwartet ein Objekt")
            continue
        try:
            values[f.name] = _check_value(path, f.name, value, default)
        except ValueError as exc:
            errors.append(f"{exc}; es gilt der Standardwert {_show(default)}")
    return cls(**values)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[]" if not value else "[" + ", ".join(value) + "]"
    return f"„{value}“" if isinstance(value, str) else str(value)


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from the wire (the `versprochen` section, or an object holding it) plus German errors."""
    if raw is None:
        return Settings(), []
    if not isinstance(raw, Mapping):
        return Settings(), ["Die Einstellungen für versprochen müssen ein Objekt sein; "
                            "es gelten die Standardwerte."]
    # didChangeConfiguration may send {"versprochen": {...}} or the section itself.
    if isinstance(raw.get(SECTION), Mapping):
        raw = raw[SECTION]
    errors: list[str] = []
    settings = _parse_into(Settings, raw, "", errors)
    return settings, errors


def to_wire(settings: Settings | None = None) -> dict[str, Any]:
    """The settings in the nested camelCase wire shape (defaults when None)."""

    def dump(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return {camel(f.name): dump(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return list(obj) if isinstance(obj, tuple) else obj

    result = dump(settings or Settings())
    assert isinstance(result, dict)
    return result


def flatten(wire: Mapping[str, Any], prefix: str = SECTION) -> dict[str, Any]:
    """The wire dict flattened to VS Code keys (`versprochen.severity.jargon`)."""
    out: dict[str, Any] = {}
    for key, value in wire.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}.{key}"))
        else:
            out[f"{prefix}.{key}"] = value
    return out
