"""Every `--help`: each option has a description and says what happens without it."""

from __future__ import annotations

import argparse

import pytest

from soketler.cli import build_parser, subcommand_parsers

PARSERS = subcommand_parsers(build_parser())


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        action
        for action in parser._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction)
    ]


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_option_is_described_with_its_default(name: str) -> None:
    parser = PARSERS[name]
    text = parser.format_help()
    for action in options(parser):
        assert action.help, f"{name} {action.option_strings[0]} has no description"
        if action.nargs == 0:
            continue  # a flag: off unless given
        help_text = parser._get_formatter()._expand_help(action)
        assert "default" in help_text.lower(), f"{name} {action.option_strings[0]}: {help_text}"
    assert "%(" not in text


def test_a_default_is_shown_once_and_as_the_value_used() -> None:
    for name, parser in PARSERS.items():
        for action in options(parser):
            help_text = parser._get_formatter()._expand_help(action).lower()
            assert help_text.count("default") <= 1, (name, help_text)
    serve = " ".join(PARSERS["serve"].format_help().split())
    assert "(default 4096)" in serve  # --max-line, from the configuration's defaults
    assert serve.count("(default 20") == 3  # --replay, --burst, --max-per-address
    listen = " ".join(PARSERS["listen"].format_help().split())
    assert "(default: auto)" not in listen  # --loop says what auto means instead


def test_building_the_parser_imports_no_generator_and_no_tool() -> None:
    # `soketler --help` stays fast: completion and man page writers load only when asked.
    import subprocess
    import sys

    code = (
        "import sys; from soketler.cli import build_parser; build_parser();"
        "print(sorted(m for m in sys.modules if m.startswith(('soketler.docgen', "
        "'soketler.tools.', 'soketler.client', 'asyncio', 'json'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20, check=True
    )
    assert done.stdout.strip() == "[]"
