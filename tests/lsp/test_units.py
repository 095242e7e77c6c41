"""Pure helpers of the language server: settings parsing, document kinds, Markdown masking, dates, TOML."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from server.config import ConfigError
from server.engine import Engine
from server.lsp.analysis import Job, analyse
from server.lsp.convert import Options
from server.lsp.documents import classify, is_raw_mime, mask_markdown, parse_date_header
from server.lsp.project import accept_word, add_accepted_word
from server.lsp.settings import Settings, flatten, parse_settings, to_wire

PACKAGE_JSON = Path(__file__).resolve().parents[2] / "editors" / "vscode" / "package.json"


def test_defaults_round_trip() -> None:
    """The wire form of the defaults parses back to the defaults without errors."""
    settings, errors = parse_settings(to_wire())
    assert settings == Settings() and errors == []


def test_nested_section_and_values() -> None:
    """Values are taken from the `versprochen` section, camelCase to snake_case."""
    settings, errors = parse_settings({"versprochen": {
        "severity": {"jargon": "off", "highRiskPromise": "error"}, "enable": {"deliveries": False},
        "lexicon": {"extraFolders": ["regeln"]}, "maxDocumentChars": 5000, "referenceTime": "now"}})
    assert errors == []
    assert settings.severity.jargon == "off" and settings.severity.high_risk_promise == "error"
    assert settings.enable.deliveries is False and settings.enable.promises is True
    assert settings.lexicon.extra_folders == ("regeln",)
    assert settings.max_document_chars == 5000 and settings.reference_time == "now"


@pytest.mark.parametrize(("raw", "fragment"), [
    ({"severity": {"jargon": "laut"}}, "severity.jargon"),
    ({"enable": {"promises": "ja"}}, "enable.promises"),
    ({"maxDocumentChars": -3}, "maxDocumentChars"),
    ({"maxDocumentChars": True}, "maxDocumentChars"),
    ({"referenceTime": "gestern"}, "referenceTime"),
    ({"lexicon": {"extraFolders": "regeln"}}, "lexicon.extraFolders"),
    ({"tracker": "pfad"}, "tracker"),
])
def test_bad_values_fall_back_with_a_german_message(raw: dict[str, object], fragment: str) -> None:
    """A bad value keeps its default and yields one message naming the setting."""
    settings, errors = parse_settings(raw)
    assert settings == Settings()
    assert len(errors) == 1 and fragment in errors[0]
    assert "Standard" in errors[0] or "erwartet" in errors[0]


def test_non_object_settings() -> None:
    """Settings that are not an object give the defaults and a message."""
    settings, errors = parse_settings(["x"])
    assert settings == Settings() and errors


def test_defaults_match_package_json() -> None:
    """Every server setting's default equals the one in the VS Code extension's manifest."""
    if not PACKAGE_JSON.is_file():
        pytest.skip("editors/vscode/package.json does not exist yet (the extension is being written)")
    manifest = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    configuration = manifest["contributes"]["configuration"]
    groups = configuration if isinstance(configuration, list) else [configuration]
    declared = {key: spec.get("default") for group in groups for key, spec in group["properties"].items()}
    ours = flatten(to_wire())
    missing = sorted(set(ours) - set(declared))
    assert not missing, f"settings missing in package.json: {missing}"
    assert {key: declared[key] for key in ours} == ours


@pytest.mark.parametrize(("suffix", "language", "text", "kind"), [
    (".txt", "plaintext", "Hallo", "text"),
    (".md", "markdown", "# Titel", "markdown"),
    ("", "markdown", "x", "markdown"),
    (".eml", "plaintext", "Hallo", "mail"),
    (".py", "python", "print(1)", "ignored"),
    (".py", "python", "From: a@b.de\nTo: c@d.de\nSubject: x\n\nHallo", "mail"),
    ("", "plaintext", "An: Frau Reuter <a@b.de>\nBetreff: Angebot\n\nHallo", "mail"),
    (".log", "log", "x", "ignored"),
])
def test_classify(suffix: str, language: str, text: str, kind: str) -> None:
    """Plain text, Markdown and mail are checked; other languages only with a mail header block."""
    assert classify(suffix, language, text) == kind


def test_mask_markdown_keeps_offsets() -> None:
    """Code, comments, front matter and link targets are blanked; prose and line ends stay in place."""
    text = ("---\ntitle: x\n---\nWir liefern `Meeting` [hier](https://x.de/Meeting).\n"
            "```\nMeeting garantiert\n```\n<!-- Meeting -->\nDas Meeting ist gut.\n")
    masked = mask_markdown(text)
    assert len(masked) == len(text)
    assert [i for i, c in enumerate(text) if c == "\n"] == [i for i, c in enumerate(masked) if c == "\n"]
    assert masked.count("Meeting") == 1 and "Das Meeting ist gut." in masked
    assert "Wir liefern" in masked and "[hier]" in masked and "garantiert" not in masked


def test_raw_mime_detection() -> None:
    """Only messages with MIME encodings count as raw MIME; a typed draft with headers does not."""
    raw = "From: a@b.de\nTo: c@d.de\nMIME-Version: 1.0\nContent-Type: text/plain\n\nHallo\n"
    draft = "An: c@d.de\nBetreff: Angebot\n\nHallo\n"
    assert is_raw_mime(raw) and not is_raw_mime(draft)


@pytest.mark.parametrize(("value", "expected"), [
    ("Mon, 23 Nov 2026 10:00:00 +0100", datetime(2026, 11, 23, 10, 0)),
    ("Montag, 23. November 2026 10:15", datetime(2026, 11, 23, 10, 15)),
    ("23.11.2026 08:30", datetime(2026, 11, 23, 8, 30)),
    ("23.11.2026", datetime(2026, 11, 23, 0, 0)),
    ("irgendwann", None),
    ("31.02.2026", None),
    ("", None),
])
def test_parse_date_header(value: str, expected: datetime | None) -> None:
    """RFC 5322 dates and German ones; unreadable dates give None."""
    assert parse_date_header(value) == expected


@pytest.mark.parametrize(("before", "after"), [
    ("", '[lexicon]\naccepted = ["Meeting"]\n'),
    ("# Team\n[rules]\ndisabled = []\n", '# Team\n[rules]\ndisabled = []\n\n[lexicon]\naccepted = ["Meeting"]\n'),
    ("[lexicon]\nextra = []  # mehr\n", '[lexicon]\naccepted = ["Meeting"]\nextra = []  # mehr\n'),
    ('[lexicon]\naccepted = ["Call"] # ok\n', '[lexicon]\naccepted = ["Call", "Meeting"] # ok\n'),
    ('[lexicon]\naccepted = [\n  "Call",\n]\n[rules]\n',
     '[lexicon]\naccepted = [\n  "Call",\n  "Meeting",\n]\n[rules]\n'),
    ('[lexicon]\naccepted = ["meeting"]\n', '[lexicon]\naccepted = ["meeting"]\n'),
])
def test_add_accepted_word_preserves_the_rest(before: str, after: str) -> None:
    """The word joins [lexicon] accepted; comments, other tables and order stay as they were."""
    assert add_accepted_word(before, "Meeting") == after


def test_add_accepted_word_escapes() -> None:
    """Quotes and backslashes in a word still give valid TOML with the exact word."""
    text = add_accepted_word("", 'Zitat "x" \\ y')
    assert tomllib.loads(text)["lexicon"]["accepted"] == ['Zitat "x" \\ y']


def test_accept_word_creates_file_in_root(tmp_path: Path) -> None:
    """Without a config the file is created in the workspace root, not in the document's folder."""
    sub = tmp_path / "mails" / "2026"
    sub.mkdir(parents=True)
    path = accept_word("Deadline", sub, tmp_path)
    assert path == tmp_path / "versprochen.toml"
    assert tomllib.loads(path.read_text(encoding="utf-8"))["lexicon"]["accepted"] == ["Deadline"]


def test_accept_word_refuses_invalid_config(tmp_path: Path) -> None:
    """An invalid versprochen.toml is left untouched and reported."""
    config = tmp_path / "versprochen.toml"
    config.write_text("[lexicon\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"versprochen\.toml"):
        accept_word("Meeting", tmp_path, tmp_path)
    assert config.read_text(encoding="utf-8") == "[lexicon\n"


RAW_MIME = (
    "From: Max Berger <max@firma.de>\r\nTo: Anna Reuter <anna@kunde.de>\r\nSubject: Angebot\r\n"
    "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "Gr=C3=BC=C3=9Fe Frau Reuter,\r\n\r\nwir liefern garantiert bis Freitag.\r\n"
)


def test_raw_mime_is_decoded_and_placed_on_the_raw_words(engine: Engine) -> None:
    """A raw quoted-printable message is checked decoded; findings sit on the same words in the raw text,
    the Date header is the reference time, and no quick fix is offered for these rough places."""
    job = Job("file:///roh.eml", 1, RAW_MIME, "mail", "utf-16", Options(), 1_000_000)
    published = analyse(engine, job)
    promises = [f for f in published.findings if f.kind == "promise"]
    assert promises and all(not f.exact for f in published.findings)
    assert RAW_MIME[promises[0].start:promises[0].end].endswith("wir liefern garantiert bis Freitag")
    assert published.sent == datetime(2026, 11, 23, 10, 0)


def test_accept_word_rejects_empty_words(tmp_path: Path) -> None:
    """An empty or multi-line "word" is refused with a message and nothing is written."""
    with pytest.raises(ConfigError):
        accept_word("  ", tmp_path, tmp_path)
    assert not (tmp_path / "versprochen.toml").exists()


def test_diagnostic_cache_reuses_unchanged_diagnostics() -> None:
    """An edit elsewhere keeps a diagnostic's JSON text (same object); a moved one gets new text."""
    from server.engine.types import Jargon, Severity
    from server.lsp.convert import Finding
    from server.lsp.positions import LineIndex
    from server.lsp.wire import DiagnosticCache, payload

    def meeting(text: str) -> Finding:
        start = text.index("Meeting")
        item = Jargon(start, start + 7, "Meeting", "anglicism", ("Besprechung",), "Anglicisms",
                      "„Meeting“ ist ein Anglizismus.", "Grund", Severity.INFORMATION)
        return Finding("jargon", start, start + 7, "Anglicisms", "information", item)

    cache = DiagnosticCache("file:///a.txt")
    first = "Das Meeting ist morgen.\nHallo\n"
    [before] = cache.texts([meeting(first)], LineIndex(first), Options())
    second = first + "Noch eine Zeile.\n"
    [same] = cache.texts([meeting(second)], LineIndex(second), Options())
    assert same is before
    third = "Neu\n" + second
    [moved] = cache.texts([meeting(third)], LineIndex(third), Options())
    assert json.loads(moved)["range"]["start"] == {"line": 1, "character": 4}
    params = json.loads(payload("file:///a.txt", 7, [moved]))
    assert params["version"] == 7 and params["diagnostics"][0]["code"] == "versprochen.Anglicisms"
    assert params["diagnostics"][0]["source"] == "versprochen" and params["diagnostics"][0]["severity"] == 3


@pytest.mark.parametrize(("raw", "ours"), [
    ({}, False), (None, False), ({"pylsp": {"x": 1}}, False), ([], False),
    ({"versprochen": {}}, True), ({"severity": {"jargon": "off"}}, True),
])
def test_pushed_settings_for_us(raw: object, ours: bool) -> None:
    """An empty or foreign didChangeConfiguration keeps the current settings."""
    from server.lsp.features import mentions_our_settings

    assert mentions_our_settings(raw) is ours
