"""Rule files as data: loading and validating `lexicon/rules/*.toml` (and a team's extra folders)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).with_name("rules")

# Each rule kind is one engine class; the loader only checks the keys each kind needs.
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "substitution": ("terms",),   # jargon: term -> plain German
    "commitment": ("verbs",),     # verbs that make a first-person statement a promise
    "receive": ("verbs",),        # "Sie erhalten/bekommen ..."
    "modifier": ("phrases", "effect"),  # words that change risk or rule a clause out
    "implicit": ("phrases",),     # expectations created without a promise verb
    "vague": ("phrases",),        # vague deadline words
    "delivery": ("phrases", "role"),  # hand-over and done markers, "wie versprochen"
}
SEVERITIES = ("error", "warning", "information", "hint")
JARGON_KINDS = ("anglicism", "technical", "officialese")


class LexiconError(ValueError):
    """A rule file is missing, unreadable or invalid; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Term:
    """One jargon entry: the term, its plain alternatives, and how to match it."""

    term: str
    plain: tuple[str, ...]
    # "word": the term as a whole word (inflected forms allowed);
    # "compound": also inside hyphenated or closed compounds ("Upload-Portal").
    match: str = "word"
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Verb:
    """A verb given by its infinitive, with a separable particle and irregular forms if any."""

    lemma: str
    forms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule file."""

    name: str
    kind: str
    path: Path
    message: str
    reason: str
    severity: str | None
    suggestions: tuple[str, ...]
    phrases: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()
    verbs: tuple[Verb, ...] = ()
    fail: tuple[str, ...] = ()
    passing: tuple[str, ...] = ()
    # Kind-specific settings (effect, role, jargon kind, ...), validated per kind.
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, key: str, default: Any = None) -> Any:
        """A kind-specific setting of this rule."""
        return self.options.get(key, default)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """All rules in force, keyed by name, plus a team's accepted words and severity overrides."""

    rules: Mapping[str, Rule]
    accepted: frozenset[str] = frozenset()
    severity_overrides: Mapping[str, str] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()

    def of_kind(self, kind: str) -> list[Rule]:
        """The enabled rules of one kind, in name order."""
        return [r for n, r in sorted(self.rules.items()) if r.kind == kind and n not in self.disabled]

    def severity(self, rule: Rule, default: str) -> str:
        """The severity for a rule: the team's override, else the rule file's, else the default."""
        return self.severity_overrides.get(rule.name) or rule.severity or default

    def fingerprint(self) -> tuple[object, ...]:
        """A hashable summary used to key caches (changes when rules or settings change)."""
        return (
            tuple(sorted((n, r.path.as_posix(), r.path.stat().st_mtime_ns if r.path.exists() else 0)
                         for n, r in self.rules.items())),
            tuple(sorted(self.accepted)), tuple(sorted(self.severity_overrides.items())),
            tuple(sorted(self.disabled)),
        )


def _str_tuple(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"{where}: expected a list of strings")
    return tuple(value)


def _parse_terms(raw: Any, where: str) -> tuple[Term, ...]:
    if not isinstance(raw, list):
        raise LexiconError(f"{where}: 'terms' must be an array of tables ([[terms]])")
    terms = []
    for i, entry in enumerate(raw):
        key = f"{where}: terms[{i}]"
        if not isinstance(entry, dict) or "term" not in entry or "plain" not in entry:
            raise LexiconError(f"{key}: needs 'term' and 'plain'")
        match = entry.get("match", "word")
        if match not in ("word", "compound"):
            raise LexiconError(f"{key}.match: must be 'word' or 'compound', not {match!r}")
        terms.append(Term(str(entry["term"]), _str_tuple(entry["plain"], f"{key}.plain"), match,
                          bool(entry.get("case_sensitive", False))))
    return tuple(terms)


def _parse_verbs(raw: Any, where: str) -> tuple[Verb, ...]:
    if not isinstance(raw, list):
        raise LexiconError(f"{where}: 'verbs' must be a list")
    verbs = []
    for i, entry in enumerate(raw):
        if isinstance(entry, str):
            verbs.append(Verb(entry))
        elif isinstance(entry, dict) and isinstance(entry.get("lemma"), str):
            verbs.append(Verb(entry["lemma"], _str_tuple(entry.get("forms", []), f"{where}: verbs[{i}].forms")))
        else:
            raise LexiconError(f"{where}: verbs[{i}]: a string or a table with 'lemma' (and 'forms')")
    return tuple(verbs)


def parse_rule(path: Path, data: Mapping[str, Any]) -> Rule:
    """Validate one rule file's data and build the Rule; errors name the file and the key."""
    where = str(path)
    kind = data.get("kind")
    if kind not in KIND_KEYS:
        raise LexiconError(f"{where}: kind: must be one of {', '.join(KIND_KEYS)}, not {kind!r}")
    for key in ("message", "reason"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise LexiconError(f"{where}: {key}: a non-empty German text is required")
    for key in KIND_KEYS[kind]:
        if key not in data:
            raise LexiconError(f"{where}: {key}: required for kind {kind!r}")
    severity = data.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise LexiconError(f"{where}: severity: must be one of {', '.join(SEVERITIES)}")
    if kind == "substitution" and data.get("jargon_kind") not in JARGON_KINDS:
        raise LexiconError(f"{where}: jargon_kind: must be one of {', '.join(JARGON_KINDS)}")
    examples = data.get("examples")
    if not isinstance(examples, dict):
        raise LexiconError(f"{where}: examples: a table with 'fail' and 'pass' sentences is required")
    fail = _str_tuple(examples.get("fail", []), f"{where}: examples.fail")
    passing = _str_tuple(examples.get("pass", []), f"{where}: examples.pass")
    if not fail or not passing:
        raise LexiconError(f"{where}: examples: at least one 'fail' and one 'pass' sentence are required")
    known = {"kind", "message", "reason", "severity", "suggestions", "phrases", "terms", "verbs", "examples"}
    return Rule(
        name=path.stem,
        kind=kind,
        path=path,
        message=data["message"].strip(),
        reason=data["reason"].strip(),
        severity=severity,
        suggestions=_str_tuple(data.get("suggestions", []), f"{where}: suggestions"),
        phrases=_str_tuple(data.get("phrases", []), f"{where}: phrases"),
        terms=_parse_terms(data["terms"], where) if "terms" in data else (),
        verbs=_parse_verbs(data["verbs"], where) if "verbs" in data else (),
        fail=fail,
        passing=passing,
        options={k: v for k, v in data.items() if k not in known},
    )


def load_rule_file(path: Path) -> Rule:
    """Read and validate one TOML rule file."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise LexiconError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{path}: invalid TOML: {exc}") from exc
    return parse_rule(path, data)


def load_lexicon(
    extra_dirs: Iterable[Path] = (),
    *,
    accepted: Iterable[str] = (),
    severity_overrides: Mapping[str, str] | None = None,
    disabled: Iterable[str] = (),
) -> Lexicon:
    """Load the built-in rules, then each extra folder's (a later file of the same name replaces one)."""
    rules: dict[str, Rule] = {}
    for folder in (RULES_DIR, *extra_dirs):
        if not folder.is_dir():
            raise LexiconError(f"{folder}: lexicon folder not found")
        for path in sorted(folder.glob("*.toml")):
            rules[path.stem] = load_rule_file(path)
    overrides = dict(severity_overrides or {})
    for name, level in overrides.items():
        if level not in SEVERITIES:
            raise LexiconError(f"severity override for {name}: must be one of {', '.join(SEVERITIES)}")
    return Lexicon(rules, frozenset(a.casefold() for a in accepted), overrides, frozenset(disabled))


GRAMMAR_FILE = Path(__file__).with_name("grammar.toml")


def load_grammar(path: Path = GRAMMAR_FILE) -> dict[str, frozenset[str]]:
    """Closed-class word lists (abbreviations, auxiliaries, particles …) as sets of lower-case words."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"{path}: cannot load grammar word lists: {exc}") from exc
    out: dict[str, frozenset[str]] = {}
    for key, value in data.items():
        if not isinstance(value, str):
            raise LexiconError(f"{path}: {key}: expected a string of space-separated words")
        out[key] = frozenset(value.split())
    return out
