"""examples/time_bot.py, run as a program against a real server."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from soketler.client import ChatClient, ChatMessage, Joined
from soketler.core.config import Limits, ServerConfig
from soketler.transport.server import ChatServer

BOT = Path(__file__).parents[2] / "examples" / "time_bot.py"


@pytest.fixture
async def port() -> AsyncIterator[int]:
    server = ChatServer(ServerConfig(hosts=("127.0.0.1",), port=0, limits=Limits(rate=0)))
    await server.start()
    try:
        yield server.tcp_addresses[0][1]
    finally:
        await server.shutdown(grace=1.0)


async def next_message(client: ChatClient, sender: str) -> ChatMessage:
    async with asyncio.timeout(10):
        while True:  # bounded by the timeout
            event = await client.next_event()
            assert event is not None
            if isinstance(event, ChatMessage) and event.sender == sender:
                return event


async def test_the_bot_answers_time_in_rooms_and_in_private(port: int) -> None:
    async with ChatClient("127.0.0.1", port, nick="ayşe", rooms=["#dev"], rate=0) as ayse:
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            str(BOT),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--join",
            "#dev",
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(10):
                while not (  # bounded by the timeout
                    isinstance(event := await ayse.next_event(), Joined)
                    and event.nick == "timebot"
                    and event.room == "#dev"
                ):
                    pass
            await ayse.send("#dev", "what is the !time")  # not a command: no answer
            await ayse.send("#dev", "!time")
            reply = await next_message(ayse, "timebot")
            assert reply.room == "#dev"
            assert re.fullmatch(r"ayşe: it is \d\d:\d\d:\d\d here \(.+\)\.", reply.text)
            await ayse.msg("timebot", "!TIME")
            private = await next_message(ayse, "timebot")
            assert private.to == "ayşe" and private.text.startswith("ayşe: it is ")
        finally:
            bot.terminate()
            await asyncio.wait_for(bot.communicate(), 10)


def test_the_answer_is_only_for_the_command_and_never_for_itself() -> None:
    sys.path.insert(0, str(BOT.parent))
    try:
        import time_bot
    finally:
        sys.path.remove(str(BOT.parent))
    now = datetime(2026, 11, 23, 20, 15, 7, tzinfo=UTC)
    ask = ChatMessage(1, now, "bob", " !time ", room="#dev")
    assert time_bot.answer(ask, "timebot", now) == (
        "bob: it is 20:15:07 here (Monday 23 November 2026)."
    )
    assert (
        time_bot.answer(ChatMessage(2, now, "timebot", "!time", room="#dev"), "timebot", now)
        is None
    )
    assert time_bot.answer(ChatMessage(3, now, "bob", "time?", room="#dev"), "timebot", now) is None
