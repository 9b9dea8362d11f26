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
from soketler.commands.parser import HelpFormatter, SubcommandParser

# Order here is the order in `soketler --help`.
COMMAND_MODULES = (
    "soketler.commands.serve",
    "soketler.commands.chat",
    "soketler.commands.user",
    "soketler.commands.tools",
    "soketler.commands.completion",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soketler",
        description="A socket toolkit: a multi-user chat server, a terminal chat client "
        "and netcat-style tools.",
        formatter_class=HelpFormatter,
        epilog="Run 'soketler COMMAND --help' for the options and examples of a command.",
    )
    parser.add_argument("--version", action="version", version=f"soketler {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=SubcommandParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def subcommand_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's parser by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # argparse leaves these to the top level, whose usage would not help: the
        # subcommand's does, with its hints.
        subcommand = subcommand_parsers(parser).get(getattr(args, "command", None) or "")
        (subcommand or parser).error(f"unrecognized arguments: {' '.join(extras)}")
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
