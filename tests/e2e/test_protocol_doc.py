"""docs/protocol.md's samples are what a real server sends, line for line."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soketler.core.config import ServerConfig
from soketler.transport.server import ChatServer
from tests.e2e.lineclient import LineClient, registered

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
CLOCK = re.compile(r"\b\d\d:\d\d\b")


def block_after(marker: str) -> list[str]:
    """The lines of the first ``` block after `marker` in the document."""
    start = DOC.index(marker)
    opening = DOC.index("```\n", start) + 4
    return DOC[opening : DOC.index("```", opening)].rstrip("\n").split("\n")


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    # A fresh server named HOST, as the document writes it, with history in memory.
    chat = ChatServer(ServerConfig(hosts=("127.0.0.1",), port=0, server_name="HOST"))
    await chat.start()
    try:
        yield chat
    finally:
        await chat.shutdown(grace=1.0)


async def test_the_plain_welcome_is_the_documented_one(server: ChatServer) -> None:
    port = server.tcp_addresses[0][1]
    others = [await registered("127.0.0.1", port, nick) for nick in ("bob", "민준")]
    on_connect, then = block_after("On connect:"), block_after("Then (here bob")
    client = await LineClient.connect("127.0.0.1", port)
    assert [await client.line() for _ in on_connect] == on_connect
    client.send("ayşe")
    got = [await client.line() for _ in then]
    assert [CLOCK.sub("20:15", line) for line in got] == then
    for each in (client, *others):
        await each.close()


def _without_times(obj: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in obj.items() if key != "time"}


async def test_the_json_example_is_what_the_server_says(server: ChatServer) -> None:
    port = server.tcp_addresses[0][1]
    bob = await registered("127.0.0.1", port, "bob")
    client = await LineClient.connect("127.0.0.1", port)
    await client.expect("Choose a nickname")
    for line in block_after("### Example"):
        side, _, text = line.partition(": ")
        if side == "C":
            client.send(text)
            continue
        got = await client.expect(lambda seen: seen.startswith("{"))
        assert _without_times(json.loads(got)) == _without_times(json.loads(text))
    await client.close()
    await bob.close()
