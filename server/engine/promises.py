"""Promises: commitments of the writer in the new text, with kind, risk and deadline."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from lexicon import Lexicon, Rule, load_grammar
from server.engine import deadlines as deadline_rules
from server.engine.clauses import Unit, is_verb, sentences, split_coordinated, units
from server.engine.deadlines import DeadlineFinder
from server.engine.nlp import is_noun_like, verb_forms
from server.engine.phrases import PhraseIndex
from server.engine.types import Deadline, Promise, Risk, Severity, Trigger

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

GRAMMAR = load_grammar()
FIRST_PERSON = GRAMMAR["first_person"]
PAST_ONLY = GRAMMAR["past_only"]
PERFECT_AUX = GRAMMAR["perfect_aux"]
FUTURE_AUX = GRAMMAR["future_aux"]
MODAL_CAN = GRAMMAR["modal_can"]
MODAL_MUST = GRAMMAR["modal_must"]
FINITE_HINTS = GRAMMAR["finite_hints"]
SCHEDULED = GRAMMAR["scheduled"]
RESULT_PARTICIPLES = GRAMMAR["result_participles"]
TAG_WORDS = GRAMMAR["tag_words"]
DETERMINERS = GRAMMAR["determiners"]
NOT_OBJECTS = GRAMMAR["not_objects"]
BACK_REFERENCES = GRAMMAR["back_references"]
PARTICIPLE = re.compile(
    rf"^(?:(?:{'|'.join(sorted(GRAMMAR['particles']))})?ge\w{{2,}}(?:t|en)|\w{{3,}}iert|"
    rf"(?:{'|'.join(sorted(GRAMMAR['inseparable']))})\w{{3,}}t)$"
)
SEVERITY_BY_RISK: dict[Risk, Severity] = {
    "high": Severity.WARNING, "medium": Severity.INFORMATION, "low": Severity.HINT,
}


@dataclass(slots=True)
class Candidate:
    """A unit found to be a promise, before neighbouring context is merged in."""

    unit: Unit
    rule: Rule
    kind: str
    start_tok: int
    end_tok: int
    fired: set[str] = field(default_factory=set)


class PromiseFinder:
    """Finds promise clauses in a paragraph and grades their risk."""

    def __init__(self, lexicon: Lexicon, nlp: Language, deadlines: DeadlineFinder) -> None:
        self.lexicon = lexicon
        self.deadlines = deadlines
        self.phrases = PhraseIndex(nlp, [r for r in lexicon.rules.values()
                                         if r.kind in ("modifier", "implicit") and r.phrases])
        self.commit_rule = self._one("commitment")
        self.receive_rule = self._one("receive")
        self.implicit_rule = self._one("implicit")
        self.commit_lemmas = self._lemmas("commitment")
        self.frame_lemmas = frozenset(
            v for r in lexicon.of_kind("commitment") for v in r.option("frame_verbs", []))
        self.receive_lemmas = self._lemmas("receive")
        self.implicit_lemmas = self._lemmas("implicit")
        self.staff = frozenset(s for r in lexicon.of_kind("implicit") for s in r.option("subjects", []))
        self.verb_forms = frozenset(
            form for r in lexicon.rules.values() for v in r.verbs for form in verb_forms(v)) | FINITE_HINTS
        self.except_after = {r.name: frozenset(r.option("except_after", [])) for r in lexicon.of_kind("modifier")}

    def _one(self, kind: str) -> Rule:
        rules = self.lexicon.of_kind(kind)
        if not rules:
            raise ValueError(f"lexicon: no rule of kind {kind!r} (needed to find promises)")
        return rules[0]

    def _lemmas(self, kind: str) -> frozenset[str]:
        out: set[str] = set()
        for rule in self.lexicon.of_kind(kind):
            for verb in rule.verbs:
                out.update(verb_forms(verb).values())
        return frozenset(out)

    def find(self, doc: Doc, sent: datetime) -> list[Promise]:
        """Promises in `doc`, offsets relative to `doc.text`."""
        return self.find_traced(doc, sent)[0]

    def find_traced(self, doc: Doc, sent: datetime) -> tuple[list[Promise], set[str]]:
        """Promises plus the names of every rule that fired (for the lexicon's example tests)."""
        matches = self.phrases.matches(doc)
        found_deadlines = self.deadlines.find(doc.text, sent)
        promises: list[Promise] = []
        fired: set[str] = set()
        for sentence in sentences(doc):
            if sentence.text.rstrip().endswith("?"):
                continue
            spans = [(d.start, d.end) for d in found_deadlines]
            sentence_units = [part for unit in units(sentence, self.verb_forms, spans)
                              for part in split_coordinated(doc, unit, self.verb_forms, spans)]
            candidates: list[Candidate] = []
            for unit in sentence_units:
                cand = self._classify(doc, unit, matches, found_deadlines, sent, fired)
                if cand is None:
                    continue
                if candidates and self._refers_back(doc, cand):
                    candidates[-1].kind = "explicit"  # "…, das kann ich Ihnen versprechen"
                    continue
                candidates.append(cand)
            for cand, (start_tok, end_tok) in zip(candidates, _merge_spans(sentence, candidates), strict=True):
                cand.start_tok, cand.end_tok = start_tok, end_tok
                promise = self._build(doc, cand, matches, found_deadlines, sent)
                fired |= cand.fired | {promise.rule} | {t.rule for t in promise.triggers}
                promises.append(promise)
        return promises, fired

    # -- classification -------------------------------------------------------------------------

    def _classify(self, doc: Doc, unit: Unit, matches: PhraseMatches, found: Sequence[Deadline],
                  sent: datetime, fired: set[str]) -> Candidate | None:
        main = doc[unit.main.start:unit.main.end]
        core = doc[unit.main.start:unit.end]
        words = {t.lower_ for t in core}
        if any(doc[c.start:c.end].text.strip(" ,.!").lower() in TAG_WORDS for c in unit.after):
            return Candidate(unit, self.commit_rule, "explicit", unit.start, unit.end)
        excluded = self._exclusions(main, matches)
        if excluded:
            fired |= excluded
            return None
        deadline = _first_in(found, unit.sentence.doc[unit.start:unit.end])
        future = _is_future(deadline, sent)
        past = _is_past(main, deadline)
        first = bool(words & FIRST_PERSON)
        if first:
            return self._first_person(unit, main, core, matches, future, past)
        lemmas = _verb_lemmas(main)
        if "Sie" in {t.text for t in main[1:]} | ({main[0].text} if len(main) else set()) and (
            lemmas & self.receive_lemmas) and not past and not (words & PERFECT_AUX):
            return Candidate(unit, self.receive_rule, "explicit", unit.start, unit.end)
        return self._third_person(unit, main, matches, deadline, future, past)

    def _refers_back(self, doc: Doc, cand: Candidate) -> bool:
        """A promise frame about the clause before it ("das garantiere ich Ihnen", "darauf …")."""
        main = doc[cand.unit.main.start:cand.unit.main.end]
        head = main[0].lower_ if len(main) else ""
        return head in BACK_REFERENCES and bool(_verb_lemmas(main) & self.frame_lemmas)

    def _exclusions(self, main: Span, matches: PhraseMatches) -> set[str]:
        out = set()
        for rule, _start, end in matches.within(main.start, main.end):
            if rule.kind != "modifier" or rule.option("effect") != "exclude":
                continue
            after = main.doc[end].lower_ if end < len(main.doc) else ""
            if after in self.except_after.get(rule.name, frozenset()):
                continue
            out.add(rule.name)
        return out

    def _first_person(self, unit: Unit, main: Span, core: Span, matches: PhraseMatches,
                      future: bool, past: bool) -> Candidate | None:
        lemmas = _verb_lemmas(core)
        main_words = {t.lower_ for t in main}
        scheduled = bool(main_words & SCHEDULED)
        if past and not (scheduled and future):
            return None
        can = bool(main_words & MODAL_CAN)
        kind = "implicit" if can or scheduled else "explicit"
        if lemmas & self.frame_lemmas or (lemmas & self.commit_lemmas - {"müssen"}):
            if main_words & MODAL_MUST and not future:
                return None  # "die muss ich erst einscannen": an explanation, not a commitment
            return Candidate(unit, self.commit_rule, kind, unit.start, unit.end)
        if future and any(is_verb(t, self.verb_forms) for t in main):
            return Candidate(unit, self.commit_rule, kind, unit.start, unit.end)
        in_main = matches.within(main.start, main.end)
        if any(r.kind == "implicit" for r, _, _ in in_main) and (future or any(
                r.name == "AbsoluteWords" for r, _, _ in in_main)):
            return Candidate(unit, self.implicit_rule, "implicit", unit.start, unit.end)  # "Wir sind … erreichbar"
        return None

    def _third_person(self, unit: Unit, main: Span, matches: PhraseMatches, deadline: Deadline | None,
                      future: bool, past: bool) -> Candidate | None:
        words = [t.lower_ for t in main]
        word_set = set(words)
        if "leider" in word_set or ("Sie" in {t.text for t in main[1:]} and word_set & (MODAL_CAN | {"müssen"})):
            return None
        implicit_hits = [r for r, _, _ in matches.within(main.start, main.end) if r.kind == "implicit"]
        absolute = any(r.option("effect") == "high" and r.name == "AbsoluteWords"
                       for r, _, _ in matches.within(main.start, main.end))
        scheduled = bool(word_set & SCHEDULED)
        if past and not ((scheduled or implicit_hits) and future):
            return None
        has_verb = any(is_verb(t, self.verb_forms) for t in main)
        if not has_verb:
            return None
        future_passive = bool(word_set & FUTURE_AUX) and any(
            PARTICIPLE.match(w) or w in RESULT_PARTICIPLES for w in words) and "worden" not in word_set
        staff = any(w in self.staff for w in words) and bool(_verb_lemmas(main) & (
            self.implicit_lemmas | self.commit_lemmas))
        if (future and (has_verb or implicit_hits)) or (implicit_hits and (absolute or future)) or (
            future_passive and (future or word_set & RESULT_PARTICIPLES)) or absolute or staff:
            return Candidate(unit, self.implicit_rule, "implicit", unit.start, unit.end)
        return None

    # -- building the finding -------------------------------------------------------------------

    def _build(self, doc: Doc, cand: Candidate, matches: PhraseMatches, found: Sequence[Deadline],
               sent: datetime) -> Promise:
        span = doc[cand.start_tok:cand.end_tok]
        start, end = span.start_char, span.end_char
        own = doc[cand.unit.start:cand.unit.end]
        deadline = _first_in(found, own) or _first_in(found, span)
        inside = matches.within(span.start, span.end)
        # Words inside "wie versprochen" and similar markers do not grade the promise.
        masked = [(a, b) for rule, a, b in inside if rule.option("masks_triggers")]
        triggers = [Trigger(rule.name, doc[a].idx, doc[b - 1].idx + len(doc[b - 1].text), doc[a:b].text)
                    for rule, a, b in inside
                    if rule.kind == "modifier" and rule.option("effect") in ("high", "low")
                    and not any(ma <= a and b <= mb for ma, mb in masked)]
        if deadline is not None and not deadline.vague and deadline_rules.is_tight(deadline, sent):
            tight = self.lexicon.rules.get("TightDeadlines")
            if tight is not None:
                triggers.append(Trigger(tight.name, deadline.start, deadline.end, deadline.text))
        risk, deciding = _grade(triggers, cand.kind, self.lexicon)
        rule = cand.rule
        message_rule = self.lexicon.rules.get(deciding.rule) if deciding else None
        message = (message_rule.message.replace("{trigger}", deciding.text)
                   if message_rule and deciding else rule.message)
        reason = message_rule.reason if message_rule else rule.reason
        severity = Severity(self.lexicon.severity(rule, SEVERITY_BY_RISK[risk].value)) \
            if rule.name in self.lexicon.severity_overrides else SEVERITY_BY_RISK[risk]
        return Promise(
            start=start, end=end, text=doc.text[start:end], kind=cand.kind,  # type: ignore[arg-type]
            risk=risk, rule=rule.name, message=message, reason=reason, severity=severity,
            deadline=deadline, triggers=tuple(triggers), object=_object_of(own, deadline),
        )


def _grade(triggers: Sequence[Trigger], kind: str, lexicon: Lexicon) -> tuple[Risk, Trigger | None]:
    """Risk from the triggers: a hedge wins, then absolute words, then conditions, then third parties."""
    by_rule: dict[str, Trigger] = {}
    for t in triggers:
        by_rule.setdefault(t.rule, t)
    for name, risk in (("Hedges", "low"), ("AbsoluteWords", "high"), ("Conditions", "low"),
                       ("TightDeadlines", "high"), ("ThirdParties", "high")):
        if name in by_rule:
            return risk, by_rule[name]  # type: ignore[return-value]
    for t in triggers:  # team rule files with their own effect
        rule = lexicon.rules.get(t.rule)
        if rule is not None:
            return rule.option("effect"), t
    return "medium", None


def _merge_spans(sentence: Span, candidates: Sequence[Candidate]) -> list[tuple[int, int]]:
    """Each promise's token span, widened over the non-promise clauses of its sentence next to it."""
    spans = []
    for n, cand in enumerate(candidates):
        start = cand.unit.start if n else sentence.start
        end = candidates[n + 1].unit.start if n + 1 < len(candidates) else sentence.end
        # Leading material before the first promise belongs to it only when it is in the same unit run.
        spans.append((start, end))
    return [_trim(sentence.doc, a, b) for a, b in spans]


def _trim(doc: Doc, start: int, end: int) -> tuple[int, int]:
    while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space) and doc[end - 1].text not in ")”":
        end -= 1
    while start < end and (doc[start].is_punct or doc[start].is_space):
        start += 1
    return start, end


def _verb_lemmas(span: Span) -> set[str]:
    """Lemmas of the tokens in a span that are not nouns."""
    return {t.lemma_ for t in span if not is_noun_like(t)}


def _first_in(found: Iterable[Deadline], span: Span) -> Deadline | None:
    a, b = span.start_char, span.end_char
    return next((d for d in found if d.start >= a and d.end <= b), None)


def _is_future(deadline: Deadline | None, sent: datetime) -> bool:
    if deadline is None:
        return False
    if deadline.vague or deadline.due is None:
        return True  # vague, event-bound or ambiguous deadlines all lie ahead
    if re.match(r"(?i)ab\s+sofort\b", deadline.text):
        return False  # "ist ab sofort online": a state that already holds, no date ahead
    due = deadline.due.date() if isinstance(deadline.due, datetime) else deadline.due
    return isinstance(due, date) and due >= sent.date()


def _is_past(main: Span, deadline: Deadline | None = None) -> bool:
    """Past or perfect tense, judged on the coordinated part that holds the deadline if there is one."""
    tokens = list(main)
    cuts = [n for n, t in enumerate(tokens) if t.lower_ in ("und", "sowie")]
    if deadline is not None and cuts:
        parts = [tokens[a + 1 if a else 0:b] for a, b in zip([0, *cuts], [*cuts, len(tokens)], strict=True)]
        tokens = next((p for p in parts if p and p[0].idx <= deadline.start < p[-1].idx + len(p[-1].text)),
                      tokens)
    words = [t.lower_ for t in tokens]
    if set(words) & PAST_ONLY:
        return True
    if set(words) & FUTURE_AUX:
        return False  # "ist bekannt und wird … behoben": the future part decides
    if set(words) & PERFECT_AUX:
        return any(PARTICIPLE.match(w) and w not in SCHEDULED for w in words)
    return False


def _object_of(span: Span, deadline: Deadline | None) -> str | None:
    """What was promised: the first noun after a determiner outside the deadline phrase."""
    prev = ""
    for tok in span:
        inside = deadline is not None and deadline.start <= tok.idx < deadline.end
        if (not inside and tok.text[:1].isupper() and tok.is_alpha and tok.lower_ not in NOT_OBJECTS
                and prev in DETERMINERS and tok.i != span.start):
            return tok.text
        prev = tok.lower_
    return None


class PhraseMatches:
    """Phrase matches of one Doc, queryable by token range."""

    def __init__(self, found: list[tuple[Rule, int, int]]) -> None:
        self.found = found

    def within(self, start: int, end: int) -> list[tuple[Rule, int, int]]:
        """Matches lying fully inside tokens [start, end)."""
        return [m for m in self.found if m[1] >= start and m[2] <= end]
