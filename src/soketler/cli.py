"""The `soketler` command line.

Each subcommand's arguments live in a small module under `soketler.commands`; those
modules import only argparse, and each subcommand imports its real implementation
(asyncio, uvloop, prompt_toolkit) only when it runs. That keeps `soketler --help`
and `soketler --version` fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from soketler import __version__

# Order here is the order in `soketler --help`.
COMMAND_MODULES = (
    "soketler.commands.serve",
    "soketler.commands.chat",
    "soketler.commands.user",
    "soketler.commands.tools",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soketler",
        description="A socket toolkit: a multi-user chat server, a terminal chat client "
        "and netcat-style tools.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'soketler COMMAND --help' for the options and examples of a command.",
    )
    parser.add_argument("--version", action="version", version=f"soketler {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        code: int = handler(args)
    except KeyboardInterrupt:
        # Ctrl-C is how people stop a command-line tool: no traceback.
        return 130
    except BrokenPipeError:
        # `soketler ... | head` closed our stdout: that is the reader's choice, not an error.
        sys.stderr.close()
        return 0
    return code
