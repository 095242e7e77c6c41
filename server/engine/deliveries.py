"""Deliveries: hand-overs and done reports in new text (matching and the rewrite: `delivery_match`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from lexicon import Lexicon, Rule
from server.engine.delivery_clauses import (
    COMPLEMENT,
    DETERMINERS,
    FIRST_PERSON,
    FUNCTION_WORDS,
    GENITIVE,
    PAST_AUX,
    PERFECT_AUX,
    PREPOSITIONS,
    PRESENT_AUX,
    PRONOUNS,
    SECOND_PERSON,
    Scope,
    Segment,
    base_form,
    clauses,
    is_modifier,
    looks_participle,
    span_text,
    token_lowers,
    token_rows,
    windows,
)
from server.engine.delivery_match import match_deliveries, promise_nouns, same_thing, wie_versprochen_rewrite
from server.engine.delivery_patterns import GAP, Match, Pattern, PatternSet, compile_pattern, option_list
from server.engine.types import Delivery, Severity

__all__ = ["DeliveryFinder", "match_deliveries", "promise_nouns", "same_thing", "wie_versprochen_rewrite"]

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


@dataclass(frozen=True, slots=True)
class Found:
    """A delivery clause before it becomes a Delivery: rule, object and span in segment indices."""

    rule: Rule
    phrased: bool
    obj: str
    first: int  # index of the first segment of the span
    last: int


class DeliveryFinder:
    """Finds hand-overs ("Anbei erhalten Sie das Angebot") and done reports in a paragraph."""

    # Trigger lists by rule role: (role, key in the rule file).
    TRIGGERS = (("handover", "confirmations"), ("handover", "phrases"), ("handover", "channel"),
                ("handover", "performative"), ("handover", "sending_verbs"), ("sent", "phrases"),
                ("done", "phrases"), ("phrased", "present_verbs"))
    BLOCKERS = ("negation", "request", "request_exceptions", "thanks", "hedge", "modal", "general", "mistake",
                "internal", "earlier", "future", "not_future", "receipt")
    # Trigger lists in the order they are tried.
    ORDER = ("handover.confirmations", "handover.phrases", "handover.channel", "handover.performative",
             "sent.phrases", "done.phrases")

    def __init__(self, lexicon: Lexicon, nlp: Language) -> None:
        self.lexicon = lexicon
        roles: dict[str, list[Rule]] = {}
        for rule in lexicon.of_kind("delivery"):
            roles.setdefault(str(rule.option("role", "")), []).append(rule)
        phrased = roles.get("phrased", [])
        self.phrased_rule = phrased[0] if phrased else None
        self.phrased = PatternSet(self._patterns(phrased, "phrases", "phrased"))
        self.triggers = PatternSet(p for role, key in self.TRIGGERS
                                   for p in self._patterns(roles.get(role, []), key, f"{role}.{key}"))
        # Shared blockers and noun lists stay in force even when the hand-over rule itself is disabled.
        base = lexicon.rules.get("Deliveries")
        self.blockers = PatternSet(compile_pattern(p, base, key) for key in self.BLOCKERS
                                   for p in option_list(base, "blockers", key))
        self.conditional = frozenset(option_list(base, "blockers", "conditional"))
        self.conditional_after = frozenset(option_list(base, "blockers", "conditional_after"))
        self.condition_before = frozenset(option_list(base, "blockers", "condition_before"))
        self.question_starts = frozenset(option_list(base, "blockers", "question_starts"))
        self.light = frozenset(option_list(base, "light_nouns"))
        self.skip_nouns = frozenset(option_list(base, "skip_nouns"))
        self.dated_nouns = frozenset(option_list(base, "dated_nouns"))
        sent = next(iter(roles.get("sent", [])), None)
        self.earlier = PatternSet(compile_pattern(p, sent, "earlier_recent") for p in option_list(sent, "earlier"))
        self.earlier_weak = frozenset(option_list(sent, "earlier_weak"))
        self.now = frozenset(option_list(sent, "now"))
        self.arrival = frozenset(option_list(sent, "arrival_questions"))
        # Words one of which a clause must hold to be looked at closely (helpers like sending verbs don't count).
        anchors = [p.anchors() for ps in (self.phrased, self.triggers) for p in ps.patterns
                   if not p.tag.endswith(("sending_verbs", "present_verbs"))]
        self.anchor_words = frozenset(w for a in anchors for w in a.words)
        prefixes = sorted({p for a in anchors for p in a.prefixes})
        self.anchor_prefixes = tuple(prefixes)
        self.anchor_prefix = re.compile(f"(?:^| )(?:{'|'.join(map(re.escape, prefixes))})") if prefixes else None

    @staticmethod
    def _patterns(rules: list[Rule], key: str, tag: str) -> list[Pattern]:
        """The compiled patterns under `key` ("phrases" or an option) of the given rules."""
        return [compile_pattern(p, rule, tag) for rule in rules
                for p in (rule.phrases if key == "phrases" else option_list(rule, key))]

    def _anchored(self, words: list[str]) -> bool:
        """Whether the words hold an anchor of some delivery pattern (else nothing can match)."""
        if not self.anchor_words.isdisjoint(words):
            return True
        return self.anchor_prefix is not None and self.anchor_prefix.search(" ".join(words)) is not None

    def find(self, doc: Doc) -> list[Delivery]:
        """Deliveries in `doc`, offsets relative to `doc.text`."""
        rows = token_rows(doc)
        lowers = token_lowers(doc, rows)
        if not self._anchored(lowers):
            return []
        words = self.anchor_words
        if self.anchor_prefix is not None and self.anchor_prefix.search(" ".join(lowers)):
            prefixes = self.anchor_prefixes
            hits = [n for n, w in enumerate(lowers) if w in words or w.startswith(prefixes)]
        else:
            hits = [n for n, w in enumerate(lowers) if w in words]
        out: list[Delivery] = []
        for start, end, depth in windows(rows, hits):
            segs = self._merged(clauses(rows, lowers, start, end, depth))
            out += (self._delivery(doc, rows, segs, f) for f in self._found(segs))
        return out

    def _found(self, segs: list[Segment]) -> list[Found]:
        """The deliveries among the clauses of a window, neighbours that tell one story joined."""
        found: list[Found] = []
        for n, seg in enumerate(segs):
            if found and found[-1].last >= n:
                continue  # taken into the delivery before
            hit = self._clause(segs, n)
            if hit is None:
                continue
            prev = found[-1] if found else None
            # Two reports of one kind in a row of the same sentence tell one story ("ist abgeschlossen,
            # alle Dateien sind wieder da"), and so does a report with its result handed over ("haben wir
            # bestätigt, die Bestätigung liegt bei").
            if prev and prev.last == n - 1 and segs[prev.last].sentence == seg.sentence and (
                    prev.rule.name == hit.rule.name or _result_handed_over(prev.rule, hit.rule)):
                found[-1] = replace(prev, last=n, phrased=prev.phrased or hit.phrased)
            else:
                found.append(hit)
        return found

    def _delivery(self, doc: Doc, rows: list[tuple[str, int]], segs: list[Segment], f: Found) -> Delivery:
        first, last = segs[f.first].ids[0], segs[f.last].ids[-1]
        last_text = rows[last][0]
        # A sentence-final period glued to a date ("zum 31.12.2026.") is not part of the clause.
        glued = last_text.endswith(".") and (last_text.count(".") == 3 or last_text[:-1].isdigit()) and (
            f.last + 1 == len(segs) or segs[f.last + 1].sentence != segs[f.last].sentence)
        start, end = rows[first][1], rows[last][1] + len(last_text) - glued
        text = span_text(doc, first, last + 1)[: end - start]
        rule = self.phrased_rule if f.phrased and self.phrased_rule is not None else f.rule
        return Delivery(
            start=start, end=end, text=text, object=f.obj, phrased=f.phrased,
            rule=rule.name, message=rule.message, reason=rule.reason,
            severity=Severity(self.lexicon.severity(rule, "information")))

    def _merged(self, segs: list[Segment]) -> list[Segment]:
        """Segments with a leading "Wie versprochen," / "Anbei," / "Hier," joined to the clause after it."""
        out: list[Segment] = []
        for seg in segs:
            if out and out[-1].sentence == seg.sentence and self._only_marker(out[-1]):
                head = out.pop()
                seg = Segment(head.ids + seg.ids, seg.sentence, seg.quoted and head.quoted, seg.question,
                              head.words + seg.words, head.texts + seg.texts, head.inquote + seg.inquote)
            out.append(seg)
        return out

    def _only_marker(self, seg: Segment) -> bool:
        """Whether the clause is nothing but a marker ("Wie versprochen", "Anbei", "Im Anhang")."""
        if seg.words == ["hier"]:
            return True
        if len(seg.words) > GAP + 2 or not self._anchored(seg.words):
            return False
        covered: set[int] = set()
        for m in (*self.phrased.find(seg.words), *self.triggers.find(seg.words)):
            if m.pattern.tag in ("phrased", "handover.phrases", "handover.channel"):
                covered.update(range(m.start, m.end))
        return len(covered) == len(seg.words)

    def _clause(self, segs: list[Segment], n: int) -> Found | None:
        """The delivery that clause n makes, if any."""
        seg = segs[n]
        words = seg.words
        if seg.quoted or not self._anchored(words):
            return None
        # Words of a "wie versprochen" marker take no other part (its "vereinbart" is no done report).
        free = list(words)
        for m in self.phrased.find(words):
            free[m.start:m.end] = [""] * (m.end - m.start)
        phrased = "" in free
        # "kann abgeholt werden" is a passive infinitive, not the future tense.
        free = ["" if w == "werden" and k and looks_participle(free[k - 1]) else w for k, w in enumerate(free)]
        prev = segs[n - 1] if n and segs[n - 1].sentence == seg.sentence else None
        last = n + 1 == len(segs) or segs[n + 1].sentence != seg.sentence
        if self._asks_or_waits(seg, free, prev, last):
            return None
        trigger = self._trigger(segs, n, free, phrased)
        if trigger is None:
            return None
        rule, markers = trigger
        skip = markers | {k for k, w in enumerate(free) if not w}
        obj, first = self._object(seg, skip, free), n
        # "Die Reparatur, die Sie beauftragt hatten, ist abgeschlossen": the subject is further back
        # (but "Der Spediteur hat das bestätigt" has one, and its thing is a pronoun).
        lonely = obj is None and not self._nouns(seg, skip)
        while lonely and obj is None and first and segs[first - 1].sentence == seg.sentence and n - first < 3:
            first -= 1
            obj = self._object(segs[first], set(), segs[first].words)
        until = n
        # "Anbei sende ich Ihnen – wie besprochen – den Entwurf": the thing follows an inserted remark.
        nxt = segs[n + 1] if n + 1 < len(segs) and segs[n + 1].sentence == seg.sentence else None
        if lonely and obj is None and nxt is not None and str(rule.option("role")) == "handover":
            obj, first, until = self._object(nxt, set(), nxt.words), n, n + 1
            phrased = phrased or self.phrased.first(nxt.words) is not None
        return Found(rule, phrased, obj, first, until) if obj else None

    def _asks_or_waits(self, seg: Segment, free: list[str], prev: Segment | None, last: bool) -> bool:
        """Questions and conditions ("Ist die Rechnung fertig?", "Sobald …", "Ich hoffe, dass …")."""
        opener = next((w for w in free if w), "")
        if opener in self.conditional or (seg.question and (last or opener in self.question_starts)):
            return True
        if prev is None:
            return False
        # The consequence of a condition waits for it: "Wenn es da ist, (dann) ist Ihr Auto fertig".
        if prev.words[0] in self.condition_before:
            return True
        if opener != "dass":
            return False
        # A "dass" clause says what its main clause says: "Ich hoffe, dass die Reparatur erledigt ist."
        main = {m.pattern.tag for m in self.blockers.find(prev.words)}
        return prev.words[0] in self.conditional or bool(main & {"negation", "hedge", "modal", "request"})

    @staticmethod
    def _negated(blocks: dict[str, list[Match]]) -> bool:
        """Negations, requests, hedges, general statements, mistakes and internal steps are no deliveries."""
        if any(k in blocks for k in ("negation", "hedge", "modal", "general", "mistake", "internal", "receipt")):
            return True
        return "request" in blocks and "request_exceptions" not in blocks

    def _trigger(self, segs: list[Segment], n: int, free: list[str],
                 phrased: bool) -> tuple[Rule, set[int]] | None:
        """The rule that makes clause n a delivery and the positions of its marker words."""
        seg = segs[n]
        tense = "past" if not PAST_AUX.isdisjoint(free) else (
            "present" if not PRESENT_AUX.isdisjoint(free) else None)
        # "Wie besprochen, hier die …": the clause starts after a leading marker for "^hier".
        lead = next((k for k, w in enumerate(free) if w), len(free))
        hits: dict[str, list[Match]] = {}
        for m in self.triggers.find(seg.words, lead):
            if any(seg.inquote[k] for k in m.positions):
                continue  # quoted words report nothing of ours: „Die Rechnung ist fertig“, schrieb er
            # A hand-over may lean on the marker ("hier wie versprochen der …"), a report may not.
            if m.pattern.tag.startswith("handover.") or all(free[k] for k in m.positions):
                hits.setdefault(m.pattern.tag, []).append(m)
        if not hits and not phrased:
            return None
        scope = Scope(free, [*self.blockers.find(free), *self.earlier.find(free)])
        perfect = not PERFECT_AUX.isdisjoint(free)
        customer = perfect and FIRST_PERSON.isdisjoint(free) and not SECOND_PERSON.isdisjoint(seg.texts)
        nxt = segs[n + 1] if n + 1 < len(segs) and segs[n + 1].sentence == seg.sentence else None
        waits = nxt is not None and nxt.words[0] in self.conditional_after
        for tag in self.ORDER:
            for m in hits.get(tag, []):
                blocks = scope.around(m.positions)
                future = self._is_future(seg, blocks) if tense != "past" else perfect and self._by_then(blocks)
                if m.pattern.rule is None or self._negated(blocks):
                    continue
                if tag.startswith("handover."):
                    theirs = "thanks" in blocks  # "Danke für die Fotos im Anhang": their attachment
                    promised = future and "handover.sending_verbs" in hits
                    if not ((tag in ("handover.phrases", "handover.channel") and theirs)
                            or (tag == "handover.channel" and promised)
                            or (tag == "handover.performative" and future)) and self._hier_ok(seg, lead, m):
                        return m.pattern.rule, set(m.positions)
                    continue
                if future or customer or waits or (len(m.positions) == 1 and tense is None):
                    continue
                if "earlier" in blocks or (tag == "sent.phrases" and (
                        "earlier_recent" in blocks or self._earlier(segs, n, free, perfect))):
                    continue
                return m.pattern.rule, set(m.positions)
        blocks = scope.around(())
        if phrased and self.phrased_rule is not None and not self._negated(blocks):
            verb = next(iter(hits.get("phrased.present_verbs", [])), None)
            perfect_like = tense and not customer and any(
                looks_participle(w) for w in free if w not in FUNCTION_WORDS)
            if (verb or perfect_like) and not (tense != "past" and self._is_future(seg, blocks)):
                return self.phrased_rule, set(verb.positions) if verb else set()
        return None

    def _is_future(self, seg: Segment, blocks: dict[str, list[Match]]) -> bool:
        """Whether a time word points the clause ahead.

        Not "heute Morgen", and not a time that belongs to an appointment: "Ihr Termin am Freitag ist
        bestätigt" confirms now.
        """
        not_future = {k for m in blocks.get("not_future", []) for k in range(m.start, m.end)}
        attributive = -1  # end of the last time phrase that describes an appointment noun
        for m in blocks.get("future", []):
            if m.start in not_future:
                continue
            if m.start and (seg.words[m.start - 1] in self.dated_nouns or m.start == attributive):
                attributive = m.end
                continue
            return True
        return False

    @staticmethod
    def _by_then(blocks: dict[str, list[Match]]) -> bool:
        """A perfect with "bis …" is a future perfect: "haben den Transport bis 18 Uhr abgeschlossen"."""
        not_future = {k for m in blocks.get("not_future", []) for k in range(m.start, m.end)}
        return any(m.pattern.source.startswith("bis ") and m.start not in not_future
                   for m in blocks.get("future", []))

    def _hier_ok(self, seg: Segment, lead: int, m: Match) -> bool:
        """ "Hier ist/die …" hands over a thing, not "Hier ist uns ein Fehler unterlaufen"."""
        if not m.pattern.source.startswith("^hier"):
            return True
        after = seg.words[lead + 2] if lead + 2 < len(seg.words) else ""
        tail = seg.texts[-1]
        verb_tail = tail[:1].islower() and tail.lower() not in FUNCTION_WORDS and tail.endswith(("t", "en"))
        return after not in PRONOUNS and not verb_tail

    def _earlier(self, segs: list[Segment], n: int, free: list[str], perfect: bool) -> bool:
        """Whether a sending is one the text refers back to ("gestern geschickt – angekommen?")."""
        seg = segs[n]
        if seg.question:
            return True
        if perfect and not self.earlier_weak.isdisjoint(free) and self.now.isdisjoint(free):
            return True
        for later in segs[n + 1:]:
            if later.sentence > seg.sentence + 1:
                break
            if later.sentence == seg.sentence + 1 and later.question and self.arrival.intersection(later.words):
                return True
        return False

    def _object(self, seg: Segment, skip: set[int], free: list[str]) -> str | None:
        """The delivered thing: the first noun outside a prepositional phrase, one with an article first.

        In the active perfect the thing is the accusative object: "Unser Techniker hat die Störung
        behoben" delivers "Störung", "Die Kaution haben wir überwiesen" delivers "Kaution".
        """
        aux = next((k for k, w in enumerate(free) if w in PERFECT_AUX), None)
        after = aux + 1 if aux is not None and aux + 1 < len(free) and free[aux + 1] not in PRONOUNS else 0
        # With the subject before the auxiliary, only what follows can be the thing ("Der Spediteur hat das
        # bestätigt" names no thing at all).
        nouns = [c for c in self._nouns(seg, skip) if c[1] >= after]
        best = min(nouns, key=lambda c: (c[0], c[1]), default=None)
        return None if best is None else self._normalize(seg, best[1])

    def _nouns(self, seg: Segment, skip: set[int]) -> list[tuple[int, int]]:
        """(rank, index) of nouns outside prepositional phrases; rank 0 with an article, 1 without."""
        words, texts = seg.words, seg.texts
        out: list[tuple[int, int]] = []
        for k, text in enumerate(texts):
            if k in skip or not text[:1].isupper() or not any(c.isalpha() for c in text):
                continue
            if words[k] in FUNCTION_WORDS or words[k] in self.skip_nouns or (
                    k == 0 and len(words) > 1 and words[1] in PRONOUNS):
                continue
            start = k
            while start > 0 and is_modifier(texts[start - 1]):
                start -= 1
            article = start > 0 and words[start - 1] in DETERMINERS
            start -= article
            if start == 0 or words[start - 1] not in PREPOSITIONS:
                out.append((0 if article else 1, k))
        return out

    def _normalize(self, seg: Segment, k: int) -> str:
        """Base form of the object noun; a light head ("Kopie des Mietvertrags") gives its complement."""
        words, texts = seg.words, seg.texts
        genitive = k > 0 and words[k - 1] in GENITIVE
        if words[k] in self.light and k + 1 < len(words) and words[k + 1] in COMPLEMENT:
            for m in range(k + 2, min(len(words), k + 6)):
                text = texts[m]
                if text[:1].isupper() and words[m] not in FUNCTION_WORDS:
                    return base_form(text, words[k + 1] in GENITIVE or words[m - 1] in GENITIVE)
                if not (words[m] in DETERMINERS or is_modifier(text)):
                    break
        return base_form(texts[k], genitive)


def _result_handed_over(report: Rule, handover: Rule) -> bool:
    """A done or sent report followed by a hand-over: "haben wir bestätigt, die Bestätigung liegt bei"."""
    return str(handover.option("role")) == "handover" and str(report.option("role")) != "handover"
