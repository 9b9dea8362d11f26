"""A door for tests only: each WebSocket relayed to a real `soketler serve` over TCP.

Until the hub gives the browser door its own sessions, this lets the page be driven
end to end against the real server: every text frame becomes one JSON line to the
server, every JSON line from the server one text frame. The server's plain greeting
(sent before it knows the flavour) is not JSON and is dropped, as protocol.md tells
a JSON client to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from soketler.doors.web.app import Door
from soketler.doors.web.channel import CLOSE_RESTART, CLOSE_TRY_LATER, Channel

ONE_OBJECT_PER_FRAME = {
    "type": "error",
    "code": "bad-request",
    "text": "A frame holds one JSON object on one line.",
}


def tcp_bridge(host: str, port: int) -> Door:
    async def door(channel: Channel) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        except OSError:
            channel.close(CLOSE_TRY_LATER, "chat server unreachable")
            return

        async def to_server() -> None:
            while (text := await channel.receive()) is not None:
                if "\n" in text or "\r" in text:  # would be two lines to the server
                    channel.send(json.dumps(ONE_OBJECT_PER_FRAME))
                    continue
                writer.write(text.encode() + b"\n")

        async def to_browser() -> None:
            while line := await reader.readline():
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                if text.startswith("{"):
                    channel.send(text)
            channel.close(CLOSE_RESTART, "chat server went away")

        tasks = {asyncio.create_task(to_server()), asyncio.create_task(to_browser())}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await task
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    return door
