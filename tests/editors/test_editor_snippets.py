"""The editor setup snippets in docs/editors.md parse, start `versprochen lsp`, and use valid settings."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.editors.manifest import flatten, problem
from tests.editors.snippets import elisp_balance, snippets

EXPECTED = {"nvim-0.7": "lua", "nvim-0.8": "lua", "nvim-0.11": "lua", "nvim-lspconfig": "lua",
            "helix": "toml", "emacs": "elisp", "kate": "json"}


def assert_valid_settings(nested: dict[str, Any]) -> None:
    """Every key of a `versprochen` settings object is a contract setting with a valid value."""
    flat = flatten(nested)
    assert flat, "the example should show at least one setting"
    errors = [p for key, value in flat.items() if (p := problem(key, value)) is not None]
    assert errors == []


def test_every_editor_has_a_marked_snippet() -> None:
    found = {name: s.lang for name, s in snippets().items()}
    assert found == EXPECTED


def test_helix_languages_toml() -> None:
    data = tomllib.loads(snippets()["helix"].code)
    server = data["language-server"]["versprochen"]
    assert [server["command"], *server["args"]] == ["versprochen", "lsp"]
    assert_valid_settings(server["config"]["versprochen"])
    languages = {lang["name"]: lang for lang in data["language"]}
    assert "versprochen" in languages["markdown"]["language-servers"]
    assert {"txt", "eml"} <= set(languages["entwurf"]["file-types"])
    assert languages["entwurf"]["scope"] and languages["entwurf"]["language-id"] == "plaintext"


def test_kate_settings_json() -> None:
    server = json.loads(snippets()["kate"].code)["servers"]["versprochen"]
    assert server["command"] == ["versprochen", "lsp"]
    assert_valid_settings(server["initializationOptions"])
    assert_valid_settings(server["settings"]["versprochen"])
    assert "Markdown" in server["highlightingModeRegex"]


def test_emacs_eglot_snippet_is_balanced() -> None:
    code = snippets()["emacs"].code
    balance = elisp_balance(code)
    assert (balance.depth, balance.lowest, balance.open_string) == (0, 0, False)
    assert '("versprochen" "lsp")' in code and "eglot-server-programs" in code
    assert "(:versprochen (:severity (:highRiskPromise \"error\")))" in code


@pytest.mark.parametrize("text", ["(a (b)", "(a))(", '(message "(")', "(a ?\\( ?\\))", ";; )\n(a)"])
def test_elisp_balance_checker(text: str) -> None:
    balanced = {'(message "(")', "(a ?\\( ?\\))", ";; )\n(a)"}
    result = elisp_balance(text)
    assert ((result.depth, result.lowest, result.open_string) == (0, 0, False)) == (text in balanced)


def lua_compiles(code: str, tmp_path: Path) -> tuple[bool, str]:
    """Whether Neovim's Lua compiles `code` (without running it), and the error text."""
    nvim = shutil.which("nvim")
    if nvim is None:
        pytest.skip("nvim is not installed (apt-get install -y neovim): Lua syntax not checked")
    script = tmp_path / "snippet.lua"
    script.write_text(code, encoding="utf-8")
    check = tmp_path / "check.lua"
    # loadfile only compiles: the snippet's calls (vim.lsp.config, lspconfig) need not exist in this Neovim.
    check.write_text(
        f"local f, err = loadfile({json.dumps(str(script))})\n"
        "if not f then io.stderr:write(err) vim.cmd('cquit 3') end\n"
        "vim.cmd('qall!')\n",
        encoding="utf-8",
    )
    done = subprocess.run([nvim, "--headless", "-u", "NONE", "-i", "NONE", "-c", f"luafile {check}"],
                          capture_output=True, text=True, timeout=30, check=False)
    return done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", ["nvim-0.7", "nvim-0.8", "nvim-0.11", "nvim-lspconfig"])
def test_lua_snippets_compile(name: str, tmp_path: Path) -> None:
    code = snippets()[name].code
    assert '"versprochen", "lsp"' in code
    ok, error = lua_compiles(code, tmp_path)
    assert ok, error


def test_lua_check_catches_syntax_errors(tmp_path: Path) -> None:
    ok, error = lua_compiles('vim.lsp.start({ cmd = { "versprochen", "lsp" }', tmp_path)
    assert not ok and "expected" in error
