"""The regular grammar of German deadline phrases: word lists, anchors and the context around them.

Speed matters (the finder runs per paragraph while a user types), hence three habits:
- case-insensitive patterns run on the lowercased text (`lower_same_length`) without `re.IGNORECASE`,
  which makes Python's regex engine several times slower; only the few patterns that need case
  (nouns, "Fr." for Freitag) run on the original text;
- word lists are prefix-factored (`alternation`) so a position costs a few character tests;
- anchors are tried only at trigger words and the leading words before them, and only the kinds that
  can start with that word (`ANCHORS_BY_FIRST`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time

from server.engine.calendar_de import DAY_NAMES

WEEKDAYS = {n.lower(): i for i, n in enumerate(DAY_NAMES)} | {"sonnabend": 5} | {
    n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
WEEKDAY_ABBR = {"mo": 0, "di": 1, "mi": 2, "do": 3, "fr": 4, "sa": 5, "so": 6}
MONTHS = {"januar": 1, "jänner": 1, "jan": 1, "februar": 2, "feber": 2, "feb": 2, "märz": 3, "maerz": 3,
          "mär": 3, "mrz": 3, "april": 4, "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
          "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10,
          "november": 11, "nov": 11, "dezember": 12, "dez": 12}
MONTH_ABBR = ("jan", "feb", "mär", "mrz", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "dez")
_UNITS = ("ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
_TENS = ("zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig")
HOUR_WORDS = ("ein", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf",
              "zwölf")
NUMBERS: dict[str, float] = {w: 1 for w in ("ein", "eins", "eine", "einer", "einem", "einen", "eines")} | {
    w: i + 2 for i, w in enumerate((*HOUR_WORDS[2:], "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"))} | {
    t: 20 + 10 * i for i, t in enumerate(_TENS)} | {
    f"{u}und{t}": 21 + 10 * i + j for i, t in enumerate(_TENS) for j, u in enumerate(_UNITS)} | {
    "anderthalb": 1.5, "eineinhalb": 1.5, "zweieinhalb": 2.5, "dreieinhalb": 3.5, "hundert": 100}
MODS = tuple(f"{stem}{end}" for stem in ("übernächst", "nächst", "kommend", "dies", "laufend", "aktuell",
                                         "folgend") for end in ("e", "en", "em", "er", "es"))
PAST_MODS = tuple(f"{stem}{end}" for stem in ("letzt", "vergangen", "vorig") for end in ("e", "en", "em", "er", "es"))
DAY_PARTS = ("vormittag", "nachmittag", "abend", "morgen", "mittag", "früh")
REL_WORDS = ("heute", "morgen", "übermorgen", "tomorrow", "today", "tonight", "tmrw", "sofort")
CMP_WORDS = ("wochenende", "wochenmitte", "wochenanfang", "wochenbeginn", "monatsende", "monatsanfang",
             "monatsbeginn", "monatsmitte", "monatsletzten", "monatsersten", "ultimo", "jahresende", "jahresanfang",
             "jahresbeginn", "jahresmitte", "jahreswechsel", "quartalsende", "quartalsanfang", "quartalsbeginn",
             "tagesende", "feierabend", "dienstschluss", "geschäftsschluss", "büroschluss", "arbeitsschluss",
             "eod", "cob", "eob", "eow", "end of day", "end of the day", "end of week", "end of the week",
             "end of month", "end of the month", "this week", "next week")
HOLIDAYS = ("weihnachten", "heiligabend", "heiligen abend", "silvester", "neujahr", "ostern", "pfingsten",
            "nikolaus", "zwischen den jahren")
POSITIONS = ("anfang", "beginn", "mitte", "ende")
# Which hour a bare "um 3" means in business mail (afternoon), unless a morning word says otherwise.
AFTERNOON_HOURS = range(1, 7)
MORNING = ("morgens", "früh", "vormittags", "in der früh")


def alternation(words: Iterable[str]) -> str:
    """A regex matching any of the (lowercase) words, factored by common prefixes (a trie).

    The regex engine tries alternatives one by one; sharing prefixes cuts a 110-word list to a few
    character tests. Longer words win (greedy); a space matches any whitespace.
    """
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = trie
        for ch in word.lower():
            node = node.setdefault(ch, {})
        node[""] = {}
    return _from_trie(trie) or "(?!)"


def _from_trie(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    alts = [(r"\s+" if ch == " " else re.escape(ch)) + _from_trie(child) for ch, child in sorted(node.items()) if ch]
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return f"(?:{body})?" if "" in node else body


def lower_same_length(text: str) -> str:
    """`text` lowercased with every offset kept (a few characters, like "İ", grow when lowercased)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


MOD = alternation(MODS)
NUM = rf"(?:\d{{1,3}}(?:,5)?|{alternation(NUMBERS)})"
UNIT = (r"(?:minuten?|min\.?|stunden?|std\.?|h|werktage?n?|arbeitstage?n?|geschäftstage?n?|tage?n?|tages"
        r"|wochen?|monate?n?|monats|jahre?n?|jahres)")
WD = alternation(WEEKDAYS)
# Full month names never take the period (it ends the sentence); abbreviations may ("3. Dez.").
MON = rf"(?:{alternation(w for w in MONTHS if w not in MONTH_ABBR)}|{alternation(MONTH_ABBR)}\.?)"
DNUM = r"(?<![\w.,/:+-])(?<!\d )"  # a number that starts a token (no part of 1.234,56, 2.1, ID.4, +49 ...)
DAY = r"(?:0?[1-9]|[12]\d|3[01])"
MONTH = r"(?:0?[1-9]|1[0-2])"
DATE = rf"{DNUM}(?P<dd>{DAY})\.\s?(?P<mm>{MONTH})\.(?:(?P<yy>(?:19|20)?\d\d)(?!\d|[.,:]\d))?(?!\d)(?!\s*uhr)"
DATEM = rf"{DNUM}(?P<md>{DAY})\.?\s*(?P<mon>{MON})(?:\s+(?P<my>20\d\d))?(?![\w])"
CLOCK = (rf"{DNUM}(?:(?P<ch>[01]?\d|2[0-4])(?:[:.](?P<cm>[0-5]\d))?\s*uhr(?:\s+(?P<cm2>[0-5]\d)(?!\d))?"
         rf"|(?P<ch2>[01]?\d|2[0-3]):(?P<cm3>[0-5]\d)(?!\d|[.,:]\d)(?:\s*uhr)?|(?P<chw>{alternation(HOUR_WORDS)})"
         rf"\s+uhr|halb\s+(?P<chh>{alternation(HOUR_WORDS)}|[01]?\d)(?!\d|[.,:]\d))"
         r"(?:\s+(?P<cdp>morgens|früh|vormittags|mittags|nachmittags|abends|in\s+der\s+früh))?")
WINDOW = (rf"{DNUM}(?:(?:zwischen|von)\s+)?(?:[01]?\d|2[0-4])(?:[:.][0-5]\d)?(?:\s*uhr)?\s*(?:und|bis|-|–)\s*"
          r"(?:[01]?\d|2[0-4])(?:(?:[:.][0-5]\d)?\s*uhr|:[0-5]\d)")
_ADJ = r"[a-zäöüß]+(?:e|en|er|es|em)"  # an adjective or determiner before the event's noun
EVENT = (r"\s+(?i:nach|ab|vor)\s+(?:(?i:der|des|dem|den|die|das|ein\w*|ihre[mnrs]?|unsere[mnrs]?|aller|allen"
         rf"|sämtliche[nmr]?|dies\w*)\s+|{_ADJ}\s+){{0,3}}[A-ZÄÖÜ][\w-]*(?:\s+(?i:des|der|aller|eines|einer|ihres"
         rf"|ihrer|unseres|unserer|dieses|dieser|von|zur|zum)\s+(?:{_ADJ}\s+){{0,2}}[A-ZÄÖÜ][\w-]*)?")

# (kind, pattern, words it can start with; "#" = a number). Tried in this order at one position.
# Patterns run on the lowercased text unless the kind is in CASED_KINDS.
_ANCHORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("WINDOW", WINDOW, ("#", "zwischen", "von")),
    ("DUR", rf"(?P<dp>(?:innerhalb(?:\s+von|\s+der\s+(?:nächsten|kommenden))?|binnen|innert"
            rf"|in(?:\s+den\s+(?:nächsten|kommenden))?|im\s+laufe\s+der\s+(?:nächsten|kommenden))\s+"
            rf"(?:(?:ca\.|circa|etwa|rund|gut|knapp|maximal|max\.|höchstens|spätestens)\s+)?)?"
            rf"{DNUM}(?P<dn>{NUM}(?:\s*(?:-|–|bis|oder)\s*{NUM})?)(?P<half>\s+halben)?\s*(?P<du>{UNIT})(?![\w])"
            # without "in"/"innerhalb" only an event makes it a deadline ("14 Tage nach Eingang"), not "3 Tage"
            r"(?(dp)|(?=\s+(?:nach|ab|vor)\s))",
     ("#", *NUMBERS, "innerhalb", "binnen", "innert", "in", "im")),
    ("DATE", DATE, ("#",)),
    ("DATEM", DATEM, ("#",)),
    # "bis 30.11" without the final period: only after a deadline word, else it is a version or an amount
    ("DATEB", rf"(?:(?<=bis )|(?<=am )|(?<=zum )|(?<=ab )|(?<=für )|(?<=vor )){DNUM}(?P<bd>{DAY})\.(?P<bm>{MONTH})"
              r"(?!\d|[.,]\d|\s*(?:uhr|%|€|eur|h\b|kg|cm|mm|m\b|l\b|std))",
     ("#",)),
    ("ISO", r"(?<![\w.-])(?P<iy>20\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d)(?!\d)", ("#",)),
    ("DAYONLY", rf"(?i:am|zum|den|bis\s+zum|ab\s+dem|vor\s+dem)\s+(?P<do>{DAY})\."
                r"(?=\s*$|\s*[,;:!?)\n]|\s+[a-zäöüß])", ("am", "zum", "den", "bis", "ab", "vor")),
    ("CLOCK", CLOCK, ("#", *HOUR_WORDS, "halb")),
    ("BARE", r"(?P<bp>(?i:um|gegen|bis))\s+(?P<bh>[01]?\d|2[0-3])"
             r"(?=\s*$|\s*[,;!?)]|\.(?!\d)|\s+(?!(?i:uhr))[a-zäöüß])", ("um", "gegen", "bis")),
    ("KW", r"(?:(?P<kpos>anfang|mitte|ende)\s+(?:der\s+)?)?(?:(?:kw|kalenderwoche)\s*(?P<kw>\d{1,2})"
           r"|(?P<kw2>\d{1,2})\.\s*(?:kw|kalenderwoche))(?:\s*[/']\s*(?P<kwy>(?:20)?\d\d)|\s+(?P<kwy2>20\d\d))?(?![\w])",
     ("#", "anfang", "mitte", "ende", "kw", "kalenderwoche")),
    ("QUARTER", r"(?:(?P<qpos>anfang|mitte|ende)\s+)?(?:(?:des|im|zum)\s+)?(?:q(?P<q1>[1-4])|(?P<q2>ersten"
                r"|zweiten|dritten|vierten|[1-4]\.)\s+quartals?)(?:\s*[/']?\s*(?P<qy>(?:20)?\d\d)(?!\d))?(?![\w])",
     ("#", "anfang", "mitte", "ende", "des", "im", "zum", "q1", "q2", "q3", "q4", "ersten", "zweiten", "dritten",
      "vierten")),
    ("PERIOD", rf"(?:(?P<ppos>anfang|beginn|mitte|ende|laufe?)\s+)?(?P<pmods>(?:(?:der|des|dem|im|in|{MOD})\s+)*)"
               r"(?P<per>woche|monats?|jahr(?:es)?|quartals?)(?![\w])",
     (*POSITIONS, "laufe", "lauf", "der", "des", "dem", "im", "in", *MODS)),
    ("MONTHP", rf"(?:(?P<mpos>anfang|beginn|mitte|ende|laufe\s+des)\s+)?(?P<mname>{MON})(?:\s+(?P<myr>20\d\d))?"
               r"(?![\w])", (*POSITIONS, "laufe", *MONTHS)),
    ("YEAR", r"(?P<ypos>anfang|beginn|mitte|ende)\s+(?P<yr>20\d\d)(?!\d)", POSITIONS),
    ("CMP", rf"(?:(?P<cmod>{MOD})\s+)?(?P<cmp>{alternation(CMP_WORDS)})(?![\w-])",
     (*MODS, *(w.split()[0] for w in CMP_WORDS))),
    ("HOL", rf"(?P<hol>{alternation(HOLIDAYS)})(?:\s+(?P<hy>20\d\d))?(?![\w])", tuple(w.split()[0] for w in HOLIDAYS)),
    ("NEXTDAY", r"(?:(?:nächsten|folgenden|darauffolgenden|kommenden)\s+(?P<nd>werk|arbeits|geschäfts)?tag"
                r"|folgetag|tags\s+darauf)(?![\w])",
     ("nächsten", "folgenden", "darauffolgenden", "kommenden", "folgetag", "tags")),
    ("ADJ", rf"(?:laufe\s+des\s+)?(?P<adj>heutig|morgig|übermorgig)e[nmrs]?\s+(?:tag(?:es)?|vormittags?|nachmittags?"
            rf"|abends?|{WD})(?![\w])",
     ("laufe", *(f"{a}ig{e}" for a in ("heut", "morg", "übermorg") for e in ("e", "en", "em", "er", "es")))),
    ("DPART", r"(?:mittag|nachmittag|vormittag|abend|laufe\s+des\s+(?:tages|vormittags|nachmittags))(?![\w])",
     ("mittag", "nachmittag", "vormittag", "abend", "laufe")),
    ("WDAY", rf"(?:(?P<wmod>{alternation(MODS + PAST_MODS)})\s+)?(?P<wd>{WD})(?P<wdp>{alternation(DAY_PARTS)})?"
             r"(?![\w])", (*MODS, *PAST_MODS, *WEEKDAYS, *(w + p for w in WEEKDAYS for p in DAY_PARTS))),
    ("WABBR", rf"(?P<wab>Mo|Di|Mi|Do|Fr|Sa|So)(?=\.?,?\s*{DAY}\.{MONTH}\.)", tuple(WEEKDAY_ABBR)),
    ("REL", rf"(?P<rel>{alternation(REL_WORDS)})(?![\w])", REL_WORDS),
)
CASED_KINDS = frozenset({"DAYONLY", "BARE", "WABBR"})
ANCHORS = {kind: re.compile(rf"(?P<{kind}>{pattern})") for kind, pattern, _ in _ANCHORS}
ANCHORS_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _kind, _, _firsts in _ANCHORS:
    for _word in _firsts:
        ANCHORS_BY_FIRST[_word] = (*ANCHORS_BY_FIRST.get(_word, ()), _kind)

# The pre-scan finds trigger words (every anchor holds one) and then looks back over leading words.
TOKEN = re.compile(r"\w+")
TRIGGERS = frozenset(
    {*WEEKDAYS, *(w + p for w in WEEKDAYS for p in DAY_PARTS), *MONTHS, "uhr", "halb",
     *(f"{a}ig{e}" for a in ("heut", "morg", "übermorg") for e in ("e", "en", "em", "er", "es")), "minute", "minuten", "min", "stunde", "stunden", "std", "h", "tag", "tage",
     "tagen", "tages", "tags", "woche", "wochen", "monat", "monate", "monaten", "monats", "jahr", "jahre",
     "jahren", "jahres", "kw", "kalenderwoche", "q1", "q2", "q3", "q4", "quartal", "quartals", "folgetag",
     *(f"{k}{u}" for k in ("werk", "arbeits", "geschäfts") for u in ("tag", "tage", "tagen")),
     *(w.split()[-1] for w in CMP_WORDS), *(w.split()[0] for w in CMP_WORDS), *(w.split()[-1] for w in HOLIDAYS),
     "mittag", "nachmittag", "vormittag", "abend", "vormittags", "nachmittags"})
SELF_TRIGGERS = frozenset({*WEEKDAY_ABBR, *REL_WORDS})
# Which number anchors can start at a number, by the character after its digits.
NUMBER_KINDS = {".": ("DATE", "DATEM", "DATEB", "CLOCK", "KW", "QUARTER", "WINDOW"), ":": ("WINDOW", "CLOCK"),
                "-": ("WINDOW", "ISO", "DUR"), "–": ("WINDOW", "DUR"), ",": ("DUR",),
                " ": ("WINDOW", "DUR", "DATEM", "CLOCK"), "a": ("DUR", "CLOCK", "DATEM")}
GLUED_BEFORE = frozenset(".,/:+-")  # "1.234,56", "2026-0815", "+49": no number token of its own
LEADERS = frozenset(
    {*MODS, *PAST_MODS, *NUMBERS, "innerhalb", "binnen", "innert", "in", "im", "von", "der", "den", "dem", "des",
     "zwischen", "am", "zum", "bis", "ab", "vor", "um", "gegen", *POSITIONS, "laufe", "lauf", "ca", "circa",
     "etwa", "rund", "gut", "knapp", "maximal", "max", "höchstens", "spätestens", "halben", "ersten", "zweiten",
     "dritten", "vierten", "darauffolgenden", "the", "this", "next", "of", "end", "heiligen"})
MAX_LEAD = 6  # "innerhalb von ca. zwei bis drei Wochen"

# Context around an anchor, all on the lowercased text unless noted.
# The words before an anchor that belong to the phrase, read right to left:
# [ADVERB] [PREPOSITION [ARTICLE]] [LATE_ADVERB] anchor — "spätestens bis zum", "bis spätestens", "noch".
ADVERBS = frozenset({"noch", "schon", "bereits", "erst", "gleich", "direkt", "frühestens", "spätestens",
                     "allerspätestens"})
PREPOSITIONS = frozenset({"bis", "ab", "für", "zum", "zur", "am", "an", "um", "gegen", "in", "im", "vor", "seit",
                          "vom", "von", "nach", "über", "übers", "per", "zu", "by", "on", "until", "till", "auf"})
ARTICLES = frozenset({"zum", "zur", "dem", "den", "der", "das", "spätestens", "einschließlich", "inklusive",
                      "kommenden"})
LATE_ADVERBS = frozenset({"spätestens", "noch", "erst", "ca", "circa", "etwa"})
# A word right before the phrase that makes it a reference, a habit or a number of something else.
BLOCKERS = frozenset({"wie", "auch", "seit", *PAST_MODS, "jede", "jeden", "jedem", "jeder", "jedes", "immer",
                      "stand", "je", "pro", "guten", "gute", "guter", "gutem", "schönen", "nr", "ziffer", "abschnitt",
                      "kapitel", "punkt", "seite", "version", "artikel", "art", "abs", "pos", "position", "anlage"})
APPOS = re.compile(rf"\.?(?:\s*,\s*|\s+)(?:(?:den|dem)\s+)?\(?(?:{DATE}|{DATEM})\)?")
WEEK_OF = re.compile(rf"\s+(?:in\s+der\s+|der\s+)?(?P<m>{MOD})\s+woche(?![\w])")
LATER = re.compile(rf"\s+in\s+(?P<n>{NUM})\s+(?P<u>wochen?|tage?n?)(?![\w])")
DAYPART = re.compile(r"(?:\s+|-)(?:(?:gegen|am|bis|zum)\s+)?(?P<p>früh|morgen|vormittags?|nachmittags?|abends?"
                     r"|mittags?|in\s+der\s+früh)(?![\w])")
AT_CLOCK = re.compile(rf"\s*,?\s*(?:bis\s+)?(?:spätestens\s+)?(?:(?:um|ab|bis|gegen|zwischen|von)\s+)?"
                      rf"(?:(?P<win>{WINDOW})|{CLOCK}|(?<=um\s)(?P<xh>[01]?\d|2[0-3])(?!\d|[.,:]\d))")
TAIL = re.compile(r"\s+(?:noch|eod|cob|eob|end\s+of\s+day|im\s+laufe\s+des\s+(?:tages|vormittags|nachmittags)"
                  r"|bis\s+(?:feierabend|dienstschluss|geschäftsschluss|büroschluss|tagesende))(?![\w])")
OR_DAY = re.compile(rf"\s*,?\s+(?:oder|bzw\.?|(?:aber\s+)?(?:aller)?spätestens(?:\s+aber)?)\s+(?:(?:am|bis)\s+)?"
                    rf"(?:(?P<rel>übermorgen|morgen)|(?P<wd>{WD}))(?![\w])")
IN_WEEK = re.compile(rf"\s*,?\s*(?:am\s+)?(?P<wd>{WD})(?![\w])")
WD_RANGE = re.compile(rf"\s*(?:bis|-|–)\s*(?:{WD})(?![\w])")
EVENT_AFTER = re.compile(EVENT)  # original text: the event is a noun phrase
SOFORT_EVENT = re.compile(r"\s*,?\s*(?:nachdem|sobald|wenn|nach)(?![\w])")
EVENT_BEFORE = re.compile(r"(?:(?<![\w])(?i:nach|ab|bei)\s+(?:[\w-]+\s+){0,3}[A-ZÄÖÜ][\w-]*\s+"  # original text
                          r"|(?<![\w])(?i:dann|danach|anschließend|daraufhin)\s+(?:\w+\s+)?)$")
CLAUSE_EVENT = re.compile(r"(?<![\w])(?:sobald|nachdem|sowie|wenn|falls|sofern|dann|danach|anschließend"
                          r"|daraufhin)(?![\w])")
GENERAL = re.compile(
    r"(?<![\w])(?:in\s+der\s+regel|normalerweise|üblicherweise|grundsätzlich|generell|stets|immer|jederzeit"
    r"|jeweils|täglich|werktags|wochentags|rund\s+um\s+die\s+uhr|notdienst\w*|notf[aä]ll\w*|störung\w*|hotline"
    r"|servicezeit\w*|reaktionszeit\w*|bereitschaft\w*|jede[nmrs]?(?!\s+fall)|anfragen|bestellungen|aufträge"
    r"|reklamationen|lieferzeit\w*|bearbeitungszeit\w*|erreichbar|geöffnet|besetzt|öffnungszeit\w*"
    r"|sprechzeit\w*|sprechstunde\w*)(?![\w])|24/7")
STILL_NOT = re.compile(r"\s+(?:noch\s+nicht|nicht|kein\w*|nichts|ist|sind|hat|haben|habe|hatte|hatten|wurde"
                       r"|wurden|liegt|liegen|fehlt|fehlen|gibt|warte|warten|war|waren)(?![\w])")
NOT_CLOCK = re.compile(r"\s+(?:erhöht|gestiegen|gesunken|reduziert|gesenkt|verringert|verlängert|verschoben"
                       r"|gekürzt|mehr|weniger|erweitert|angehoben|prozent)(?![\w])")
MORGEN_NOUN = re.compile(r"(?:den|dem|des|einen|diesen|frühen|nächsten)\s+$")
SENTENCE_END = re.compile(r"[!?;]\s|\.\s+(?=[A-ZÄÖÜ])|\n")  # original text
# The first word after an anchor; only these (or a number, "-", "(") can extend it ("morgen früh um 8",
# "Dienstag, 1.12.", "heute oder morgen"), so the extension patterns are not tried after "… vorbei".
NEXT_WORD = re.compile(r"[\s,.(]*(\w+|[-–])")
CONTINUATIONS = frozenset(
    {"in", "den", "dem", "der", "früh", "morgen", "vormittag", "vormittags", "nachmittag", "nachmittags", "abend",
     "abends", "mittag", "mittags", "gegen", "am", "bis", "zum", "um", "ab", "zwischen", "von", "spätestens",
     "allerspätestens", "aber", "noch", "eod", "cob", "eob", "end", "im", "oder", "bzw", "halb", "uhr", *HOUR_WORDS,
     *MODS, *WEEKDAYS, "-", "–"})


def number_value(raw: str) -> float:
    """A count as written: "14", "1,5", "vierzehn", "zwei bis drei" (the upper end)."""
    last = re.split(r"\s*(?:-|–|bis|oder)\s*", raw.strip().lower())[-1]
    return float(last.replace(",", ".")) if last[:1].isdigit() else NUMBERS.get(last, 0)


def clock_time(m: re.Match[str], part: str) -> time:
    """The time of a CLOCK match ("14:30 Uhr", "halb drei", "3 Uhr nachmittags"); `part` is the daypart named before."""
    g = {k: (v or "").lower() for k, v in m.groupdict().items()}
    raw = g.get("ch") or g.get("ch2") or g.get("chw") or g.get("chh") or g.get("xh") or g.get("bh") or "0"
    hour = int(raw) if raw.isdigit() else int(NUMBERS.get(raw, 0))
    minute = int(g.get("cm") or g.get("cm2") or g.get("cm3") or 0)
    if g.get("chh"):
        hour, minute = hour - 1, 30  # "halb drei" is 2:30
    part = g.get("cdp") or part
    if hour >= 24:
        return time(23, 59)
    if (hour < 12 and part.startswith(("nachmittag", "abend"))) or (hour < 6 and part.startswith("mittag")):
        hour += 12
    elif hour in AFTERNOON_HOURS and part not in MORNING and not part.startswith(("morgen", "vormittag")):
        hour += 12  # "um 3 Uhr" in business mail is the afternoon
    return time(hour, minute)
