"""The `versprochen` command: one subcommand per front-end, each importing its heavy parts lazily."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from server import __version__

# Subcommand modules; each has `register(subparsers)` that adds its parser and sets `func`.
# They import only argparse-level things at module level so `versprochen --help` stays fast.
COMMAND_MODULES = (
    "server.check_cmd",
    "server.tracker.command",
    "server.tracker.remind_command",
    "smtp_proxy.command",
    "server.lsp.command",
    "server.dashboard.command",
    "server.report",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="versprochen",
        description="Zusagen, Fristen und Fachjargon in deutschen Geschäftsmails finden und verfolgen.",
    )
    parser.add_argument("--version", action="version", version=f"versprochen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
