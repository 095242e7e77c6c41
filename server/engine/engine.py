"""The engine: draft text and sent time in, findings out; paragraphs are cached for fast re-analysis."""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime

from lexicon import Lexicon, load_lexicon
from server.engine.deadlines import DeadlineFinder
from server.engine.deliveries import DeliveryFinder, match_deliveries
from server.engine.jargon import JargonFinder
from server.engine.mail import parse_mail_structure
from server.engine.nlp import Pipeline
from server.engine.promises import PromiseFinder
from server.engine.types import Analysis, Delivery, Jargon, Promise, Region

# Texts beyond this are analysed up to here only; the front-ends say so (a 5 MB paste must not hang).
MAX_ANALYSED_CHARS = 2_000_000
PARAGRAPH_BREAK = re.compile(r"(?:\r\n|\r|\n)[ \t\f\v]*(?:\r\n|\r|\n)")
CACHE_SIZE = 4096
# At most this many uncached paragraphs are analysed as one text: enough for a mail, while lookups that
# scan a whole Doc (phrase matches, deadlines per clause) stay short on a huge paste.
RUN_PARAGRAPHS = 16

@dataclasses.dataclass(frozen=True, slots=True)
class ParagraphFindings:
    """Findings of one paragraph; a finding's offset minus `origin` is its offset in the paragraph."""

    promises: tuple[Promise, ...]
    jargon: tuple[Jargon, ...]
    deliveries: tuple[Delivery, ...]
    # Findings keep the offsets of the text they were found in (several paragraphs analysed as one),
    # so each is moved once, when placed, instead of once into the paragraph and once out of it.
    origin: int = 0


def paragraphs(text: str, region: Region) -> Iterator[tuple[int, str]]:
    """(offset, paragraph text) for the blank-line separated paragraphs of a region."""
    pos = region.start
    chunk = text[region.start:region.end]
    for match in PARAGRAPH_BREAK.finditer(chunk):
        piece = text[pos:region.start + match.start()]
        if piece.strip():
            yield pos, piece
        pos = region.start + match.end()
    piece = text[pos:region.end]
    if piece.strip():
        yield pos, piece


def mask_quote_markers(text: str, region: Region) -> str:
    """The region's text with leading '>' quote markers blanked out, same length (offsets stay valid)."""
    lines = text[region.start:region.end].split("\n")
    out = []
    for line in lines:
        stripped = line.lstrip()
        prefix_len = len(line) - len(stripped)
        while stripped.startswith(">"):
            stripped = stripped[1:]
            prefix_len += 1
        out.append(" " * prefix_len + line[prefix_len:])
    return "\n".join(out)


class Engine:
    """Holds the pipeline and matchers, built once; `analyze` is pure and thread-compatible per call."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon if lexicon is not None else load_lexicon()
        self.nlp = Pipeline(self.lexicon)
        vague = [p for rule in self.lexicon.of_kind("vague") for p in rule.phrases]
        self.deadlines = DeadlineFinder(vague)
        self.jargon_finder = JargonFinder(self.lexicon, self.nlp.nlp)
        self.promise_finder = PromiseFinder(self.lexicon, self.nlp.nlp, self.deadlines)
        self.delivery_finder = DeliveryFinder(self.lexicon, self.nlp.nlp)
        self._cache: OrderedDict[tuple[str, str, bool], ParagraphFindings] = OrderedDict()
        # Findings already moved to their paragraph's offset: paragraphs before an edit keep theirs.
        self._at: dict[tuple[int, int], tuple[ParagraphFindings, ParagraphFindings]] = {}

    def analyze(self, text: str, sent: datetime | None = None) -> Analysis:
        """Find promises, deadlines, jargon and deliveries in the writer's new text."""
        sent = (sent or datetime.now()).replace(second=0, microsecond=0)
        truncated_at = None
        if len(text) > MAX_ANALYSED_CHARS:
            truncated_at = MAX_ANALYSED_CHARS
        mail = parse_mail_structure(text)
        limit = truncated_at if truncated_at is not None else len(text)
        promises: list[Promise] = []
        jargon: list[Jargon] = []
        deliveries: list[Delivery] = []
        for region in mail.new_text:
            if region.start >= limit:
                continue
            items = list(paragraphs(text, Region(region.start, min(region.end, limit))))
            for (offset, _), found in zip(items, self._paragraphs(text, items, sent, quoted=False), strict=True):
                placed = self._placed(found, offset)
                promises += placed.promises
                jargon += placed.jargon
                deliveries += placed.deliveries
        earlier = list(self._quoted_promises(text, mail.quoted, sent, limit))
        return Analysis(
            text=text, sent=sent, mail=mail, promises=tuple(promises), jargon=tuple(jargon),
            deliveries=tuple(match_deliveries(deliveries, earlier)), earlier_promises=tuple(earlier),
            truncated_at=truncated_at,
        )

    def _placed(self, found: ParagraphFindings, offset: int) -> ParagraphFindings:
        """A paragraph's findings at an absolute offset, reused while the paragraph has not moved."""
        hit = self._at.get((id(found), offset))
        if hit is not None and hit[0] is found:  # identity check: ids of evicted entries can be reused
            return hit[1]
        by = offset - found.origin
        if by == 0:
            placed = found
        else:  # `moved` builds positionally: cheap per keystroke
            placed = ParagraphFindings(tuple(p.moved(by) for p in found.promises),
                                       tuple(j.moved(by) for j in found.jargon),
                                       tuple(d.moved(by) for d in found.deliveries))
        if len(self._at) > CACHE_SIZE:
            self._at.clear()
        self._at[(id(found), offset)] = (found, placed)
        return placed

    def fired_rules(self, text: str, sent: datetime | None = None) -> set[str]:
        """Names of every rule that fired anywhere in `text` (used by the lexicon's example tests)."""
        sent = (sent or datetime.now()).replace(second=0, microsecond=0)
        analysis = self.analyze(text, sent)
        fired = {j.rule for j in analysis.jargon} | {d.rule for d in analysis.deliveries}
        for offset, para in paragraphs(text, Region(0, len(text))):
            del offset
            fired |= self.promise_finder.find_traced(self.nlp(para), sent)[1]
            if any(d.vague for d in self.deadlines.find(para, sent)):
                fired |= {r.name for r in self.lexicon.of_kind("vague")}
        return fired

    def _quoted_promises(self, text: str, quoted: Iterable[Region], sent: datetime,
                         limit: int) -> Iterator[Promise]:
        for region in quoted:
            if region.start >= limit:
                continue
            region = Region(region.start, min(region.end, limit))
            masked = mask_quote_markers(text, region)
            items = list(paragraphs(masked, Region(0, len(masked))))
            for (offset, _), found in zip(items, self._paragraphs(masked, items, sent, quoted=True), strict=True):
                for promise in found.promises:
                    yield promise.moved(region.start + offset - found.origin)

    def _paragraphs(self, source: str, items: list[tuple[int, str]], sent: datetime,
                    *, quoted: bool) -> list[ParagraphFindings]:
        """Findings per paragraph: cached ones reused, each run of uncached neighbours analysed as one text.

        A paragraph costs a fixed ~0.3 ms in tokenizer, matcher and finder calls; a mail of ten short
        paragraphs is analysed much faster in one go. Sentences never cross a blank line, so the findings
        split back into paragraphs exactly and are cached per paragraph for the next keystroke.
        """
        stamp = sent.isoformat()
        out: list[ParagraphFindings | None] = []
        for _, para in items:
            hit = self._cache.get((para, stamp, quoted))
            if hit is not None:
                self._cache.move_to_end((para, stamp, quoted))
            out.append(hit)
        n = 0
        while n < len(items):
            if out[n] is not None:
                n += 1
                continue
            end = n
            while end + 1 < len(items) and out[end + 1] is None and end + 1 - n < RUN_PARAGRAPHS:
                end += 1
            for k, found in enumerate(self._run(source, items[n:end + 1], sent, quoted=quoted), n):
                out[k] = found
                self._cache[(items[k][1], stamp, quoted)] = found
            n = end + 1
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return [found for found in out if found is not None]

    def _run(self, source: str, run: list[tuple[int, str]], sent: datetime,
             *, quoted: bool) -> list[ParagraphFindings]:
        """Analyse neighbouring paragraphs as one text and split the findings by paragraph."""
        base = run[0][0]
        doc = self.nlp(source[base:run[-1][0] + len(run[-1][1])])
        starts = [offset - base for offset, _ in run]
        buckets: list[tuple[list[Promise], list[Jargon], list[Delivery]]] = [([], [], []) for _ in run]
        kinds: list[tuple[int, Iterable[Promise | Jargon | Delivery]]] = [
            (0, self.promise_finder.find(doc, sent)),
            (1, () if quoted else self.jargon_finder.find(doc)),
            (2, () if quoted else self.delivery_finder.find(doc)),
        ]
        for kind, findings in kinds:
            for finding in findings:
                k = bisect.bisect_right(starts, finding.start) - 1
                buckets[k][kind].append(finding)  # type: ignore[arg-type]
        return [ParagraphFindings(tuple(p), tuple(j), tuple(d), origin)
                for (p, j, d), origin in zip(buckets, starts, strict=True)]
