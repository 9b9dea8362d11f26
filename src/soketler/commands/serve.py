"""`soketler serve`: the chat server (arguments only)."""

from __future__ import annotations

import argparse
from typing import Any

EXAMPLES = """\
examples:
  soketler serve                          all addresses, IPv4 and IPv6, port 61000
  soketler serve --host 127.0.0.1        this machine only
  soketler serve --unix /tmp/chat.sock    this Unix socket only, no TCP
  soketler serve --port 7000 --unix /tmp/chat.sock   TCP port 7000 and the socket
  telnet localhost 61000                  then chat; /help lists the commands
"""


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="run the multi-user chat server",
        description="Run the chat server: rooms and nicknames for telnet/nc users and "
        "JSON-lines clients.",
        epilog=EXAMPLES,
    )
    net = parser.add_argument_group("where to listen")
    net.add_argument(
        "--host",
        action="append",
        metavar="ADDR",
        help="address to listen on; repeatable (default: all addresses, IPv4 and IPv6)",
    )
    net.add_argument(
        "--port",
        "-p",
        type=int,
        default=None,
        help="TCP port (default 61000; with --unix alone, no TCP at all)",
    )
    net.add_argument(
        "--unix",
        metavar="PATH",
        help="listen on this Unix socket; alone it is the only listener "
        "(add --host or --port to listen on TCP too; default: no Unix socket)",
    )
    net.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="event loop (default: uvloop when installed)",
    )
    chat = parser.add_argument_group("chat")
    chat.add_argument(
        "--no-close-words",
        action="store_true",
        help="do not end a session on a line that is only bye/close/quit/q/kapat/exit",
    )
    chat.add_argument(
        "--server-name",
        metavar="NAME",
        help="name shown in the welcome line (default: this host's name)",
    )
    chat.add_argument(
        "--announce-limit",
        type=int,
        default=1000,
        metavar="N",
        help="announce joins, parts and quits only in rooms of up to N people "
        "(default 1000; 0: always)",
    )
    history = parser.add_argument_group("history")
    history.add_argument(
        "--db",
        metavar="PATH",
        help="SQLite file for history (default: in your user data folder); "
        "':memory:' keeps history only while the server runs",
    )
    history.add_argument(
        "--replay", type=int, default=20, metavar="N", help="messages shown on join; 0: none"
    )
    history.add_argument(
        "--retain-days",
        type=float,
        default=0,
        metavar="DAYS",
        help="days a message is kept; 0: forever",
    )
    history.add_argument(
        "--retain-messages",
        type=int,
        default=0,
        metavar="N",
        help="messages kept per room and private conversation; 0: no limit",
    )
    limits = parser.add_argument_group("limits (0 turns a limit off where noted)")
    limits.add_argument(
        "--max-line",
        type=int,
        default=4096,
        metavar="BYTES",
        help="longest line a client may send; longer ones are refused",
    )
    limits.add_argument(
        "--rate",
        type=float,
        default=5.0,
        metavar="LINES",
        help="lines a client may send per second; 0: off",
    )
    limits.add_argument(
        "--burst",
        type=int,
        default=20,
        metavar="LINES",
        help="lines a client may send at once before --rate applies",
    )
    limits.add_argument(
        "--flood-lines",
        type=int,
        default=50,
        metavar="LINES",
        help="lines waiting beyond the rate before 'Excess flood' disconnects",
    )
    limits.add_argument(
        "--sendq",
        type=int,
        default=1 << 20,
        metavar="BYTES",
        help="bytes waiting for a client that does not read before it is dropped",
    )
    limits.add_argument(
        "--max-clients", type=int, default=10_000, metavar="N", help="connections in all"
    )
    limits.add_argument(
        "--max-per-address",
        type=int,
        default=20,
        metavar="N",
        help="connections from one address; 0: off",
    )
    limits.add_argument(
        "--nick-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="time to choose a nickname before the connection is closed",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning"),
        help="how much the server logs on stderr",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from soketler.transport.serve import run_from_args

    return run_from_args(args)
