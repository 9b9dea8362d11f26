"""A bot that answers `!time` with the time, in rooms and in private messages.

It uses the soketler client, so it runs with the Python that has soketler installed:
`make venv` once in the repository (or `pip install soketler`), then

    .venv/bin/python examples/time_bot.py                  # localhost:61000, #lobby
    .venv/bin/python examples/time_bot.py --join '#dev'
    make example NAME=time_bot ARGS="--port 7000 --join '#dev'"

It reconnects by itself when the server restarts, and rejoins its rooms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from datetime import datetime

try:
    from soketler.client import ChatClient, ChatMessage, ClientError, Disconnected, Reconnected
except ModuleNotFoundError as missing:
    if missing.name != "soketler":
        raise  # soketler is there but broken: that traceback is worth seeing
    sys.exit(
        "time_bot.py needs soketler: run `make venv` in the repository, then "
        "`.venv/bin/python examples/time_bot.py` (or `make example NAME=time_bot`)"
    )


def answer(event: ChatMessage, own_nick: str, now: datetime) -> str | None:
    """The reply to a message, or None. Kept apart from I/O so it is easy to test."""
    if event.sender == own_nick or event.text.strip().casefold() != "!time":
        return None
    return f"{event.sender}: it is {now:%H:%M:%S} here ({now:%A %d %B %Y})."


async def run(host: str, port: int, nick: str, rooms: list[str]) -> None:
    async with ChatClient(host, port, nick=nick, rooms=rooms, reconnect=True) as chat:
        print(f"{chat.nick} is in {', '.join(chat.rooms)}; answering !time", flush=True)
        async for event in chat:
            match event:
                case ChatMessage() as message:
                    reply = answer(message, chat.nick, datetime.now().astimezone())
                    if reply is None:
                        continue
                    if message.to is not None:
                        await chat.msg(message.sender, reply)
                    else:
                        await chat.send(message.room, reply)
                case Disconnected(reason=reason):
                    print(f"connection lost ({reason}); reconnecting", flush=True)
                case Reconnected(rooms=back_in):
                    print(f"back in {', '.join(back_in)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Answers !time in soketler chat rooms.")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=61000)
    parser.add_argument("--nick", default="timebot")
    parser.add_argument("--join", action="append", default=[], metavar="#ROOM")
    args = parser.parse_args()
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a bot is stopped
            asyncio.run(run(args.host, args.port, args.nick, args.join))
    except ClientError as exc:  # no server there, nickname taken, ...: one line
        sys.exit(f"time_bot.py: {exc}")


if __name__ == "__main__":
    main()
