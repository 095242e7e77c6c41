"""Server-side SVG charts of kept vs. broken promises (no JavaScript, no CDN, CSP-safe attributes only)."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

KEPT_COLOR = "#2e7d32"
BROKEN_COLOR = "#c62828"
AXIS_COLOR = "#555555"
FONT = "font-family=\"sans-serif\" font-size=\"12\""
Series = list[tuple[str, int, int]]  # (label, kept, broken)


def _nice_max(value: int) -> int:
    """An axis maximum at or above `value` that divides into four whole-number ticks."""
    return max(4, -(-value // 4) * 4)


def _legend(x: int, y: int) -> list[str]:
    return [
        f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{KEPT_COLOR}"/>',
        f'<text x="{x + 16}" y="{y}" {FONT}>gehalten</text>',
        f'<rect x="{x + 90}" y="{y - 10}" width="12" height="12" fill="{BROKEN_COLOR}"/>',
        f'<text x="{x + 106}" y="{y}" {FONT}>gebrochen</text>',
    ]


def _open(width: int, height: int, title: str, summary: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(summary)}</desc>",
    ]


def _summary(series: Series) -> str:
    return "; ".join(f"{label}: {kept} gehalten, {broken} gebrochen" for label, kept, broken in series)


def weekly_chart(series: Series, title: str = "Gehaltene und gebrochene Zusagen je Woche") -> Markup:
    """Vertical grouped bars, one group per week (label such as "KW 48")."""
    left, top, bottom, group = 36, 30, 40, 44
    width = left + group * max(len(series), 1) + 10
    height = 240
    plot = height - top - bottom
    top_value = _nice_max(max((max(k, b) for _, k, b in series), default=0))
    parts = _open(width, height, title, _summary(series)) + _legend(left, 16)
    for tick in range(5):
        value = top_value * tick // 4
        y = top + plot - plot * value // top_value
        parts.append(f'<line x1="{left}" y1="{y}" x2="{width - 10}" y2="{y}" stroke="#dddddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4}" text-anchor="end" {FONT}>{value}</text>')
    for i, (label, kept, broken) in enumerate(series):
        x = left + i * group + 6
        for j, (value, color) in enumerate(((kept, KEPT_COLOR), (broken, BROKEN_COLOR))):
            h = plot * value // top_value
            parts.append(f'<rect x="{x + j * 16}" y="{top + plot - h}" width="14" height="{h}" fill="{color}">'
                         f"<title>{escape(label)}: {value} {'gehalten' if j == 0 else 'gebrochen'}</title></rect>")
        parts.append(f'<text x="{x + 15}" y="{height - bottom + 16}" text-anchor="middle" {FONT}>'
                     f"{escape(label)}</text>")
    parts.append(f'<line x1="{left}" y1="{top + plot}" x2="{width - 10}" y2="{top + plot}" '
                 f'stroke="{AXIS_COLOR}"/>')
    parts.append("</svg>")
    return Markup("\n".join(parts))


def customer_chart(series: Series, title: str = "Gehaltene und gebrochene Zusagen je Kunde") -> Markup:
    """Horizontal stacked bars, one per customer (long names fit on the left)."""
    label_width, bar_width, row, top = 200, 300, 26, 34
    width = label_width + bar_width + 60
    height = top + row * max(len(series), 1) + 10
    top_value = max((k + b for _, k, b in series), default=0) or 1
    parts = _open(width, height, title, _summary(series)) + _legend(label_width, 16)
    if not series:
        parts.append(f'<text x="{label_width}" y="{top + 16}" {FONT}>Noch keine erledigten Zusagen.</text>')
    for i, (label, kept, broken) in enumerate(series):
        y = top + i * row
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" {FONT}>{escape(short)}'
                     f"<title>{escape(label)}</title></text>")
        kept_w = bar_width * kept // top_value
        broken_w = bar_width * broken // top_value
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{kept_w}" height="16" fill="{KEPT_COLOR}"/>')
        parts.append(f'<rect x="{label_width + kept_w}" y="{y + 3}" width="{broken_w}" height="16" '
                     f'fill="{BROKEN_COLOR}"/>')
        parts.append(f'<text x="{label_width + kept_w + broken_w + 6}" y="{y + 15}" {FONT}>'
                     f"{kept} / {broken}</text>")
    parts.append("</svg>")
    return Markup("\n".join(parts))
