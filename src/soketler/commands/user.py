"""`soketler user`: accounts in the server's database (arguments only)."""

from __future__ import annotations

import argparse
from typing import Any

EPILOG = """\
The password is asked for twice on a terminal; from a pipe, the first line of stdin
is the password. Accounts live in the history database (--db, default: the one
`soketler serve` uses); a running server sees changes within 5 s (at once after
kill -HUP).

examples:
  soketler user add ayşe
  printf '%s\\n' "$PASSWORD" | soketler user passwd ayşe
  soketler user list
  soketler user del ayşe
  soketler user hash              a hash for the config file (operators, server password)

exit status:
  0  done   1  no such account, or it exists already   2  bad name or password
  11 the database cannot be used
"""


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "user",
        help="add, remove and list accounts (registered nicknames)",
        description="Manage accounts: nicknames that only their owner may use, "
        "with scrypt-hashed passwords.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "action", choices=("add", "del", "passwd", "list", "hash"), help="what to do"
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="the account (a nickname)")
    parser.add_argument(
        "--db", metavar="PATH", help="SQLite file (default: the server's, in the data folder)"
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from soketler.security.usercli import run

    return run(args)
