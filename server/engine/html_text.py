"""HTML mail parts to readable plain text (html2text, then Markdown residue removed)."""

from __future__ import annotations

import re

# html2text converts about 1 MB/s: bigger HTML parts are cut (after removing styles and comments).
MAX_HTML_CHARS = 500_000
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|])")
_MD_LINK = re.compile(r"\[([^\[\]\n]*)\]\(([^()\s]+)\)")
_ANGLE_URL = re.compile(r"<((?:https?|ftp)://[^<>\s]+|mailto:[^<>\s]+)>")


def _strip_html_noise(html: str) -> str:
    """HTML without comments, <head>, <style> and <script> (linear, also when they are unclosed)."""
    out: list[str] = []
    pos = 0
    opener = re.compile(r"<!--|<(style|script|head)\b", re.I)
    while (found := opener.search(html, pos)) is not None:
        out.append(html[pos:found.start()])
        closer = "-->" if found.group(0) == "<!--" else f"</{found.group(1).lower()}"
        end = html.lower().find(closer, found.end()) if closer != "-->" else html.find(closer, found.end())
        if end < 0:
            return "".join(out)
        pos = html.find(">", end) + 1 or len(html)
    out.append(html[pos:])
    return "".join(out)


def html_to_text(html: str, warnings: list[str]) -> str:
    """HTML to readable plain text: paragraphs, "> " quotes, lists, links as "Text (URL)"."""
    html = _strip_html_noise(html[: MAX_HTML_CHARS * 4])
    if len(html) > MAX_HTML_CHARS:
        html = html[:MAX_HTML_CHARS]
        warnings.append("Der HTML-Teil ist sehr groß; nur der Anfang wurde umgewandelt.")
    try:
        import html2text  # imported here: only HTML-only mails need it

        converter = html2text.HTML2Text()
        converter.body_width = 0
        converter.ignore_images = True
        converter.ignore_emphasis = True
        converter.unicode_snob = True
        converter.ignore_tables = True
        converter.ul_item_mark = "-"
        text = converter.handle(html)
    except Exception as exc:  # html2text rarely fails, but the mail text must not be lost
        import html as html_lib

        warnings.append(f"Der HTML-Teil ließ sich nicht sauber umwandeln ({type(exc).__name__}).")
        text = html_lib.unescape(re.sub(r"<[^>]*>", " ", html))
    text = _MD_LINK.sub(_link_text, text)
    text = _ANGLE_URL.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = _MD_ESCAPE.sub(r"\1", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def _link_text(match: re.Match[str]) -> str:
    """A Markdown link as plain text: the label, then the address unless the label already says it."""
    label, url = match.group(1).strip(), match.group(2)
    address = url.removeprefix("mailto:")
    if not label or label in (address, url):
        return address
    return f"{label} ({address})"
