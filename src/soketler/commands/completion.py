"""`soketler completion SHELL`: a completion script (arguments only)."""

from __future__ import annotations

import argparse
from typing import Any

SHELLS = ("bash", "zsh", "fish")

EPILOG = """\
install:
  bash  soketler completion bash > ~/.local/share/bash-completion/completions/soketler
  zsh   soketler completion zsh > "${fpath[1]}/_soketler"   (a directory in $fpath)
  fish  soketler completion fish > ~/.config/fish/completions/soketler.fish
or for this shell only:  source <(soketler completion bash)
A wheel install puts all three, and the man page, under its prefix's share/.
"""


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print a script that completes soketler's commands, options and "
        "option values in SHELL.",
        epilog=EPILOG,
    )
    parser.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or fish")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from soketler.docgen.completion import script

    print(script(args.shell), end="")
    return 0
