"""The project's `versprochen.toml` as the language server uses it: lookup, reload, accepting words."""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from pathlib import Path

from server.config import CONFIG_NAME, ConfigError, ProjectConfig, find_config, load_config, parse_config

TABLE = re.compile(r"^[ \t]*\[\s*lexicon\s*\][ \t]*(?:#.*)?$", re.MULTILINE)
NEXT_TABLE = re.compile(r"^[ \t]*\[", re.MULTILINE)
ACCEPTED = re.compile(r"^[ \t]*accepted[ \t]*=[ \t]*\[", re.MULTILINE)


class ProjectConfigs:
    """Project configs by file, reloaded when the file changes; errors kept for the user.

    The lookup walks up the folders on every analysis: a dozen stat calls cost microseconds, and a new or
    deleted versprochen.toml then takes effect with the next keystroke.
    """

    def __init__(self) -> None:
        self._loaded: dict[Path, tuple[int, ProjectConfig]] = {}
        self.errors: dict[Path, str] = {}

    def config_path(self, folder: Path) -> Path | None:
        """The nearest `versprochen.toml` for files in `folder`."""
        return find_config(folder)

    def config_for(self, folder: Path | None) -> ProjectConfig:
        """The project config for files in `folder` (defaults when none or when it is invalid)."""
        if folder is None:
            return ProjectConfig()
        path = self.config_path(folder)
        if path is None:
            return ProjectConfig()
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return ProjectConfig()
        cached = self._loaded.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            config = load_config(path)
            self.errors.pop(path, None)
        except ConfigError as exc:
            self.errors[path] = f"versprochen: {exc}"
            config = ProjectConfig()
        self._loaded[path] = (mtime, config)
        return config

    def forget(self) -> None:
        """Drop cached configs (after writing the config ourselves)."""
        self._loaded.clear()


def _array_end(text: str, start: int) -> int:
    """Index of the `]` closing the TOML array opened at text[start] == "[" (strings and comments aware)."""
    i, depth = start, 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else ch
            i += len(quote)
            while i < len(text) and text[i:i + len(quote)] != quote:
                i += 2 if ch == '"' and text[i] == "\\" else 1
            i += len(quote)
            continue
        if ch == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unclosed array")


def add_accepted_word(text: str, word: str) -> str:
    """The TOML text with `word` added to `[lexicon] accepted`, everything else kept as it was."""
    data = tomllib.loads(text)
    lexicon = data.get("lexicon", {})
    accepted = lexicon.get("accepted", []) if isinstance(lexicon, dict) else []
    if isinstance(accepted, list) and word.casefold() in (str(a).casefold() for a in accepted):
        return text
    literal = json.dumps(word, ensure_ascii=False)
    table = TABLE.search(text)
    if table is None:
        if "lexicon" in data:
            raise ValueError("[lexicon] ist nicht als eigene Tabelle geschrieben")
        sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        new = f"{text}{sep}[lexicon]\naccepted = [{literal}]\n"
    else:
        nxt = NEXT_TABLE.search(text, table.end())
        section_end = nxt.start() if nxt else len(text)
        key = ACCEPTED.search(text, table.end(), section_end)
        if key is None:
            new = f"{text[:table.end()]}\naccepted = [{literal}]{text[table.end():]}"
        else:
            close = _array_end(text, key.end() - 1)
            inner = text[key.end():close]
            body_end = key.end() + len(inner.rstrip())
            body = text[key.end():body_end].strip()
            if not body:
                insertion = literal
            elif body.endswith(",") and "\n" in inner:
                # A multi-line array with a trailing comma: one more line in the same style.
                last_line = text[text.rfind("\n", 0, body_end) + 1:body_end]
                indent = last_line[:len(last_line) - len(last_line.lstrip())]
                insertion = f"\n{indent}{literal},"
            else:
                insertion = f" {literal}" if body.endswith(",") else f", {literal}"
            new = text[:body_end] + insertion + text[body_end:]
    check = tomllib.loads(new)
    if word not in check.get("lexicon", {}).get("accepted", []):
        raise ValueError("das Wort ließ sich nicht eintragen")
    return new


def accept_word(word: str, folder: Path, root: Path | None) -> Path:
    """Add `word` to the project's accepted words; creates `versprochen.toml` in the workspace root if needed.

    Raises ConfigError with a German message when the file cannot be read, edited or written.
    """
    word = word.strip()
    if not word or "\n" in word:
        raise ConfigError(f"„{word}“ ist kein Wort, das sich eintragen lässt")
    path = find_config(folder)
    if path is None or (root is not None and not _inside(path, root)):
        path = (root or folder) / CONFIG_NAME
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: nicht lesbar: {exc}") from exc
    try:
        new = add_accepted_word(old, word)
        parse_config(path, tomllib.loads(new))
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: „{word}“ lässt sich nicht eintragen: {exc}") from exc
    if new != old:
        _write_atomically(path, new)
    return path


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a config."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".versprochen-", suffix=".toml", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"{path}: nicht schreibbar: {exc.strerror or exc}") from exc

