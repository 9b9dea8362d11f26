"""`soketler chat`: picks the terminal screen or the pipe mode and maps failures to exit codes."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from soketler import exitcodes, loops
from soketler.client.backoff import Backoff
from soketler.client.chat_client import ChatClient
from soketler.client.errors import ClientError
from soketler.client.events import Event

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
    verbose: bool = False  # in a pipe: print what arrives, not only errors
    # At most 5 s between attempts: someone is waiting to chat, and learns that the
    # server is back within seconds (jitter still spreads a crowd's returns).
    backoff: Backoff = RECONNECT_BACKOFF

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ChatOptions:
        return cls(
            host=args.host,
            port=args.port,
            path=args.unix,
            nick=args.nick,
            rooms=tuple(args.join or ()),
            send=args.send,
            # https://no-color.org: any non-empty NO_COLOR turns colours off.
            color=not (args.no_color or os.environ.get("NO_COLOR")),
            reconnect=not args.no_reconnect,
            timeout=args.timeout,
            verbose=args.verbose,
        )

    def client(
        self,
        nick: str,
        on_event: Callable[[Event], None] | None = None,
        *,
        only_rooms: bool = False,
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
        )


def default_nick() -> str:
    """The login name, as the nickname to suggest (or to use when nobody can be asked)."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "guest"


def run(args: argparse.Namespace) -> int:
    options = ChatOptions.from_args(args)
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
