"""The jinja2 environment for versprochen's templates: strict, HTML-escaped, team overrides, German dates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")
HTML_SUFFIXES = (".html", ".htm", ".xml", ".html.j2", ".htm.j2", ".xml.j2")
NONE_TEXT = "–"

DateLike = date | datetime | str | None


class TemplateDirError(ValueError):
    """The configured team template folder does not exist."""


def to_date(value: date | datetime | str) -> date | datetime:
    """A date or datetime from a date, a datetime or ISO text (`2026-11-27`, `2026-11-27T14:00`)."""
    if isinstance(value, date):
        return value
    text = value.strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Kein Datum: „{value}“") from None


def datum(value: DateLike) -> str:
    """`27.11.2026`."""
    if value is None:
        return NONE_TEXT
    return to_date(value).strftime("%d.%m.%Y")


def datum_lang(value: DateLike) -> str:
    """`Freitag, 27. November 2026`."""
    if value is None:
        return NONE_TEXT
    d = to_date(value)
    return f"{WEEKDAYS[d.weekday()]}, {d.day}. {MONTHS[d.month - 1]} {d.year}"


def uhrzeit(value: DateLike) -> str:
    """`14:00` for a date with a time, "" for a bare date."""
    if value is None:
        return ""
    d = to_date(value)
    return d.strftime("%H:%M") if isinstance(d, datetime) else ""


def frist(value: DateLike) -> str:
    """A deadline in words: `Freitag, 27. November 2026`, with `, 14:00 Uhr` when it has a time."""
    if value is None:
        return NONE_TEXT
    time_text = uhrzeit(value)
    return datum_lang(value) + (f", {time_text} Uhr" if time_text else "")


def wochentag(value: DateLike) -> str:
    """`Freitag`."""
    if value is None:
        return NONE_TEXT
    return WEEKDAYS[to_date(value).weekday()]


def iso(value: DateLike) -> str:
    """`2026-11-27` (or `2026-11-27T14:00`), as typed on the command line."""
    if value is None:
        return ""
    d = to_date(value)
    return d.strftime("%Y-%m-%dT%H:%M") if isinstance(d, datetime) else d.isoformat()


FILTERS = {"datum": datum, "datum_lang": datum_lang, "uhrzeit": uhrzeit, "frist": frist,
           "wochentag": wochentag, "iso": iso}


def autoescape(name: str | None) -> bool:
    """Escape HTML and XML templates (also `*.html.j2`), never plain-text mails."""
    return name is not None and name.lower().endswith(HTML_SUFFIXES)


def make_environment(override_dir: Path | None = None, *, use_config: bool = True,
                     config_start: Path | None = None) -> jinja2.Environment:
    """The template environment: a team's folder first, then the built-in templates.

    The team folder is `override_dir`, else (with `use_config`) `[templates] dir` of the nearest
    `versprochen.toml` above `config_start` (default: the working directory).
    """
    if override_dir is None and use_config:
        # Imported here: the templates package stays free of server imports unless a config is wanted.
        from server.config import load_config

        override_dir = load_config(start=config_start).templates_dir
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        if not override_dir.is_dir():
            raise TemplateDirError(f"Vorlagen-Ordner {override_dir} gibt es nicht ([templates] dir)")
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(jinja2.FileSystemLoader(TEMPLATES_DIR))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined, autoescape=autoescape,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env
