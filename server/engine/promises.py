"""Promises: commitments of the writer in the new text, with kind, risk and deadline."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lexicon import Lexicon, Rule, load_grammar
from server.engine import deadlines as deadline_rules
from server.engine.clauses import Chunk, Unit, is_verb, sentences, split_coordinated, units
from server.engine.deadlines import DeadlineFinder
from server.engine.nlp import Tokens, tokens_of, verb_forms
from server.engine.phrases import PhraseIndex, PhraseMatches
from server.engine.risk import grade, grades
from server.engine.tense import FUTURE_AUX, PARTICIPLE, PERFECT_AUX, SCHEDULED, is_future, is_past
from server.engine.types import Deadline, Promise, Risk, Severity, Trigger

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

GRAMMAR = load_grammar()
FIRST_PERSON = GRAMMAR["first_person"]
MODAL_CAN = GRAMMAR["modal_can"]
MODAL_MUST = GRAMMAR["modal_must"]
FINITE_HINTS = GRAMMAR["finite_hints"]
RESULT_PARTICIPLES = GRAMMAR["result_participles"]
TAG_WORDS = GRAMMAR["tag_words"]
DETERMINERS = GRAMMAR["determiners"]
NOT_OBJECTS = GRAMMAR["not_objects"]
BACK_REFERENCES = GRAMMAR["back_references"]
PROCESS_VERBS = GRAMMAR["process_verbs"]
INTENTION = GRAMMAR["intention"]
BELIEF_FRAMES = GRAMMAR["belief_frames"]
COPULAS = GRAMMAR["copulas"]
FUNCTION_WORDS = GRAMMAR["function_words"]
INDEFINITE = GRAMMAR["indefinite_articles"]
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
        self.particles_of = _particle_only_bases(lexicon)
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
        tokens = tokens_of(doc)
        text = tokens.source  # Doc.text would re-join Token objects
        matches = self.phrases.matches(doc)
        found = self.deadlines.find(text, sent)
        spans = [(d.start, d.end) for d in found]
        promises: list[Promise] = []
        fired: set[str] = set()
        last: Candidate | None = None
        for sentence in sentences(tokens):
            a, b = tokens.chars(*sentence)
            if text[a:b].rstrip().endswith("?"):
                continue
            if _tag_only(tokens, *sentence):
                # "Das schaffen wir bis Freitag. Versprochen!": the tag belongs to the promise before it.
                if last is not None and promises and "\n\n" not in text[tokens.end[last.end_tok - 1]:a]:
                    last.end_tok = sentence[1]
                    promises[-1] = self._build(text, tokens, last, matches, found, sent)
                    fired |= {t.rule for t in promises[-1].triggers}
                continue
            candidates: list[Candidate] = []
            reported = False
            for whole in units(tokens, sentence, self.verb_forms, spans):
                # "Er sagt, sein Team kann …": what follows a reporting clause is reported too.
                if reported:
                    fired.add("ReportedSpeech")
                    continue
                reported = "ReportedSpeech" in self._exclusions(tokens, whole.main.start, whole.main.end, matches)
                for unit in split_coordinated(tokens, whole, self.verb_forms, spans):
                    if _tag_only(tokens, unit.main.start, unit.main.end) and not unit.after:
                        continue  # "Versprochen: Das Angebot …": the tag grades the clause after it
                    cand = self._classify(tokens, unit, matches, found, sent, fired)
                    if cand is None:
                        continue
                    if candidates and self._refers_back(tokens, cand):
                        candidates[-1].kind = "explicit"  # "…, das kann ich Ihnen versprechen"
                        continue
                    candidates.append(cand)
            for cand, (start_tok, end_tok) in zip(candidates, _merge_spans(tokens, sentence, candidates),
                                                  strict=True):
                cand.start_tok, cand.end_tok = start_tok, end_tok
                promise = self._build(text, tokens, cand, matches, found, sent)
                fired |= {promise.rule} | {t.rule for t in promise.triggers}
                promises.append(promise)
                last = cand
        return promises, fired

    # -- classification -------------------------------------------------------------------------

    def _classify(self, tokens: Tokens, unit: Unit, matches: PhraseMatches, found: Sequence[Deadline],
                  sent: datetime, fired: set[str]) -> Candidate | None:
        main = unit.main
        words = set(tokens.lower[main.start:unit.end])
        if any(_chunk_text(tokens, c) in TAG_WORDS for c in unit.after):
            return Candidate(unit, self.commit_rule, "explicit", unit.start, unit.end)
        deadline = _first_in(found, *tokens.chars(unit.start, unit.end))
        future = is_future(deadline, sent)
        excluded = self._exclusions(tokens, main.start, main.end, matches,
                                    dated=_first_in(found, *tokens.chars(main.start, main.end)) if future else None)
        if excluded:
            fired |= excluded
            return None
        # A one-word risk modifier ("garantiert") is an adverb there, not a participle.
        graded = {a for r, a, b in matches.within(main.start, main.end) if r.kind == "modifier" and b == a + 1}
        past = is_past(tokens, main.start, main.end, deadline, graded)
        joined = "und" in (tokens.lower[main.start], tokens.lower[main.start - 1] if main.start else "")
        coordinated = joined and bool(  # "wir kümmern uns … und schicken …", "…, und informieren Sie …"
            FIRST_PERSON & set(tokens.lower[unit.sentence[0]:main.start]))
        if words & FIRST_PERSON or coordinated or self._elided_first_person(tokens, main):
            return self._first_person(tokens, unit, matches, future, past)
        lemmas = _verb_lemmas(tokens, main.start, main.end)
        if "Sie" in tokens.text[main.start:main.end] and lemmas & self.receive_lemmas and not past and not (
                words & PERFECT_AUX):
            return Candidate(unit, self.receive_rule, "explicit", unit.start, unit.end)
        return self._third_person(tokens, unit, matches, future, past)

    def _elided_first_person(self, tokens: Tokens, main: Chunk) -> bool:
        """Chat style without "ich": "melde mich morgen", "Rufe Sie am Freitag an"."""
        head, lemma = tokens.lower[main.start], tokens.lemma[main.start]
        if head.endswith("e") and head != lemma and lemma in self.commit_lemmas:
            return True  # a first-person singular form opening the clause
        return "mich" in tokens.lower[main.start:main.end] and bool(
            _verb_lemmas(tokens, main.start, main.end) & self.commit_lemmas)

    def _refers_back(self, tokens: Tokens, cand: Candidate) -> bool:
        """A promise frame about the clause before it ("das garantiere ich Ihnen", "darauf …")."""
        main = cand.unit.main
        return tokens.lower[main.start] in BACK_REFERENCES and bool(
            _verb_lemmas(tokens, main.start, main.end) & self.frame_lemmas)

    def _exclusions(self, tokens: Tokens, start: int, end: int, matches: PhraseMatches, *,
                    dated: Deadline | None = None) -> set[str]:
        out = set()
        for rule, a, b in matches.within(start, end):
            if rule.kind != "modifier" or rule.option("effect") != "exclude":
                continue
            if dated is not None and _dates_the_act(rule, " ".join(tokens.lower[a:b]), dated):
                continue  # "Morgen informieren wir Sie": a dated announcement is a promise, "hiermit …" is not
            if rule.option("anchor") == "start" and (a != start or (start and not tokens.is_punct[start - 1]
                                                                  and tokens.lower[start - 1] != "bitte")):
                continue  # "Rufen Sie uns an" is a request; "Wir rufen Sie an", "… und bringen sie zurück" are not
            after = tokens.lower[b] if b < len(tokens) else ""
            if after in self.except_after.get(rule.name, frozenset()):
                continue
            out.add(rule.name)
        return out

    def _lemmas_in(self, tokens: Tokens, start: int, end: int) -> set[str]:
        """Verb lemmas of a range; a base like "legen" counts only when its particle ("bei") is there too."""
        lemmas = _verb_lemmas(tokens, start, end)
        words = set(tokens.lower[start:end])
        return {lemma for lemma in lemmas
                if lemma not in self.particles_of or self.particles_of[lemma] & words}

    def _first_person(self, tokens: Tokens, unit: Unit, matches: PhraseMatches,
                      future: bool, past: bool) -> Candidate | None:
        main = unit.main
        lemmas = self._lemmas_in(tokens, main.start, unit.end)
        main_words = set(tokens.lower[main.start:main.end])
        scheduled = bool(main_words & SCHEDULED)
        if past and not (scheduled and future):
            return None
        # "können wir", "haben wir eingeplant", "sind wir durch" and "ich gehe davon aus, dass …" create
        # an expectation without a promise verb: implicit (DESIGN.md, borderline cases).
        verbs = _verb_lemmas(tokens, main.start, main.end)
        belief = bool(main_words & BELIEF_FRAMES) and len(unit.after) > 0
        copula_only = not (verbs & self.commit_lemmas) and bool(main_words & COPULAS)
        kind = "implicit" if main_words & MODAL_CAN or scheduled or belief or copula_only else "explicit"
        if lemmas & self.frame_lemmas or lemmas & self.commit_lemmas:
            if main_words & MODAL_MUST and not future:
                return None  # "die muss ich erst einscannen": an explanation, not a commitment
            return Candidate(unit, self.commit_rule, kind, unit.start, unit.end)
        if future and (any(is_verb(tokens, i, self.verb_forms) for i in range(main.start, main.end))
                       or _verb_next_to_subject(tokens, main.start, main.end)):
            return Candidate(unit, self.commit_rule, kind, unit.start, unit.end)
        in_main = matches.within(main.start, main.end)
        if any(r.kind == "implicit" for r, _, _ in in_main) and (future or any(
                r.name == "AbsoluteWords" for r, _, _ in in_main)):
            return Candidate(unit, self.implicit_rule, "implicit", unit.start, unit.end)  # "Wir sind … erreichbar"
        return None

    def _third_person(self, tokens: Tokens, unit: Unit, matches: PhraseMatches,
                      future: bool, past: bool) -> Candidate | None:
        main = unit.main
        words = tokens.lower[main.start:main.end]
        word_set = set(words)
        customer_duty = "Sie" in tokens.text[main.start + 1:main.end] and word_set & (MODAL_CAN | MODAL_MUST)
        # Duties ("muss … vorliegen"), possibilities ("kann … abgeholt werden") and others' intentions
        # ("Frau Ahrens will …") are no promise of ours.
        possibility = bool(word_set & MODAL_CAN) and "werden" in word_set
        if "leider" in word_set or customer_duty or possibility or word_set & (MODAL_MUST | INTENTION):
            return None
        in_main = matches.within(main.start, main.end)
        absolute = any(r.name == "AbsoluteWords" for r, _, _ in in_main)
        scheduled = bool(word_set & SCHEDULED)
        if past and not (scheduled and future):
            return None
        if word_set & PROCESS_VERBS and not past:
            if not future and words[0] in INDEFINITE:
                return None  # "Eine Bearbeitung erfolgt in der Reihenfolge des Eingangs": how things go in general
            return Candidate(unit, self.implicit_rule, "implicit", unit.start, unit.end)  # "Die Auszahlung erfolgt …"
        if not any(is_verb(tokens, i, self.verb_forms) for i in range(main.start, main.end)):
            return None
        future_passive = bool(word_set & FUTURE_AUX) and "worden" not in word_set and any(
            PARTICIPLE.match(w) or w in RESULT_PARTICIPLES for w in words)
        staff = bool(word_set & self.staff) and (bool(self._lemmas_in(tokens, main.start, main.end) & (
            self.implicit_lemmas | self.commit_lemmas)) or any(r.kind == "implicit" for r, _, _ in in_main))
        # "Unser Kalender ist bis Juli voll", "Der Termin ist am Dienstag": a date beside a bare copula
        # states a fact; it promises something only with an expectation ("abholbereit", "bei Ihnen").
        verbs = {tokens.lower[i] for i in range(main.start, main.end) if is_verb(tokens, i, self.verb_forms)}
        acts = bool(verbs - COPULAS - FUTURE_AUX) or bool(in_main and any(r.kind == "implicit" for r, _, _ in in_main))
        if (future and (acts or scheduled or future_passive)) or absolute or staff or (
                future_passive and word_set & RESULT_PARTICIPLES):
            return Candidate(unit, self.implicit_rule, "implicit", unit.start, unit.end)
        return None

    # -- building the finding -------------------------------------------------------------------

    def _build(self, text: str, tokens: Tokens, cand: Candidate, matches: PhraseMatches,
               found: Sequence[Deadline], sent: datetime) -> Promise:
        start, end = tokens.chars(cand.start_tok, cand.end_tok)
        own = tokens.chars(cand.unit.start, cand.unit.end)
        deadline = _first_in(found, *own) or _first_in(found, start, end)
        inside = matches.within(cand.start_tok, cand.end_tok)
        # Words inside "wie versprochen" and similar markers do not grade the promise.
        masked = [(a, b) for rule, a, b in inside if rule.option("masks_triggers")]
        unit_range = (cand.unit.start, cand.unit.end)
        triggers = [Trigger(rule.name, tokens.start[a], tokens.end[b - 1], text[tokens.start[a]:tokens.end[b - 1]])
                    for rule, a, b in inside
                    if grades(rule, a, b, cand.rule is self.commit_rule, unit_range)
                    and not any(ma <= a and b <= mb for ma, mb in masked)]
        if deadline is not None and not deadline.vague and deadline_rules.is_tight(deadline, sent):
            tight = self.lexicon.rules.get("TightDeadlines")
            if tight is not None:
                triggers.append(Trigger(tight.name, deadline.start, deadline.end, deadline.text))
        risk, deciding = grade(triggers, self.lexicon)
        rule = cand.rule
        message_rule = self.lexicon.rules.get(deciding.rule) if deciding else None
        message = (message_rule.message.replace("{trigger}", deciding.text)
                   if message_rule and deciding else rule.message)
        reason = message_rule.reason if message_rule else rule.reason
        severity = Severity(self.lexicon.severity(rule, SEVERITY_BY_RISK[risk].value)) \
            if rule.name in self.lexicon.severity_overrides else SEVERITY_BY_RISK[risk]
        return Promise(
            start=start, end=end, text=text[start:end], kind=cand.kind,  # type: ignore[arg-type]
            risk=risk, rule=rule.name, message=message, reason=reason, severity=severity,
            deadline=deadline, triggers=tuple(triggers),
            object=_object_of(tokens, cand.unit.start, cand.unit.end, deadline),
        )


def _merge_spans(tokens: Tokens, sentence: tuple[int, int],
                 candidates: Sequence[Candidate]) -> list[tuple[int, int]]:
    """Each promise's token span, widened over the non-promise clauses of its sentence next to it."""
    spans = []
    for n, cand in enumerate(candidates):
        start = cand.unit.start if n else sentence[0]
        end = candidates[n + 1].unit.start if n + 1 < len(candidates) else sentence[1]
        spans.append(_trim(tokens, start, end))
    return spans


def _trim(tokens: Tokens, start: int, end: int) -> tuple[int, int]:
    while end > start and (((tokens.is_punct[end - 1] or tokens.is_space[end - 1]) and tokens.text[end - 1] not in ")”")
                           or tokens.lower[end - 1] in ("und", "oder", "sowie")):
        end -= 1
    while start < end and (tokens.is_punct[start] or tokens.is_space[start]):
        start += 1
    return start, end


def _dates_the_act(rule: Rule, phrase: str, deadline: Deadline) -> bool:
    """Whether a deadline in the main clause puts a speech act ("informieren", "bestätigen") in the future.

    Not for phrases that mark the act as done with this mail ("hiermit"), nor for a date that belongs to
    what is said ("bestätigen die Kündigung zum 31.12."): the rule file lists both.
    """
    if not rule.option("unless_dated") or phrase in rule.option("now_phrases", ()):
        return False
    first = deadline.text.split(maxsplit=1)[0].lower() if deadline.text.strip() else ""
    return first not in rule.option("content_date_words", ())


def _tag_only(tokens: Tokens, start: int, end: int) -> bool:
    """Tokens [start, end) hold words and all of them are promise tags ("Versprochen!", "Ehrenwort.")."""
    words = [tokens.lower[i] for i in range(start, end) if not tokens.is_punct[i] and not tokens.is_space[i]]
    return bool(words) and all(w in TAG_WORDS for w in words)


def _chunk_text(tokens: Tokens, chunk: Chunk) -> str:
    words = [tokens.lower[i] for i in range(chunk.start, chunk.end) if not tokens.is_punct[i]]
    return " ".join(words)


def _verb_next_to_subject(tokens: Tokens, start: int, end: int) -> bool:
    """An unknown verb right before or after "ich"/"wir" ("Ich spiele … ein", "übermittle ich")."""
    for k in range(start, end):
        if tokens.lower[k] not in FIRST_PERSON:
            continue
        for n in (k - 1, k + 1):
            if start <= n < end:
                word = tokens.text[n]
                if (word.isalpha() and len(word) > 2 and not tokens.noun[n] and (word.islower() or n == start)
                        and tokens.lower[n] not in FUNCTION_WORDS and tokens.lower[n] not in COPULAS
                        and tokens.lower[n] not in PERFECT_AUX):
                    return True
    return False


def _verb_lemmas(tokens: Tokens, start: int, end: int) -> set[str]:
    """Lemmas of the tokens in [start, end) that are not nouns ("120 Zusagen" is no "zusagen")."""
    noun = tokens.noun
    return {lemma for i, lemma in enumerate(tokens.lemma[start:end], start) if not noun[i]}


def _particle_only_bases(lexicon: Lexicon) -> dict[str, frozenset[str]]:
    """Base verbs known only with a separable particle ("legen" from bei|legen, an|legen) and those particles."""
    standalone: set[str] = set()
    particles: dict[str, set[str]] = {}
    for rule in lexicon.rules.values():
        for verb in rule.verbs:
            particle, _, base = verb.lemma.rpartition("|")
            if particle:
                particles.setdefault(base, set()).add(particle)
            else:
                standalone.add(base)
    return {base: frozenset(p) for base, p in particles.items() if base not in standalone}


def _first_in(found: Iterable[Deadline], a: int, b: int) -> Deadline | None:
    return next((d for d in found if d.start >= a and d.end <= b), None)


def _object_of(tokens: Tokens, start: int, end: int, deadline: Deadline | None) -> str | None:
    """What was promised: the first noun after a determiner outside the deadline phrase."""
    for i in range(start + 1, end):
        word = tokens.text[i]
        inside = deadline is not None and deadline.start <= tokens.start[i] < deadline.end
        if (not inside and word[:1].isupper() and word.isalpha() and tokens.lower[i] not in NOT_OBJECTS
                and tokens.lower[i - 1] in DETERMINERS):
            return word
    return None
