"""`soketler chat`: picks the terminal screen or the pipe mode and maps failures to exit codes."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from soketler import exitcodes, loops
from soketler.client.backoff import Backoff
from soketler.client.chat_client import DEFAULT_PORT, DEFAULT_TLS_PORT, ChatClient
from soketler.client.errors import ClientError, ConnectFailed
from soketler.client.events import Event

if TYPE_CHECKING:
    from soketler.security.tls import ClientTls

_TLS_OPTIONS = (
    "tls",
    "insecure",
    "tls_fingerprint",
    "tls_ca",
    "tls_servername",
    "tls_cert",
    "tls_key",
)
RECONNECT_BACKOFF = Backoff(initial=1.0, maximum=5.0)


@dataclass(frozen=True, slots=True)
class ChatOptions:
    host: str
    port: int
    path: str | None
    nick: str | None
    rooms: tuple[str, ...]
    send: str | None
    color: bool
    reconnect: bool
    timeout: float
    tls: ClientTls | None = None
    password: str | None = field(default=None, repr=False)  # given in each hello
    verbose: bool = False  # in a pipe: print what arrives, not only errors
    # At most 5 s between attempts: someone is waiting to chat, and learns that the
    # server is back within seconds (jitter still spreads a crowd's returns).
    backoff: Backoff = RECONNECT_BACKOFF

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ChatOptions:
        """Raises ConnectFailed for TLS options that cannot be used (before connecting)."""
        tls = _tls(args)
        password = _password(args)
        default_port = DEFAULT_PORT if tls is None else DEFAULT_TLS_PORT
        return cls(
            host=args.host,
            port=args.port if args.port is not None else default_port,
            path=args.unix,
            nick=args.nick,
            rooms=tuple(args.join or ()),
            send=args.send,
            # https://no-color.org: any non-empty NO_COLOR turns colours off.
            color=not (args.no_color or os.environ.get("NO_COLOR")),
            reconnect=not args.no_reconnect,
            timeout=args.timeout,
            tls=tls,
            password=password,
            verbose=args.verbose,
        )

    def client(
        self,
        nick: str,
        on_event: Callable[[Event], None] | None = None,
        *,
        only_rooms: bool = False,
        replay: int | None = None,
    ) -> ChatClient:
        return ChatClient(
            self.host,
            self.port,
            path=self.path,
            nick=nick,
            rooms=self.rooms,
            reconnect=self.reconnect,
            backoff=self.backoff,
            connect_timeout=self.timeout,
            request_timeout=self.timeout,
            on_event=on_event,
            only_rooms=only_rooms,
            replay=replay,
            tls=self.tls,
            password=self.password,
        )


def _tls(args: argparse.Namespace) -> ClientTls | None:
    if not any(getattr(args, name, None) for name in _TLS_OPTIONS):
        return None
    from soketler.security.fingerprints import FingerprintError, parse_fingerprint
    from soketler.security.tls import TlsError, client_tls

    if args.tls_key is not None and args.tls_cert is None:
        raise ConnectFailed("--tls-key needs --tls-cert", exitcodes.USAGE)
    try:
        pinned = parse_fingerprint(args.tls_fingerprint) if args.tls_fingerprint else None
        return client_tls(
            ca_file=args.tls_ca,
            insecure=args.insecure,
            pinned=pinned,
            server_name=args.tls_servername,
            cert=args.tls_cert,
            key=args.tls_key,
        )
    except FingerprintError as exc:
        raise ConnectFailed(str(exc), exitcodes.USAGE) from None
    except TlsError as exc:
        raise ConnectFailed(exc.message, exc.exit_code) from None


def _password(args: argparse.Namespace) -> str | None:
    """The password to give in hello: from a file's first line, or asked for on the
    terminal (never from the command line, where `ps` would show it)."""
    path = getattr(args, "password_file", None)
    if path is not None:
        try:
            with open(path, encoding="utf-8") as file:
                return file.readline().rstrip("\r\n")
        except OSError as exc:
            raise ConnectFailed(f"cannot read {path}: {exc.strerror}", exitcodes.USAGE) from None
    if getattr(args, "ask_password", False):
        try:
            return getpass.getpass("Password: ")
        except (EOFError, KeyboardInterrupt):
            raise ConnectFailed("no password given", exitcodes.USAGE) from None
    return None


def default_nick() -> str:
    """The login name, as the nickname to suggest (or to use when nobody can be asked)."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "guest"


def run(args: argparse.Namespace) -> int:
    try:
        options = ChatOptions.from_args(args)
    except ClientError as exc:
        print(f"soketler chat: {exc}", file=sys.stderr)
        return exc.exit_code
    on_terminal = options.send is None and sys.stdin.isatty() and sys.stdout.isatty()

    async def main() -> int:
        if on_terminal:
            from soketler.client.interactive import run_interactive

            return await run_interactive(options)
        from soketler.client.piped import run_piped

        return await run_piped(options)

    try:
        return loops.run(main, args.loop)
    except ClientError as exc:
        print(f"soketler chat: {exc}", file=sys.stderr)
        return exc.exit_code
    except loops.LoopUnavailable as exc:
        print(f"soketler chat: {exc}", file=sys.stderr)
        return exitcodes.USAGE
