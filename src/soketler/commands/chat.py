"""`soketler chat`: the terminal chat client (arguments only)."""

from __future__ import annotations

import argparse
from typing import Any

EPILOG = """\
On a terminal: type to talk in the current room (shown in the prompt), /help for
commands, Tab to complete, Up/Down for earlier lines, Alt-1..9 to switch rooms,
Ctrl-C or Ctrl-D to leave. A pasted block goes out line by line (asked about first
above 5 lines). A lost connection is retried at most 5 s apart (Ctrl-R: at once),
and what you type meanwhile is sent once back.

Without a terminal (stdin is a pipe or a file) each stdin line is sent as if typed,
and the command exits once the server has handled every line. It prints nothing but
errors (on stderr), so cron mails nothing when all went well; -v prints what arrives
too. With --join it is in those rooms only.

examples:
  soketler chat                               localhost, port 61000; asks for a nickname
  soketler chat chat.example.org 7000 --nick ayşe --join '#dev'
  echo 'backup done' | soketler chat --nick cron --join '#ops'
  soketler chat --nick deploy --send 'v1.2 is live'
  soketler chat --tls chat.example.org        TLS on port 61001, certificate verified
  soketler chat --tls-fingerprint AB:CD:... localhost   a self-signed server, pinned

exit status:
  0  left normally; in a pipe: every line was delivered
  2  bad arguments
  3  no such host
  4  connection refused
  5  network unreachable
  6  timed out (connecting, or waiting for the server to answer)
  9  the server said no: nickname rejected (with its reason), server full, or,
     without a terminal, a line was refused (the reason is on stderr)
 10  the connection was lost (and --no-reconnect, or reconnecting gave up)
 12  TLS: the server's certificate was refused (untrusted, expired, wrong name or
     fingerprint), or the handshake failed; never retried by reconnecting
"""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {port}")
    return port


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "chat",
        help="terminal chat client for a soketler server",
        description="Chat on a soketler server from a terminal, or from a script.",
        epilog=EPILOG,
    )
    parser.add_argument("host", nargs="?", default="localhost", help="server (default localhost)")
    parser.add_argument(
        "port", nargs="?", type=_port, help="TCP port (default 61000; 61001 with TLS)"
    )
    parser.add_argument("--nick", "-n", metavar="NAME", help="nickname (default: asks, or $USER)")
    parser.add_argument(
        "--join",
        "-j",
        action="append",
        metavar="#ROOM",
        help="join a room after connecting; repeatable (the last one is current; "
        "default: #lobby, where the server puts everyone)",
    )
    parser.add_argument(
        "--send",
        "-s",
        metavar="TEXT",
        help="send one line (a message or /command) and exit (default: the lines of stdin, "
        "or what you type)",
    )
    parser.add_argument(
        "--unix",
        metavar="PATH",
        help="connect to a Unix socket instead (default: TCP to HOST PORT)",
    )
    parser.add_argument(
        "--no-color", action="store_true", help="no colours (also when NO_COLOR is set)"
    )
    parser.add_argument(
        "--no-reconnect", action="store_true", help="exit when the connection is lost"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="without a terminal: print what arrives too (by default only errors, on stderr)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="for connecting and for each answer from the server (default 10)",
    )
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="event loop (default: uvloop when installed)",
    )
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument(
        "--ask-password",
        action="store_true",
        help="ask for a password before connecting: a registered nickname's, or the "
        "server's (default: none is given)",
    )
    secret.add_argument(
        "--password-file",
        metavar="FILE",
        help="the password is the first line of FILE (default: none is given)",
    )
    tls = parser.add_argument_group(
        "TLS (any of these turns TLS on; the server's certificate and name are verified)"
    )
    tls.add_argument("--tls", action="store_true", help="speak TLS")
    trust = tls.add_mutually_exclusive_group()
    trust.add_argument(
        "--tls-fingerprint",
        metavar="SHA256",
        help="accept only the certificate with this SHA-256 fingerprint (self-signed "
        "servers; default: the certificate is verified against the system's authorities)",
    )
    trust.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="trust the authorities in FILE (PEM), not the system's (default: the system's)",
    )
    trust.add_argument(
        "--insecure", action="store_true", help="check no certificate (encrypted, to anyone)"
    )
    tls.add_argument(
        "--tls-servername", metavar="NAME", help="name to ask for (SNI) and verify (default: host)"
    )
    tls.add_argument(
        "--tls-cert", metavar="FILE", help="client certificate (PEM; default: none is offered)"
    )
    tls.add_argument("--tls-key", metavar="FILE", help="its key (default: in --tls-cert)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from soketler.client.app import run

    return run(args)
