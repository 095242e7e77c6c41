"""Shared by the template tests: the rendering environment and the golden-file comparison."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from templates import make_environment

GOLDEN = Path(__file__).with_name("golden")
# Set VERSPROCHEN_UPDATE_GOLDEN=1 to rewrite the golden files after an intended wording change.
UPDATE = os.environ.get("VERSPROCHEN_UPDATE_GOLDEN") == "1"


def check_golden(name: str, text: str) -> None:
    """Compare rendered text with its golden file (or rewrite the file when UPDATE is set)."""
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"golden file {path} missing (run with VERSPROCHEN_UPDATE_GOLDEN=1)"
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    """The templates' environment without a project config."""
    return make_environment(use_config=False)
