"""Render the README screenshot: a German draft with versprochen's real findings, drawn the way VS Code does.

Runs `versprochen check --format json` on the draft, writes an HTML page imitating the editor (squiggles by
severity, one open hover, the Problems panel, the status-bar item) and photographs it with headless Chromium.

    .venv/bin/python editors/vscode/scripts/render_screenshot.py [--draft FILE] [--out PNG]
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXTENSION = HERE.parent
ROOT = EXTENSION.parents[1]
BUNDLED_EXAMPLE = ROOT / "examples" / "entwurf-angebot.txt"
FALLBACK_DRAFT = HERE / "beispiel-entwurf.txt"
SEVERITY_ORDER = {"error": 0, "warning": 1, "information": 2, "hint": 3}
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
    "--force-device-scale-factor=1",
]
LINE_HEIGHT = 22
WIDTH = 1280
# DejaVu Sans Mono at 15 px advances 0.602 em per character; the gutter takes 64 px (see screenshot.css).
CHAR_WIDTH = 15 * 0.602
COLUMNS = int((WIDTH - 64 - 24) / CHAR_WIDTH)
HOVER_ROWS = 7


@dataclass(frozen=True)
class Finding:
    """One diagnostic as the editor would show it."""

    start: int
    end: int
    severity: str
    rule: str
    message: str
    reason: str


def severity_defaults() -> dict[str, str]:
    """`severity.*` defaults from the extension manifest (the single place they are written)."""
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for group in manifest["contributes"]["configuration"]:
        for key, spec in group["properties"].items():
            if key.startswith("versprochen.severity."):
                out[key.removeprefix("versprochen.severity.")] = spec["default"]
    return out


def run_check(draft: Path, sent: str) -> dict[str, Any]:
    """The engine's findings for the draft, from the real CLI."""
    exe = Path(sys.executable).with_name("versprochen")
    cmd = [str(exe), "check", "--format", "json", "--fail-level", "none", "--sent", sent, str(draft)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"versprochen check failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def findings_of(report: dict[str, Any], text: str, levels: dict[str, str]) -> list[Finding]:
    """Diagnostics like the language server's: promises by risk, vague deadlines, jargon, deliveries."""
    out: list[Finding] = []
    risk_key = {"high": "highRiskPromise", "medium": "mediumRiskPromise", "low": "lowRiskPromise"}
    for p in report.get("promises", []):
        out.append(Finding(p["start"], p["end"], levels[risk_key[p["risk"]]], p["rule"], p["message"],
                           p.get("reason") or ""))
        phrase = p.get("deadline_text")
        if p.get("vague_deadline") and phrase:
            at = text.find(phrase, p["start"], p["end"] + len(phrase))
            if at >= 0:
                out.append(Finding(at, at + len(phrase), levels["vagueDeadline"],
                                   "versprochen.VagueDeadlines",
                                   f"Vage Frist „{phrase}“: nennen Sie ein konkretes Datum.",
                                   "Vage Fristen lassen offen, wann Sie liefern müssen – der Kunde setzt "
                                   "im Zweifel den frühesten Termin an."))
    for j in report.get("jargon", []):
        alternatives = ", ".join(j.get("alternatives") or [j.get("plain") or ""])
        out.append(Finding(j["start"], j["end"], levels["jargon"], j["rule"], j["message"],
                           f"Einfacher: {alternatives}" if alternatives else ""))
    for d in report.get("deliveries", []):
        out.append(Finding(d["start"], d["end"], levels["delivery"], d["rule"], d["message"], ""))
    shown = (f for f in out if f.severity in SEVERITY_ORDER)  # "off" hides a finding
    return sorted(shown, key=lambda f: (f.start, f.end))


def line_col(text: str, offset: int) -> tuple[int, int]:
    """0-based line and column of a character offset."""
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def render_line(text: str, start: int, end: int, findings: list[Finding]) -> str:
    """One line's HTML: each stretch underlined by the most severe finding covering it."""
    cuts = {start, end}
    for f in findings:
        cuts.update(x for x in (f.start, f.end) if start < x < end)
    edges = sorted(cuts)
    # (css class or "", text) runs; neighbours with the same class merge so a wavy line does not restart.
    runs: list[tuple[str, str]] = []
    for a, b in itertools.pairwise(edges):
        covering = [f for f in findings if f.start <= a and b <= f.end]
        css = min(covering, key=lambda f: SEVERITY_ORDER[f.severity]).severity if covering else ""
        if runs and runs[-1][0] == css:
            runs[-1] = (css, runs[-1][1] + text[a:b])
        else:
            runs.append((css, text[a:b]))
    parts = [f'<span class="sq {css}">{html.escape(chunk)}</span>' if css else html.escape(chunk)
             for css, chunk in runs]
    return "".join(parts) or "&#8203;"


def hover_html(f: Finding, text: str) -> str:
    """The open hover under the finding's line, at its column within the wrapped row, as VS Code does."""
    col = line_col(text, f.start)[1] % COLUMNS
    reason = f'<p class="reason">{html.escape(f.reason)}</p>' if f.reason else ""
    return (
        f'<div class="hover" style="left:calc(64px + min({col}ch, 100% - 640px))">'
        f'<p class="msg">{html.escape(f.message)}</p>{reason}'
        f'<p class="src">versprochen(<u>{html.escape(f.rule)}</u>)</p>'
        '<p class="actions"><a>Problem anzeigen (Alt+F8)</a> <a>Schnelle Problembehebung… (Strg+.)</a></p>'
        "</div>"
    )


ICONS = {"error": "✕", "warning": "⚠", "information": "i", "hint": "…"}


def visual_rows(lines: list[str]) -> int:
    """How many screen rows the lines take with word wrap (an estimate for the window height)."""
    return sum(max(1, -(-len(line) // COLUMNS)) for line in lines)


def page(name: str, text: str, findings: list[Finding], risky: int) -> tuple[str, int]:
    """The whole HTML page and the number of screen rows its editor area takes."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # The hover shows the first risky promise (a warning that is not a vague deadline).
    hovered = next((f for f in findings if f.severity in ("error", "warning")
                    and f.rule != "versprochen.VagueDeadlines"), findings[0])
    hover_line = line_col(text, hovered.start)[0]
    rows: list[str] = []
    offset = 0
    for index, content in enumerate(lines):
        end = offset + len(content)
        mine = [f for f in findings if f.start < end + 1 and f.end > offset]
        hover = hover_html(hovered, text) if index == hover_line else ""
        rows.append(f'<div class="row"><span class="ln">{index + 1}</span>'
                    f'<span class="code">{render_line(text, offset, end, mine)}</span>{hover}</div>')
        offset = end + 1
    # Empty rows under the text, as in an editor window, so a hover near the end still fits.
    spare = max(0, HOVER_ROWS - (len(lines) - hover_line))
    rows += ['<div class="row"><span class="ln"></span></div>'] * spare
    problems: list[str] = []
    for f in findings:
        line, col = line_col(text, f.start)
        problems.append(f'<div class="prob"><span class="icon {f.severity}">{ICONS[f.severity]}</span>'
                        f'{html.escape(f.message)} <span class="dim">versprochen({html.escape(f.rule)})'
                        f" [Ln {line + 1}, Sp {col + 1}]</span></div>")
    editor_rows = visual_rows(lines) + spare
    status = f"⚠ {risky} riskante Zusage{'n' if risky != 1 else ''}" if risky else "✓ versprochen"
    css = (HERE / "screenshot.css").read_text(encoding="utf-8")
    return f"""<!doctype html><html lang="de"><head><meta charset="utf-8"><style>{css}</style></head><body>
<div class="tabs"><span class="tab">{html.escape(name)}</span></div>
<div class="editor" style="--lh:{LINE_HEIGHT}px">{''.join(rows)}</div>
<div class="panel"><div class="ptitle">PROBLEME <span class="badge">{len(findings)}</span></div>
<div class="pfile">{html.escape(name)} <span class="dim">{len(findings)}</span></div>{''.join(problems)}</div>
<div class="status"><span>Klartext</span><span>UTF-8</span><span class="risky">{status}</span></div>
</body></html>""", editor_rows


def chromium() -> str:
    """The Chromium binary, or a clear error."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("Chromium fehlt: apt-get install -y chromium")


def screenshot(html_file: Path, out: Path, height: int) -> None:
    """Photograph the page with headless Chromium."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{height}",
               f"--screenshot={out}", html_file.as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"Chromium failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    """Render the page and the PNG; print what was drawn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_draft = BUNDLED_EXAMPLE if BUNDLED_EXAMPLE.exists() else FALLBACK_DRAFT
    parser.add_argument("--draft", type=Path, default=default_draft)
    parser.add_argument("--out", type=Path, default=EXTENSION / "images" / "screenshot.png")
    parser.add_argument("--html", type=Path, help="keep the HTML page here (default: a temporary file)")
    parser.add_argument("--sent", default="2026-11-23T10:00", help="reference time for deadlines")
    args = parser.parse_args(argv)
    text = args.draft.read_text(encoding="utf-8")
    report = run_check(args.draft, args.sent)
    findings = findings_of(report, text, severity_defaults())
    if not findings:
        raise SystemExit(f"versprochen found nothing in {args.draft}: nothing to show")
    risky = sum(1 for p in report.get("promises", []) if p["risk"] == "high")
    document, rows = page(args.draft.name, text, findings, risky)
    height = 36 + rows * LINE_HEIGHT + 8 + 60 + len(findings) * 24 + 30
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        html_file = args.html or Path(tmp) / "screenshot.html"
        html_file.write_text(document, encoding="utf-8")
        screenshot(html_file, args.out.resolve(), height)
    print(f"{args.out}: {len(findings)} findings from {args.draft} ({os.path.getsize(args.out)} bytes)")
    for f in findings:
        line, col = line_col(text, f.start)
        print(f"  {line + 1}:{col + 1} {f.severity:<11} {f.rule} {text[f.start:f.end]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
