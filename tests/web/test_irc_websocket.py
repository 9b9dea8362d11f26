"""IRC over WebSocket at /irc (the IRCv3 subprotocols), beside a telnet-style user."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from soketler.protocols.websocket import IRC_BINARY, IRC_TEXT, line_frames
from soketler.transport.server import ChatServer
from tests.e2e.lineclient import registered
from tests.web.test_door import lines_port, server, start_server, web_port  # noqa: F401

TIMEOUT = 10.0


async def next_line(ws: aiohttp.ClientWebSocketResponse, wanted: str) -> str:
    """Reads messages until one holds `wanted`; each is one IRC line without CRLF."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                line = message.data
            elif message.type is aiohttp.WSMsgType.BINARY:
                line = message.data.decode()
            else:
                raise AssertionError(f"the WebSocket ended: {message!r}")
            assert "\r" not in line and "\n" not in line, line
            if wanted in line:
                return str(line)


@pytest.mark.parametrize("subprotocol", [IRC_TEXT, IRC_BINARY])
async def test_an_irc_client_over_websocket_talks_with_a_telnet_user(
    server: ChatServer,  # noqa: F811
    subprotocol: str,
) -> None:
    port = web_port(server)
    telnet = await registered("127.0.0.1", lines_port(server), "telnetci")
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(
            f"ws://127.0.0.1:{port}/irc",
            protocols=(subprotocol,),
            origin=f"http://127.0.0.1:{port}",
        ) as ws,
    ):
        assert ws.protocol == subprotocol
        binary = subprotocol == IRC_BINARY

        async def send(line: str) -> None:
            if binary:
                await ws.send_bytes(line.encode())
            else:
                await ws.send_str(line)

        await send("NICK webirc")
        await send("USER webirc 0 * :Web IRC")
        assert " 001 webirc " in await next_line(ws, " 001 ")
        await send("JOIN #lobby")
        await next_line(ws, " 366 ")
        await telnet.expect("webirc joined #lobby")
        telnet.send("merhaba websocket")
        said = await next_line(ws, "PRIVMSG #lobby")
        assert said.startswith(":telnetci!") and said.endswith(":merhaba websocket")
        await send("PRIVMSG #lobby :ve IRC'den selam")
        await telnet.expect("<webirc> ve IRC'den selam")
        await send("QUIT :bye")
        assert (await next_line(ws, "ERROR")).startswith("ERROR")
    await telnet.expect("webirc quit")
    await telnet.close()


def test_irc_lines_become_one_message_each() -> None:
    frames = line_frames(b":a PRIVMSG #x :one\r\n:a PRIVMSG #x :two\r\n")
    assert frames == b"\x81\x12:a PRIVMSG #x :one\x81\x12:a PRIVMSG #x :two"
    assert line_frames(b"PING :x\r\n", 0x2) == b"\x82\x07PING :x"
