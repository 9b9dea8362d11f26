"""The command line as data: what completion scripts and the man page are made from."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

# Option values that name files: completed as paths.
_PATH_METAVARS = frozenset({"PATH", "FILE"})


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]  # long ones first
    help: str
    metavar: str | None  # None: a flag that takes no value
    choices: tuple[str, ...] = ()
    files: bool = False


@dataclass(frozen=True)
class Positional:
    name: str
    help: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    name: str  # "" for the top level
    summary: str  # the one line in `soketler --help`
    description: str
    usage: tuple[str, ...]  # one line per form (`connect HOST PORT`, `connect -U PATH`)
    options: tuple[Option, ...]
    positionals: tuple[Positional, ...]
    epilog: str


def _option(parser: argparse.ArgumentParser, action: argparse.Action) -> Option:
    help_text = parser._get_formatter()._expand_help(action) if action.help else ""
    flags = tuple(sorted(action.option_strings, key=lambda flag: (not flag.startswith("--"), flag)))
    if action.nargs == 0:
        return Option(flags, help_text, None)
    choices = tuple(str(choice) for choice in action.choices or ())
    if isinstance(action.metavar, str):
        metavar = action.metavar
    else:  # as argparse shows it
        metavar = "{" + ",".join(choices) + "}" if choices else action.dest.upper()
    return Option(flags, help_text, metavar, choices, metavar in _PATH_METAVARS)


def command(parser: argparse.ArgumentParser, name: str, summary: str) -> Command:
    options: list[Option] = []
    positionals: list[Positional] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            options.append(_option(parser, action))
        else:
            shown = action.metavar if isinstance(action.metavar, str) else action.dest
            choices = tuple(str(choice) for choice in action.choices or ())
            positionals.append(Positional(shown, action.help or "", choices))
    forms: list[str] = []
    for line in parser.format_usage().removeprefix("usage: ").splitlines():
        words = " ".join(line.split())
        if words.startswith("soketler") or not forms:
            forms.append(words)
        elif words:
            forms[-1] += " " + words  # argparse wrapped a long usage
    return Command(
        name,
        summary,
        parser.description or "",
        tuple(forms),
        tuple(options),
        tuple(positionals),
        parser.epilog or "",
    )


def describe(parser: argparse.ArgumentParser) -> tuple[Command, list[Command]]:
    """The top level and each subcommand, in `soketler --help` order."""
    top = command(parser, "", parser.description or "")
    subcommands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                subcommands.append(command(sub, name, summaries.get(name, "")))
    return top, subcommands
