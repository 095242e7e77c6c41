"""The early engine (server/lsp/early.py): same first diagnostics, no process left, every failure falls back."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from lsprotocol import types

from tests.lsp.conftest import Session, start_session

CLIENT = "visual_studio_code"
# The own engine's first build is held back this long, so the child surely answers first.
SLOW_ENGINE = {"VERSPROCHEN_LSP_ENGINE_DELAY": "1.5"}
HEADER = "Date: Mon, 23 Nov 2026 10:00:00 +0100\nAn: Anna Reuter <anna@kunde.de>\nBetreff: Angebot\n\n"
DOCUMENTS = {
    "angebot.txt": (HEADER + "Hallo Frau Reuter,\n\nwir liefern garantiert bis Freitag, versprochen. "
                    "Das Angebot schicke ich Ihnen zeitnah, nach dem Meeting mit dem Team.\n\n"
                    "Viele Grüße\nJan\n\nAm 20.11.2026 um 09:12 schrieb Anna Reuter <anna@kunde.de>:\n"
                    "> Können Sie mir bis Freitag ein Angebot schicken?\n"),
    "lieferung.txt": (HEADER + "Hallo Frau Reuter,\n\nanbei das Angebot. Die Unterlagen kommen "
                      "demnächst, das Update spielen wir in KW 49 ein.\n\nGruß\nJan\n\n"
                      "Am 20.11.2026 um 09:12 schrieb Anna Reuter <anna@kunde.de>:\n"
                      "> Sie hatten zugesagt, mir das Angebot bis heute zu schicken.\n"),
    "notiz.md": "# Notiz\n\nWir melden uns asap und liefern auf jeden Fall bis Ende nächster Woche.\n\n"
                "`Meeting` im Code zählt nicht, das Meeting hier schon.\n",
}


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid`, zombies included."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def server_pid(session: Session) -> int:
    """The server process of a session."""
    server = session.client._server
    assert server is not None
    return server.pid


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `condition` (every 20 ms) until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def logged(log: Path) -> str:
    """The server's log so far."""
    return log.read_text(encoding="utf-8") if log.exists() else ""


def answered_early(log: Path, name: str) -> bool:
    """Whether the log says the child answered version 1 of document `name`."""
    return any(f"/{name} v1: " in line and "from the early engine" in line for line in logged(log).splitlines())


async def open_all(session: Session) -> dict[str, list[types.Diagnostic]]:
    """Open every test document at once and collect the first diagnostics of each."""
    uris = {name: (session.root / name).as_uri() for name in DOCUMENTS}
    for name, uri in uris.items():
        session.texts[uri] = DOCUMENTS[name]
        session.versions[uri] = 1
        session.client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=uri, language_id="markdown" if name.endswith(".md") else "plaintext", version=1,
            text=DOCUMENTS[name])))
    return {name: list((await session.wait_for(uri, 1)).diagnostics) for name, uri in uris.items()}


async def test_first_diagnostics_are_the_same_with_and_without_the_early_engine(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """The child's diagnostics equal the own engine's; the child is gone once the own engine is ready."""
    root = tmp_path_factory.mktemp("early")  # one workspace for both: the URIs in related information match
    async with start_session(CLIENT, root, env={"VERSPROCHEN_LSP_EARLY": "0"}) as plain:
        assert children(server_pid(plain)) == []  # switched off: nothing forked
        expected = await open_all(plain)
    log = root.parent / "early-on.log"
    async with start_session(CLIENT, root, env=SLOW_ENGINE,
                             args=("--log-level", "info", "--log-file", str(log))) as early:
        pid = server_pid(early)
        first = await open_all(early)
        assert "engine built" not in logged(log)  # these came from the child, not from the own engine
        for name in DOCUMENTS:  # the log line is written just after the diagnostics were sent
            await until(partial(answered_early, log, name), timeout=5)
        await until(lambda: "engine built" in logged(log))
        await until(lambda: children(pid) == [])  # stopped and reaped: no zombie either
        assert "early engine stopped after 3 answers" in logged(log)
        # Hover needs the own engine's findings: it works once that engine has analysed the document.
        uri = (root / "angebot.txt").as_uri()
        hover = await early.client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), early.position_of(uri, "Meeting", 2)))
        assert hover is not None
    assert first == expected
    assert all(first.values())
    messages = [d.message for diagnostics in first.values() for d in diagnostics]
    assert any(m.startswith("Vage Frist: ") for m in messages)  # the rule's message, not the fallback


async def test_no_child_is_left_after_shutdown(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Shut down while the child still serves (own engine not built yet): the child is stopped and reaped."""
    root = tmp_path_factory.mktemp("early-shutdown")
    async with start_session(CLIENT, root, env={"VERSPROCHEN_LSP_ENGINE_DELAY": "20"}) as session:
        pid = server_pid(session)
        await session.open(session.uri("a.txt"), HEADER + "Wir liefern garantiert bis Freitag.\n")
        kids = children(pid)
        assert len(kids) == 1  # the own engine is held back: only the child can have answered
    await until(lambda: not Path(f"/proc/{kids[0]}").exists(), timeout=10)


async def test_a_child_killed_at_start_falls_back_to_the_own_engine(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """The child dies before it answers: diagnostics still come (from the own engine), no zombie stays."""
    root = tmp_path_factory.mktemp("early-killed")
    log = root.parent / "early-killed.log"
    async with start_session(CLIENT, root, env=SLOW_ENGINE,
                             args=("--log-level", "info", "--log-file", str(log))) as session:
        pid = server_pid(session)
        await until(lambda: len(children(pid)) == 1, timeout=10)
        os.kill(children(pid)[0], signal.SIGKILL)
        uri = session.uri("a.txt")
        published = await session.open(uri, HEADER + "Wir liefern garantiert bis Freitag.\n")
        assert any(d.code == "versprochen.Commitments" for d in published.diagnostics)
        assert "from the early engine" not in logged(log)
        await until(lambda: children(pid) == [])


async def test_extra_rule_folders_never_use_the_childs_result(tmp_path_factory: pytest.TempPathFactory) -> None:
    """With extra rule folders the child's engine has other rules: the first diagnostics include them."""
    root = tmp_path_factory.mktemp("early-extra")
    (root / "regeln").mkdir()
    (root / "regeln" / "Hausjargon.toml").write_text(
        'kind = "substitution"\njargon_kind = "technical"\nseverity = "information"\n'
        'message = "„{term}“ ist Hausjargon – verständlicher: {plain}."\n'
        'reason = "Kunden kennen unsere internen Kürzel nicht."\n'
        'terms = [{ term = "Quirlboard", plain = ["Übersichtstafel"] }]\n'
        '[examples]\nfail = ["Das steht auf dem Quirlboard."]\npass = ["Das steht auf der Tafel."]\n',
        encoding="utf-8")
    log = root.parent / "early-extra.log"
    settings = {"lexicon": {"extraFolders": ["regeln"]}}
    async with start_session(CLIENT, root, init_options=settings, configuration={"versprochen": settings},
                             env=SLOW_ENGINE, args=("--log-level", "info", "--log-file", str(log))) as session:
        published = await session.open(session.uri("a.txt"),
                                       HEADER + "Das steht auf dem Quirlboard, wir liefern bis Freitag.\n")
        assert any(d.code == "versprochen.Hausjargon" for d in published.diagnostics)
        assert "from the early engine" not in logged(log)
