"""Every rule file's `fail` examples fire the rule and its `pass` examples do not; the loader's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexicon import RULES_DIR, LexiconError, load_lexicon, load_rule_file
from server.engine import Engine
from tests.conftest import MONDAY

LEXICON = load_lexicon()
CASES = [
    pytest.param(rule.name, sentence, expected, id=f"{rule.name}-{'fail' if expected else 'pass'}-{n}")
    for rule in LEXICON.rules.values()
    for expected, sentences in ((True, rule.fail), (False, rule.passing))
    for n, sentence in enumerate(sentences)
]


@pytest.mark.parametrize(("rule_name", "sentence", "fires"), CASES)
def test_rule_examples(engine: Engine, rule_name: str, sentence: str, fires: bool) -> None:
    fired = engine.fired_rules(sentence, MONDAY)
    assert (rule_name in fired) is fires, f"{rule_name} on {sentence!r}: fired {sorted(fired)}"


def test_every_rule_file_has_examples_and_texts() -> None:
    for path in sorted(RULES_DIR.glob("*.toml")):
        rule = load_rule_file(path)
        assert rule.fail and rule.passing, path
        assert rule.message and rule.reason, path


def test_rule_without_examples_is_rejected_naming_file(tmp_path: Path) -> None:
    bad = tmp_path / "Broken.toml"
    bad.write_text('kind = "vague"\nmessage = "x"\nreason = "y"\nphrases = ["bald"]\n', encoding="utf-8")
    with pytest.raises(LexiconError, match=r"Broken\.toml: examples"):
        load_rule_file(bad)


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ('kind = "nonsense"', "kind"),
        ('kind = "vague"\nreason = "y"\nphrases = []\n[examples]\nfail=["a"]\npass=["b"]', "message"),
        ('kind = "vague"\nmessage = "x"\nreason = "y"\n[examples]\nfail=["a"]\npass=["b"]', "phrases"),
        ('kind = "substitution"\nmessage = "x"\nreason = "y"\njargon_kind = "slang"\nterms = []\n'
         '[examples]\nfail=["a"]\npass=["b"]', "jargon_kind"),
        ("kind = [", "invalid TOML"),
    ],
)
def test_invalid_rule_files_name_the_key(tmp_path: Path, content: str, key: str) -> None:
    path = tmp_path / "Team.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        load_rule_file(path)
    assert "Team.toml" in str(info.value) and key in str(info.value)


def test_team_folder_adds_rules(tmp_path: Path) -> None:
    (tmp_path / "TeamWords.toml").write_text(
        'kind = "substitution"\njargon_kind = "technical"\nmessage = "{term}: besser {plain}"\n'
        'reason = "Kunden kennen das Wort nicht."\n'
        '[[terms]]\nterm = "Zählerstandserfassung"\nplain = ["Ablesung"]\n'
        '[examples]\nfail = ["Die Zählerstandserfassung erfolgt jährlich."]\npass = ["Wir lesen ab."]\n',
        encoding="utf-8",
    )
    lexicon = load_lexicon([tmp_path])
    assert "TeamWords" in lexicon.rules
    found = Engine(lexicon).analyze("Die Zählerstandserfassung erfolgt jährlich.", MONDAY)
    assert [j.term for j in found.jargon] == ["Zählerstandserfassung"]


def test_missing_team_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="lexicon folder not found"):
        load_lexicon([tmp_path / "nope"])
