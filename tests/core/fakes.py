"""People for hub tests: a fake peer that keeps what the hub writes, no sockets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from soketler.core.hub import Hub
from soketler.doors import lines
from soketler.protocols.connection import ServerConnection

FIXED = datetime(2026, 11, 23, 20, 15, tzinfo=UTC)
HHMM = FIXED.astimezone().strftime("%H:%M")


def fixed_clock() -> datetime:
    return FIXED


class FakePeer:
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed: str | None = None
        self.after_close = bytearray()  # a transport drops these; kept to look at
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        if self.closed is not None:
            self.after_close += data
        else:
            self.data += data

    def close(self, reason: str) -> None:
        self.closed = reason


class Person:
    """A client of the hub, typing lines through the real protocol parser."""

    def __init__(self, hub: Hub, nick: str | None = None, *, json_lines: bool = False) -> None:
        self.hub = hub
        self.peer = FakePeer()
        self.conn = ServerConnection()
        self.session = lines.open_session(hub, self.peer, "127.0.0.1")
        if nick is not None:
            if json_lines:
                self.send({"type": "hello", "nick": nick})
            else:
                self.type(nick)
            assert self.session.nick == nick, self.text()
            self.take()

    def type(self, line: str) -> None:
        self.conn.receive_data(line.encode() + b"\r\n")
        self.session.codec = self.conn.codec
        for event in self.conn.events_received():
            lines.handle(self.hub, self.session, event)

    def send(self, obj: dict[str, Any]) -> None:
        self.type(json.dumps(obj))

    def take(self) -> bytes:
        data = bytes(self.peer.data)
        self.peer.data.clear()
        return data

    def text(self) -> str:
        return self.take().decode()

    def lines(self) -> list[str]:
        return self.text().splitlines()

    def objects(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.take().splitlines() if line.startswith(b"{")]
