"""`versprochen lsp [--stdio] [--tcp HOST:PORT]`: start the language server (heavy imports inside `run`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

LOG_LEVELS = ("error", "warning", "info", "debug")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `lsp` subcommand."""
    p = sub.add_parser(
        "lsp",
        help="Sprachserver (LSP) für Editoren starten",
        description="Startet den Sprachserver: Diagnosen, Hover und Schnellkorrekturen für Entwürfe in "
        "VS Code, Neovim, Helix, Emacs, Kate. Standard: stdio.",
    )
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The server's options (shared by the subcommand and `python -m server.lsp`)."""
    p.add_argument("--stdio", action="store_true",
                   help="über stdin/stdout sprechen (Standard; VS Code hängt es an)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="auf einem TCP-Port lauschen statt stdio")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="warning",
                   help="Protokollstufe auf stderr (Standard: warning)")
    p.add_argument("--log-file", metavar="PATH", help="Protokoll in diese Datei statt auf stderr")


def parse_address(value: str) -> tuple[str, int]:
    """HOST:PORT -> (host, port); raises ValueError with a German message."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"Ungültige Adresse {value!r}: erwartet HOST:PORT, z. B. 127.0.0.1:2087")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    """Start the server; returns the exit code."""
    address = None
    if args.tcp:
        try:
            address = parse_address(args.tcp)
        except ValueError as exc:
            print(f"versprochen lsp: {exc}", file=sys.stderr)
            return 2
    try:
        handler: logging.Handler = (logging.FileHandler(args.log_file, encoding="utf-8") if args.log_file
                                    else logging.StreamHandler(sys.stderr))
    except OSError as exc:
        print(f"versprochen lsp: Protokolldatei nicht beschreibbar: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), handlers=[handler],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.log_level != "debug":
        # pygls logs every message it sends at INFO: only worth it when debugging the protocol.
        logging.getLogger("pygls").setLevel(logging.WARNING)
    # Fork the early engine now, before pygls is imported and while there are no threads (early.py).
    from server.lsp.early import EarlyEngine

    early = EarlyEngine.start()
    # stdout is the protocol channel: keep the real one for pygls and send stray prints to stderr.
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        from server.lsp.features import build_server

        server = build_server(early)
    except BaseException:
        if early is not None:
            early.stop()
        raise
    try:
        if address is not None:
            server.start_tcp(*address)
        else:
            server.start_stdio(sys.stdin.buffer, protocol_out)
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m server.lsp`."""
    parser = argparse.ArgumentParser(prog="python -m server.lsp", description="versprochen-Sprachserver")
    add_arguments(parser)
    return run(parser.parse_args(argv))
