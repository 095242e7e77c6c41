"""The README screenshot's page generator: findings become squiggles of the right severity."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "editors" / "vscode" / "scripts" / "render_screenshot.py"


@pytest.fixture(scope="module")
def render() -> ModuleType:
    """The generator script loaded as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("render_screenshot", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


TEXT = "Hallo,\n\nwir melden uns zeitnah wegen dem Meeting.\n"
PROMISE = TEXT.index("wir"), TEXT.index(".", TEXT.index("wir"))
MEETING = TEXT.index("Meeting"), TEXT.index("Meeting") + len("Meeting")
REPORT = {
    "promises": [{"start": PROMISE[0], "end": PROMISE[1], "risk": "medium", "rule": "versprochen.Commitments",
                  "message": "Zusage", "reason": "Jede Zusage weckt eine Erwartung.",
                  "deadline_text": "zeitnah", "vague_deadline": True}],
    "jargon": [{"start": MEETING[0], "end": MEETING[1], "rule": "versprochen.Anglicisms", "message": "Anglizismus",
                "plain": "Besprechung", "alternatives": ["Besprechung", "Treffen"]}],
    "deliveries": [],
}


def test_findings_follow_the_manifest_severities(render: ModuleType) -> None:
    levels = render.severity_defaults()
    assert levels["highRiskPromise"] == "warning" and levels["jargon"] == "information"
    found = render.findings_of(REPORT, TEXT, levels)
    assert [(TEXT[f.start:f.end], f.severity, f.rule) for f in found] == [
        ("wir melden uns zeitnah wegen dem Meeting", "information", "versprochen.Commitments"),
        ("zeitnah", "warning", "versprochen.VagueDeadlines"),
        ("Meeting", "information", "versprochen.Anglicisms"),
    ]
    assert found[2].reason == "Einfacher: Besprechung, Treffen"


def test_overlaps_show_the_most_severe_finding(render: ModuleType) -> None:
    found = render.findings_of(REPORT, TEXT, render.severity_defaults())
    start = TEXT.index("wir")
    line = render.render_line(TEXT, start, TEXT.index("\n", start), found)
    assert line == ('<span class="sq information">wir melden uns </span>'
                    '<span class="sq warning">zeitnah</span>'
                    '<span class="sq information"> wegen dem Meeting</span>.')


def test_off_hides_a_finding_and_html_is_escaped(render: ModuleType) -> None:
    levels = {**render.severity_defaults(), "jargon": "off"}
    found = render.findings_of(REPORT, TEXT, levels)
    assert "versprochen.Anglicisms" not in {f.rule for f in found}
    assert render.render_line("a <b> & c", 0, 9, []) == "a &lt;b&gt; &amp; c"
