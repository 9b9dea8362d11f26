"""The argument parser every subcommand uses (argparse only, like the rest of this package).

Two things plain argparse does not do for a subcommand:
- a mistake in a subcommand's arguments is reported with that subcommand's usage, not
  the top-level one (argparse leaves unrecognized arguments to the top-level parser);
- an option people bring from another tool (nc's `-z`) gets a hint towards what does
  that here, beside the error.

`--help` shows each option's default: `HelpFormatter` adds `(default: X)` to every
option whose help does not already say what happens without it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

_IGNORED = re.compile(r"argument (-\w)(?:/\S+)?: ignored explicit argument '(.+)'")
# The words of a subcommand's command line -> lines of advice for a mistake in them.
Hinter = Callable[[Sequence[str]], list[str]]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written; each option's default after its help."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower() or not action.option_strings:
            return text
        default = action.default
        if default is None or default is argparse.SUPPRESS or isinstance(default, bool):
            return text  # a flag, or an option whose help says what its absence means
        shown = ", ".join(map(str, default)) if isinstance(default, list | tuple) else default
        # Escaped: argparse formats help strings with %-interpolation.
        return f"{text} (default: {str(shown).replace('%', '%%')})".lstrip()


class SubcommandParser(argparse.ArgumentParser):
    """An ArgumentParser that remembers its words, so that errors can give hints."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.hinter: Hinter | None = None
        self.given: list[str] = []

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self.given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        combined = _IGNORED.fullmatch(message)
        if combined:
            # "-vz": argparse took -v and calls the unknown rest "ignored"; name it.
            option, rest = combined.groups()
            message = f"unrecognized arguments: -{rest[0]} (in {option}{rest})"
        self.print_usage(sys.stderr)
        hints = self.hinter(self.given) if self.hinter is not None else []
        lines = [f"{self.prog}: error: {message}", *(f"hint: {hint}" for hint in hints)]
        self.exit(2, "\n".join(lines) + "\n")


def short_flags(words: Sequence[str]) -> list[str]:
    """Every single-letter option in `words`, combined ones split: `-nvz` -> -n, -v, -z.

    Stops at `--`, after which nothing is an option.
    """
    flags: list[str] = []
    for word in words:
        if word == "--":
            break
        if len(word) > 1 and word[0] == "-" and word[1] != "-":
            flags.extend(f"-{letter}" for letter in word[1:] if letter.isalpha())
    return flags
