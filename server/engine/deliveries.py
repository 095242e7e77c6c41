"""Deliveries: hand-overs and done reports in new text, the promises they keep, the "Wie versprochen" edit."""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    Match,
    Pattern,
    PatternSet,
    Segment,
    compile_pattern,
    option_list,
    pattern_set,
    segments,
)
from server.engine.types import Delivery, Promise, Severity

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

    def __init__(self, lexicon: Lexicon, nlp: Language) -> None:
        self.lexicon = lexicon
        roles: dict[str, list[Rule]] = {}
        for rule in lexicon.of_kind("delivery"):
            roles.setdefault(str(rule.option("role", "")), []).append(rule)
        # Shared blockers and noun lists stay in force even when the hand-over rule itself is disabled.
        base = lexicon.rules.get("Deliveries")
        sent = next(iter(roles.get("sent", [])), None)
        phrased = roles.get("phrased", [])
        self.phrased_rule = phrased[0] if phrased else None
        self.attachments = self._set(roles.get("handover", []), "phrases")
        self.performative = self._set(roles.get("handover", []), "performative")
        self.channel = self._set(roles.get("handover", []), "channel")
        self.confirmations = self._set(roles.get("handover", []), "confirmations")
        self.sending_verbs = self._set(roles.get("handover", []), "sending_verbs")
        self.done = self._set(roles.get("done", []), "phrases")
        self.sent = self._set(roles.get("sent", []), "phrases")
        self.phrased = self._set(phrased, "phrases")
        self.present_verbs = self._set(phrased, "present_verbs")
        block = {key: pattern_set(base, option_list(base, "blockers", key)) for key in (
            "negation", "request", "request_exceptions", "thanks", "hedge", "modal", "general", "future",
            "not_future")}
        self.block = block
        self.conditional = frozenset(option_list(base, "blockers", "conditional"))
        self.question_starts = frozenset(option_list(base, "blockers", "question_starts"))
        self.conditional_after = frozenset(option_list(base, "blockers", "conditional_after"))
        self.light = frozenset(option_list(base, "light_nouns"))
        self.skip_nouns = frozenset(option_list(base, "skip_nouns"))
        self.earlier = pattern_set(sent, option_list(sent, "earlier"))
        self.earlier_weak = frozenset(option_list(sent, "earlier_weak"))
        self.now = frozenset(option_list(sent, "now"))
        self.arrival = frozenset(option_list(sent, "arrival_questions"))
        triggers = (self.attachments, self.channel, self.confirmations, self.performative, self.done, self.sent,
                    self.phrased)
        anchors = [p.anchors() for s in triggers for ps in (*s.by_word.values(), s.other) for p in ps]
        self.anchor_words = frozenset(w for a in anchors for w in a.words)
        self.anchor_prefixes = tuple(p for a in anchors for p in a.prefixes)

    @staticmethod
    def _set(rules: list[Rule], key: str) -> PatternSet:
        """All patterns under `key` ("phrases" or an option) of the given rules."""
        found: list[Pattern] = []
        for rule in rules:
            source = list(rule.phrases) if key == "phrases" else option_list(rule, key)
            found += (compile_pattern(p, rule) for p in source)
        return PatternSet(found)

    def find(self, doc: Doc) -> list[Delivery]:
        """Deliveries in `doc`, offsets relative to `doc.text`."""
        if not any(t.lower_ in self.anchor_words or t.lower_.startswith(self.anchor_prefixes) for t in doc):
            return []
        segs = self._merged(segments(doc))
        found: list[Found] = []
        for n, seg in enumerate(segs):
            hit = self._clause(segs, n)
            if hit is None:
                continue
            prev = found[-1] if found else None
            # Two reports of one kind in a row of the same sentence tell one story ("ist abgeschlossen,
            # alle Dateien sind wieder da").
            if prev and prev.last == n - 1 and segs[prev.last].sentence == seg.sentence and (
                    prev.rule.name == hit.rule.name):
                found[-1] = replace(prev, last=n, phrased=prev.phrased or hit.phrased)
            else:
                found.append(hit)
        return [self._delivery(doc, segs, f) for f in found]

    def _delivery(self, doc: Doc, segs: list[Segment], f: Found) -> Delivery:
        start = segs[f.first].tokens[0].idx
        end_tok = segs[f.last].tokens[-1]
        # A sentence-final period glued to a date ("zum 31.12.2026.") is not part of the clause.
        glued = end_tok.text.count(".") == 3 and end_tok.text[-2:-1].isdigit()
        end = end_tok.idx + len(end_tok.text) - glued
        rule = self.phrased_rule if f.phrased and self.phrased_rule is not None else f.rule
        return Delivery(
            start=start, end=end, text=doc.text[start:end], object=f.obj, phrased=f.phrased,
            rule=rule.name, message=rule.message, reason=rule.reason,
            severity=Severity(self.lexicon.severity(rule, "information")))

    def _merged(self, segs: list[Segment]) -> list[Segment]:
        """Segments with a leading "Wie versprochen," / "Anbei," / "Hier," joined to the clause after it."""
        out: list[Segment] = []
        for seg in segs:
            if out and out[-1].sentence == seg.sentence and self._only_marker(out[-1]):
                head = out.pop()
                seg = Segment(head.tokens + seg.tokens, seg.sentence, seg.quoted, seg.question,
                              head.words + seg.words)
            out.append(seg)
        return out

    def _only_marker(self, seg: Segment) -> bool:
        if seg.words == ["hier"]:
            return True
        covered: set[int] = set()
        for pset in (self.phrased, self.attachments, self.channel):
            for m in pset.find(seg.words):
                covered.update(range(m.start, m.end))
        return len(covered) == len(seg.words)

    def _clause(self, segs: list[Segment], n: int) -> Found | None:
        """The delivery that clause n makes, if any."""
        seg = segs[n]
        words = seg.words
        if seg.quoted or not any(w in self.anchor_words or w.startswith(self.anchor_prefixes) for w in words):
            return None
        # Words of a "wie versprochen" marker take no other part (its "vereinbart" is no done report).
        free = list(words)
        phrased = False
        for m in self.phrased.find(words):
            free[m.start:m.end] = [""] * (m.end - m.start)
            phrased = True
        # "kann abgeholt werden" is a passive infinitive, not the future tense.
        free = ["" if w == "werden" and k and _participle(free[k - 1]) else w for k, w in enumerate(free)]
        prev = segs[n - 1] if n and segs[n - 1].sentence == seg.sentence else None
        last = n + 1 == len(segs) or segs[n + 1].sentence != seg.sentence
        if self._blocked(seg, free, prev, last):
            return None
        trigger = self._trigger(segs, n, free, phrased)
        if trigger is None:
            return None
        rule, markers = trigger
        skip = markers | {k for k, w in enumerate(free) if not w}
        obj, first = self._object(seg, skip, free), n
        if obj is None and prev is not None:
            obj, first = self._object(prev, set(), prev.words), n - 1
        return Found(rule, phrased, obj, first, n) if obj else None

    def _blocked(self, seg: Segment, free: list[str], prev: Segment | None, last: bool) -> bool:
        """Negations, requests, questions, conditions, hedges and general statements are no deliveries."""
        block = self.block
        opener = next((w for w in free if w), "")
        if opener in self.conditional or (seg.question and (last or opener in self.question_starts)):
            return True
        if any(block[k].first(free) for k in ("negation", "hedge", "modal", "general")):
            return True
        if block["request"].first(free) and not block["request_exceptions"].first(free):
            return True
        # A "dass" clause says what its main clause says: "Ich hoffe, dass die Reparatur erledigt ist."
        return opener == "dass" and prev is not None and (
            (bool(prev.words) and prev.words[0] in self.conditional)
            or any(block[k].first(prev.words) for k in ("negation", "hedge", "modal", "request")))

    def _is_future(self, free: list[str]) -> bool:
        """Whether a time word points ahead ("morgen", "bis Freitag"; not "heute Morgen")."""
        words = list(free)
        for m in self.block["not_future"].find(free):
            words[m.start:m.end] = [""] * (m.end - m.start)
        return self.block["future"].first(words) is not None

    def _trigger(self, segs: list[Segment], n: int, free: list[str],
                 phrased: bool) -> tuple[Rule, set[int]] | None:
        """The rule that makes clause n a delivery and the positions of its marker words."""
        seg = segs[n]
        tense = "past" if any(w in PAST_AUX for w in free) else (
            "present" if any(w in PRESENT_AUX for w in free) else None)
        future = tense != "past" and self._is_future(free)
        # "Wie besprochen, hier die …": a leading marker does not count for "^hier".
        lead = next((k for k, w in enumerate(free) if w), len(free))
        # Receipts and thanks ("Danke für die Fotos im Anhang") undo attachment markers only.
        theirs = self.block["thanks"].first(free) is not None
        promised = future and self.sending_verbs.first(free) is not None
        for pset, blocked in ((self.confirmations, False), (self.attachments, theirs),
                              (self.channel, theirs or promised), (self.performative, future)):
            for m in pset.find(seg.words[lead:]):
                if m.pattern.rule and not blocked and self._hier_ok(seg, lead, m):
                    return m.pattern.rule, {lead + k for k in m.positions}
        perfect = any(w in PERFECT_AUX for w in free)
        customer = perfect and not any(w in FIRST_PERSON for w in free) and any(
            t.text in SECOND_PERSON for t in seg.tokens)
        nxt = segs[n + 1] if n + 1 < len(segs) and segs[n + 1].sentence == seg.sentence else None
        waits = nxt is not None and nxt.words[0] in self.conditional_after
        for pset, sent in ((self.sent, True), (self.done, False)):
            for m in pset.find(free):
                if m.pattern.rule is None or (len(m.positions) == 1 and tense is None) or future or customer or waits:
                    continue
                if sent and self._earlier(segs, n, free, perfect):
                    continue
                return m.pattern.rule, set(m.positions)
        if phrased and self.phrased_rule is not None and not future:
            verb = self.present_verbs.first(free)
            perfect_like = tense and not customer and any(
                _participle(w) for w in free if w not in FUNCTION_WORDS)
            if verb or perfect_like:
                return self.phrased_rule, set(verb.positions) if verb else set()
        return None

    def _hier_ok(self, seg: Segment, lead: int, m: Match) -> bool:
        """ "Hier ist/die …" hands over a thing, not "Hier ist uns ein Fehler unterlaufen"."""
        if not m.pattern.source.startswith("^hier"):
            return True
        after = seg.words[lead + 2] if lead + 2 < len(seg.words) else ""
        tail = seg.tokens[-1].text
        verb_tail = tail[:1].islower() and tail.lower() not in FUNCTION_WORDS and tail.endswith(("t", "en"))
        return after not in PRONOUNS and not verb_tail

    def _earlier(self, segs: list[Segment], n: int, free: list[str], perfect: bool) -> bool:
        """Whether a sending is one the text refers back to ("gestern geschickt – angekommen?")."""
        seg = segs[n]
        if seg.question or self.earlier.first(free):
            return True
        if perfect and any(w in self.earlier_weak for w in free) and not any(w in self.now for w in free):
            return True
        following = [s for s in segs[n + 1:] if s.sentence == seg.sentence + 1]
        return any(s.question and self.arrival.intersection(s.words) for s in following)

    def _object(self, seg: Segment, skip: set[int], free: list[str]) -> str | None:
        """The delivered thing: the first noun outside a prepositional phrase, one with an article first.

        In the active perfect the thing is the accusative object: "Unser Techniker hat die Störung
        behoben" delivers "Störung", "Die Kaution haben wir überwiesen" delivers "Kaution".
        """
        aux = next((k for k, w in enumerate(free) if w in PERFECT_AUX), None)
        after = aux + 1 if aux is not None and aux + 1 < len(free) and free[aux + 1] not in PRONOUNS else 0
        nouns = self._nouns(seg, skip)
        best = min(nouns, key=lambda c: (c[1] < after, c[0], c[1]), default=None)
        return None if best is None else self._normalize(seg, best[1])

    def _nouns(self, seg: Segment, skip: set[int]) -> list[tuple[int, int]]:
        """(rank, index) of nouns outside prepositional phrases; rank 0 with an article, 1 without."""
        words, tokens = seg.words, seg.tokens
        out: list[tuple[int, int]] = []
        for k, tok in enumerate(tokens):
            text = tok.text
            if k in skip or not text[:1].isupper() or not any(c.isalpha() for c in text):
                continue
            if words[k] in FUNCTION_WORDS or words[k] in self.skip_nouns or (
                    k == 0 and len(words) > 1 and words[1] in PRONOUNS):
                continue
            start = k
            while start > 0 and _modifier(tokens[start - 1].text):
                start -= 1
            article = start > 0 and words[start - 1] in DETERMINERS
            start -= article
            if start == 0 or words[start - 1] not in PREPOSITIONS:
                out.append((0 if article else 1, k))
        return out

    def _normalize(self, seg: Segment, k: int) -> str:
        """Base form of the object noun; a light head ("Kopie des Mietvertrags") gives its complement."""
        words, tokens = seg.words, seg.tokens
        genitive = k > 0 and words[k - 1] in GENITIVE
        if words[k] in self.light and k + 1 < len(words) and words[k + 1] in COMPLEMENT:
            for m in range(k + 2, min(len(words), k + 6)):
                text = tokens[m].text
                if text[:1].isupper() and words[m] not in FUNCTION_WORDS:
                    return _base(text, words[k + 1] in GENITIVE or words[m - 1] in GENITIVE)
                if not (words[m] in DETERMINERS or _modifier(text)):
                    break
        return _base(tokens[k].text, genitive)


INSEPARABLE = ("be", "emp", "ent", "er", "ge", "miss", "ver", "zer", "über")


def _modifier(text: str) -> bool:
    """An adjective or number before a noun ("neuen", "angepasste", "42")."""
    return (text[:1].islower() and text.isalpha() and text.lower() not in FUNCTION_WORDS) or text.isdigit()


def _participle(word: str) -> bool:
    """Looks like a past participle ("geprüft", "aktualisiert", "verschoben")."""
    return len(word) > 4 and word.isalpha() and (word.endswith("iert") or (
        word.endswith(("t", "en")) and ("ge" in word[:6] or word.startswith(INSEPARABLE))))


def _base(noun: str, genitive: bool) -> str:
    """Nominative of a noun after a genitive article ("des Mietvertrags" -> "Mietvertrag")."""
    noun = noun.strip(".,;:!?\"'“”„»«()")
    if not genitive or len(noun) < 5:
        return noun
    if noun.endswith("es") and noun[-3] not in "aeiouäöü" and len(noun) > 5:
        return noun[:-2]
    return noun[:-1] if noun.endswith("s") else noun


NOUN = re.compile(r"[A-ZÄÖÜ][\wäöüß]*(?:-[\wäöüßÄÖÜ]+)*")


def _stem(word: str) -> str:
    """A crude stem so inflected forms compare equal ("Rechnungen" ~ "Rechnung", "Angebots" ~ "Angebot")."""
    word = word.casefold()
    for suffix in ("en", "es", "e", "n", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def same_thing(a: str, b: str) -> bool:
    """Whether two nouns name the same thing, compounds included ("Mietvertragskopie" ~ "Mietvertrag")."""
    a, b = _stem(a), _stem(b)
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    # A compound shares its head ("Nachtragsangebot" ~ "Angebot") or its first part ("Mietvertragskopie").
    compound = long.startswith(short) or long.endswith(short)
    return compound and len(short) >= 5 and len(long) - len(short) >= 3


def promise_nouns(promise: Promise) -> list[str]:
    """The nouns a promise names: its object's, else those of its text."""
    source = promise.object or promise.text
    nouns = [m.group() for m in NOUN.finditer(source) if m.group().casefold() not in FUNCTION_WORDS]
    if not nouns and promise.object:
        nouns = promise.object.split()
    return nouns


def match_deliveries(deliveries: Iterable[Delivery], promises: Iterable[Promise]) -> list[Delivery]:
    """Deliveries with `matches` set to the earlier promise that names the same object."""
    candidates = [(p, promise_nouns(p)) for p in promises]
    out: list[Delivery] = []
    for delivery in deliveries:
        if delivery.matches is None and delivery.object:
            target = delivery.object
            exact = [p for p, nouns in candidates if any(_stem(n) == _stem(target) for n in nouns)]
            close = exact or [p for p, nouns in candidates if any(same_thing(n, target) for n in nouns)]
            if close:
                delivery = replace(delivery, matches=close[0])
        out.append(delivery)
    return out


FRONTED = re.compile(r"(anbei|hiermit|anliegend|beiliegend|beigefügt|im anhang|in der anlage|als anlage)\s+",
                     re.IGNORECASE)
HIER_VERB = re.compile(r"hier\s+(?:ist|sind|kommt|kommen)\s+", re.IGNORECASE)
PRONOUN_RUN = re.compile(r"(?:\s+(?:Sie|ich|wir|Ihnen|dir|euch|du|ihr|uns|mir))+")
SUBJECT_FIRST = re.compile(r"(ich|wir)\s+(\w+)\s+", re.IGNORECASE)
FINITE = re.compile(r"\b(ist|sind|wurde|wurden|haben|habe|hat|hab|liegt|liegen|erhalten|finden|bestätigen|"
                    r"übersenden|senden|schicken|konnten|konnte)\b")


def wie_versprochen_rewrite(text: str, delivery: Delivery) -> tuple[int, int, str] | None:
    """The edit (start, end, replacement) that makes the delivery clause say "Wie versprochen, …"."""
    start, end = delivery.start, delivery.end
    if delivery.phrased or not 0 <= start < end <= len(text) or text[start:end] != delivery.text:
        return None
    clause = delivery.text
    before = text[:start].rstrip()
    at_start = not before or before[-1] in ".!?" or (before[-1] == "," and "\n" in text[len(before):start])
    if not at_start:
        # Inside a sentence: "…, die Zahlung ist wie versprochen bereits angewiesen".
        verb = FINITE.search(clause)
        return (start, end, f"{clause[:verb.end()]} wie versprochen{clause[verb.end():]}") if verb else None
    wie = "Wie" if clause[:1].isupper() else "wie"
    if m := HIER_VERB.match(clause):
        return start, end, f"{wie} versprochen, hier {clause[m.end():]}"
    if m := FRONTED.match(clause):
        marker, rest = m.group(1).lower(), clause[m.end():]
        verb = re.match(r"([a-zäöüß]+)", rest)
        if verb and verb.group(1) not in DETERMINERS and not rest[:1].isupper():
            pronouns = PRONOUN_RUN.match(rest, verb.end())
            cut = pronouns.end() if pronouns else verb.end()
            return start, end, f"{wie} versprochen, {rest[:cut]} {marker} {rest[cut:].lstrip()}".rstrip()
        return start, end, f"{wie} versprochen, {marker} {rest}"
    if clause[:4].lower() == "hier":
        return start, end, f"{wie} versprochen, hier{clause[4:]}"
    if m := SUBJECT_FIRST.match(clause):
        return start, end, f"{wie} versprochen, {m.group(2)} {m.group(1).lower()} {clause[m.end():]}"
    return start, end, f"{wie} versprochen: {clause[:1].upper()}{clause[1:]}"
