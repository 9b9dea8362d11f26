"""The blocking wrapper, for scripts without asyncio."""

from __future__ import annotations

import asyncio

import pytest

from soketler.client import ChatMessage, Error, NickRejected, RequestFailed, SyncChatClient
from tests.client.conftest import Connect, next_matching


async def test_a_script_sends_and_receives_without_asyncio(connect: Connect, port: int) -> None:
    bob = await connect("bob", rooms=["#ops"])

    def script() -> tuple[str, ChatMessage]:
        with SyncChatClient("127.0.0.1", port, nick="cron", rate=0) as chat:
            room = chat.join("#ops")
            chat.send(room, "backup done")
            assert set(chat.who("#ops").users) == {"bob", "cron"}
            chat.ping()
            # bob answers once he has read ours; receive() waits for it.
            while True:  # bounded by receive's timeout
                event = chat.receive(timeout=5)
                if isinstance(event, ChatMessage) and event.sender == "bob":
                    return room, event

    running = asyncio.create_task(asyncio.to_thread(script))
    await next_matching(bob, lambda e: isinstance(e, ChatMessage) and e.text == "backup done")
    await bob.send("#ops", "thanks")
    room, reply = await asyncio.wait_for(running, 10)
    assert room == "#ops"
    assert reply.text == "thanks"


async def test_errors_and_timeouts_surface_as_exceptions(connect: Connect, port: int) -> None:
    await connect("bob")

    def script() -> None:
        with pytest.raises(NickRejected):
            SyncChatClient("127.0.0.1", port, nick="bob").connect()
        with SyncChatClient("127.0.0.1", port, nick="carol", rate=0) as chat:
            with pytest.raises(RequestFailed):
                chat.join("bad room name")
            error = chat.receive(timeout=5)
            while not isinstance(error, Error):  # bounded by receive's timeout
                error = chat.receive(timeout=5)
            assert error.code == "room-invalid"  # the stream carries it too
            with pytest.raises(TimeoutError):
                while True:  # the queue runs dry, then receive times out
                    chat.receive(timeout=0.3)

    await asyncio.wait_for(asyncio.to_thread(script), 10)


def test_calls_before_connecting_are_refused() -> None:
    chat = SyncChatClient("127.0.0.1", 1, nick="x")
    with pytest.raises(RuntimeError, match="not connected"):
        chat.send(None, "hi")
    chat.close()  # closing an unconnected client is harmless
