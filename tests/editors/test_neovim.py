"""End to end in a real editor: headless Neovim runs docs/editors.md's 0.7 snippet with `versprochen lsp`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.editors.snippets import snippets

pytestmark = pytest.mark.slow

NVIM = shutil.which("nvim")
SERVER = Path(sys.executable).with_name("versprochen")
# Bounded waits: the server needs ~1–2 s for its first diagnostics; the subprocess limit is a backstop.
DIAGNOSTICS_TIMEOUT_MS = 30_000
PROCESS_TIMEOUT_S = 90

# "🙂" is two UTF-16 code units and "ü"/"ß" are two UTF-8 bytes: columns must be UTF-16 on the wire.
DRAFT = (
    "Sehr geehrte Frau Weiß,\n"
    "\n"
    "danke für Ihre Geduld 🙂. Wir liefern garantiert bis Freitag.\n"
    "\n"
    "Mit freundlichen Grüßen\n"
    "Tom Schmidt\n"
)

HARNESS = r"""
local out_path = os.getenv("VERSPROCHEN_OUT")
local function finish(result, code)
  local file = assert(io.open(out_path, "w"))
  file:write(vim.fn.json_encode(result))
  file:close()
  for _, client in pairs(vim.lsp.get_active_clients()) do
    client.stop()
  end
  -- Wait (bounded) for the server to exit so no process outlives the editor.
  vim.wait(5000, function() return #vim.lsp.get_active_clients() == 0 end, 50)
  vim.cmd(code == 0 and "qall!" or ("cquit " .. code))
end

local published = {}
local original = vim.lsp.handlers["textDocument/publishDiagnostics"]
vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
  table.insert(published, { uri = result.uri, version = result.version, diagnostics = result.diagnostics })
  return original(err, result, ctx, config)
end

local ok, err = xpcall(function()
  vim.cmd("filetype on")
  dofile(os.getenv("VERSPROCHEN_SNIPPET"))
  vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("VERSPROCHEN_DRAFT")))
  local uri = vim.uri_from_bufnr(0)
  local got = vim.wait(tonumber(os.getenv("VERSPROCHEN_TIMEOUT_MS")), function()
    for _, p in ipairs(published) do
      if p.uri == uri and #p.diagnostics > 0 then return true end
    end
    return false
  end, 20)
  local clients = {}
  for _, client in pairs(vim.lsp.get_active_clients()) do
    table.insert(clients, { name = client.name, settings = client.config.settings,
                            offset_encoding = client.offset_encoding })
  end
  return { got = got, uri = uri, filetype = vim.bo.filetype, published = published, clients = clients,
           version = vim.version() }
end, debug.traceback)

if ok then
  finish(err, 0)
else
  finish({ error = err, published = published }, 3)
end
"""


def utf16_slice(line: str, start: int, end: int) -> str:
    """The part of `line` between two UTF-16 code-unit columns."""
    units = line.encode("utf-16-le")
    return units[2 * start:2 * end].decode("utf-16-le")


@pytest.fixture(scope="module")
def neovim_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run Neovim once on the draft and return what the harness recorded."""
    if NVIM is None:
        pytest.skip("nvim is not installed (apt-get install -y neovim)")
    if not SERVER.exists():
        pytest.skip(f"{SERVER} is missing: install the project (pip install -e .)")
    work = tmp_path_factory.mktemp("nvim")
    draft = work / "entwurf.txt"
    draft.write_text(DRAFT, encoding="utf-8")
    (work / "snippet.lua").write_text(snippets()["nvim-0.7"].code, encoding="utf-8")
    (work / "harness.lua").write_text(HARNESS, encoding="utf-8")
    out = work / "result.json"
    env = {
        **os.environ,
        # The snippet starts plain `versprochen`: this project's console script comes first on the PATH.
        "PATH": f"{SERVER.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(work),
        "XDG_CACHE_HOME": str(work / "cache"),
        "XDG_STATE_HOME": str(work / "state"),
        "XDG_DATA_HOME": str(work / "data"),  # no tracker database from the developer's machine
        "XDG_CONFIG_HOME": str(work / "config"),
        "VERSPROCHEN_OUT": str(out),
        "VERSPROCHEN_DRAFT": str(draft),
        "VERSPROCHEN_SNIPPET": str(work / "snippet.lua"),
        "VERSPROCHEN_TIMEOUT_MS": str(DIAGNOSTICS_TIMEOUT_MS),
    }
    done = subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-c", f"luafile {work / 'harness.lua'}"],
        cwd=work, env=env, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S, check=False,
    )
    assert out.exists(), f"Neovim wrote no result (exit {done.returncode}): {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert done.returncode == 0, result.get("error") or done.stderr[-2000:]
    return result


def diagnostics_of(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The last non-empty diagnostics published for the draft."""
    mine = [p["diagnostics"] for p in run["published"] if p["uri"] == run["uri"] and p["diagnostics"]]
    assert mine, f"no diagnostics for {run['uri']} within {DIAGNOSTICS_TIMEOUT_MS} ms: {run['published']}"
    last: list[dict[str, Any]] = mine[-1]
    return last


def test_snippet_attaches_the_server_to_a_text_buffer(neovim_run: dict[str, Any]) -> None:
    assert neovim_run["filetype"] == "text"
    assert [c["name"] for c in neovim_run["clients"]] == ["versprochen"]
    assert neovim_run["clients"][0]["settings"] == {"versprochen": {"severity": {"highRiskPromise": "error"}}}
    assert neovim_run["got"] is True


def test_diagnostics_are_versprochen_findings(neovim_run: dict[str, Any]) -> None:
    lines = DRAFT.split("\n")
    for diagnostic in diagnostics_of(neovim_run):
        assert diagnostic["source"] == "versprochen"
        assert str(diagnostic["code"]).startswith("versprochen.")
        assert diagnostic["message"].strip()
        start, end = diagnostic["range"]["start"], diagnostic["range"]["end"]
        assert 0 <= start["line"] <= end["line"] < len(lines)
        assert start["character"] <= len(lines[start["line"]].encode("utf-16-le")) // 2


def test_risky_promise_found_with_utf16_columns_and_pushed_severity(neovim_run: dict[str, Any]) -> None:
    line = DRAFT.split("\n")[2]

    def covered(d: dict[str, Any]) -> str:
        return utf16_slice(line, d["range"]["start"]["character"], d["range"]["end"]["character"])

    hits = [d for d in diagnostics_of(neovim_run)
            if d["range"]["start"]["line"] == d["range"]["end"]["line"] == 2 and "garantiert" in covered(d)]
    assert hits, "the high-risk promise 'Wir liefern garantiert bis Freitag.' was not flagged"
    # The range starts after the emoji: in UTF-8 bytes or code points it would be shifted.
    assert covered(hits[0]).lstrip().startswith(("Wir", "garantiert"))
    # The snippet's settings (highRiskPromise = "error") reached the server (init_options, and the
    # didChangeConfiguration that Neovim 0.7 needs pushed from on_init).
    assert any(d["severity"] == 1 for d in hits), [d["severity"] for d in hits]
