"""Project config `versprochen.toml`: found upward, validated with clear errors, and applied to the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, find_config, load_config
from server.engine import Engine, Severity
from tests.conftest import MONDAY


def write(path: Path, text: str) -> Path:
    """Write `text` to `path` (creating folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_found_from_a_subfolder(tmp_path: Path) -> None:
    config = write(tmp_path / "versprochen.toml", "")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == config


def test_no_config_means_defaults(tmp_path: Path) -> None:
    config = load_config(start=tmp_path)
    assert config.path is None and config.accepted == () and config.severity == {}


def test_values_are_parsed_relative_to_the_file(tmp_path: Path) -> None:
    write(tmp_path / "regeln" / ".keep", "")
    path = write(tmp_path / "versprochen.toml", """
[lexicon]
extra = ["regeln"]
accepted = ["Meeting"]
[rules]
disabled = ["Officialese"]
severity = { Anglicisms = "hint" }
[tracker]
path = "daten/zusagen.sqlite3"
""")
    config = load_config(path)
    assert config.lexicon_dirs == (tmp_path / "regeln",)
    assert config.accepted == ("Meeting",) and config.disabled_rules == ("Officialese",)
    assert config.severity == {"Anglicisms": "hint"}
    assert config.tracker_path == tmp_path / "daten" / "zusagen.sqlite3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[lexicon\n", "invalid TOML"),
        ('[lexicon]\naccepted = "Meeting"\n', "accepted: expected a list of strings"),
        ('[rules]\nseverity = { Anglicisms = "loud" }\n', "rules.severity.Anglicisms"),
        ('lexicon = 3\n', "[lexicon] must be a table"),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "versprochen.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_config_changes_what_the_engine_reports(tmp_path: Path) -> None:
    path = write(tmp_path / "versprochen.toml", """
[lexicon]
accepted = ["Meeting"]
[rules]
disabled = ["Officialese"]
severity = { Anglicisms = "hint" }
""")
    engine = Engine(load_config(path).load_lexicon())
    text = "Anbei das Protokoll vom Meeting, das Feedback kommt später."
    found = engine.analyze(text, MONDAY).jargon
    terms = {j.term for j in found}
    assert "Meeting" not in terms  # accepted by the team
    assert not any(j.rule == "Officialese" for j in found)  # rule disabled
    feedback = [j for j in found if j.term == "Feedback"]
    assert feedback and feedback[0].severity is Severity.HINT  # severity override


def test_bad_team_rule_folder_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "regeln" / "Kaputt.toml", 'kind = "vague"\n')
    path = write(tmp_path / "versprochen.toml", '[lexicon]\nextra = ["regeln"]\n')
    from server.config import load_project_lexicon

    with pytest.raises(ConfigError, match=r"Kaputt\.toml"):
        load_project_lexicon(start=path.parent)
