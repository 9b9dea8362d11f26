"""`soketler chat`: the terminal chat client (arguments only)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "chat", help="terminal chat client for a soketler server"
    )
    parser.add_argument("host", nargs="?", default="localhost")
    parser.add_argument("port", nargs="?", type=int, default=61000)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from soketler.client.app import run

    return run(args)
