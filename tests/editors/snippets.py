"""Code blocks of `docs/editors.md`, found by the `<!-- snippet: NAME -->` marker in front of them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "editors.md"
SNIPPET = re.compile(
    r"<!-- snippet: (?P<name>[\w.\-]+)[^>]*-->\s*\n```(?P<lang>[\w-]+)\n(?P<code>.*?)\n```", re.DOTALL)


@dataclass(frozen=True)
class Snippet:
    """One marked code block."""

    name: str
    lang: str
    code: str


def snippets() -> dict[str, Snippet]:
    """All marked code blocks by name."""
    text = DOC.read_text(encoding="utf-8")
    found = [Snippet(m["name"], m["lang"], m["code"]) for m in SNIPPET.finditer(text)]
    return {s.name: s for s in found}


@dataclass(frozen=True)
class Balance:
    """How an elisp text's parentheses and strings close."""

    depth: int          # 0 when every opened paren was closed
    lowest: int         # below 0 when a paren closed before it was opened
    open_string: bool   # True when a string literal never ends


def elisp_balance(code: str) -> Balance:
    """Parenthesis depth of elisp code, ignoring strings, comments and character literals like `?(`."""
    depth = lowest = 0
    i = 0
    in_string = False
    while i < len(code):
        ch = code[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == ";":
            newline = code.find("\n", i)
            i = len(code) if newline < 0 else newline
        elif ch == "?" and i + 1 < len(code) and (i == 0 or code[i - 1] in " \t\n(['`,"):
            # A character literal (`?(`, `?\\)`) opens or closes nothing; `foo?` is just a symbol.
            i += 2 if code[i + 1] == "\\" else 1
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            lowest = min(lowest, depth)
        i += 1
    return Balance(depth, lowest, in_string)
