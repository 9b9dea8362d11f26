"""A test client speaking IRC over a real socket: lines out, parsed messages in, with
read timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable

from soketler.protocols.irc.message import Message
from soketler.protocols.irc.receiver import IrcReceiver, Received

TIMEOUT = 10.0
Match = Callable[[Message], bool]


def command(name: str, *params: str) -> Match:
    """A message with this command, and these first parameters if given."""
    return lambda m: m.command == name and m.params[: len(params)] == params


class IrcTestClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.receiver = IrcReceiver(max_line_content=1 << 16)  # a server's lines may be long
        self.pending: list[Message] = []
        self.seen: list[Message] = []  # everything read, for failure messages
        self.nick = ""

    @classmethod
    async def connect(
        cls, host: str, port: int, tls: ssl.SSLContext | None = None, source: str | None = None
    ) -> IrcTestClient:
        """A client (from the address `source`, if given); with `tls`, speaking TLS (the
        server name: localhost)."""
        local = (source, 0) if source is not None else None
        if tls is None:
            reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        else:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=tls, server_hostname="localhost", local_addr=local
            )
        return cls(reader, writer)

    def send(self, *lines: str) -> None:
        self.writer.write(b"".join(line.encode() + b"\r\n" for line in lines))

    async def message(self, timeout: float = TIMEOUT) -> Message:
        """The next message (EOFError once the server has closed)."""
        while not self.pending:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), timeout)
            except ConnectionResetError:
                data = b""
            if not data:
                raise EOFError(f"connection closed; last messages: {self.last()}")
            self.receiver.receive_data(data)
            self.pending += [
                e.message for e in self.receiver.events_received() if isinstance(e, Received)
            ]
        message = self.pending.pop(0)
        self.seen.append(message)
        return message

    def last(self) -> list[str]:
        return [m.to_line() for m in self.seen[-6:]]

    async def expect(self, match: Match, timeout: float = TIMEOUT) -> Message:
        """Reads until a message matches; returns it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no matching message; last messages: {self.last()}")
            try:
                message = await self.message(remaining)
            except TimeoutError:
                raise TimeoutError(f"no matching message; last messages: {self.last()}") from None
            if match(message):
                return message

    async def until(self, match: Match, timeout: float = TIMEOUT) -> list[Message]:
        """Every message up to and including the first that matches."""
        got: list[Message] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.message(max(0.01, deadline - loop.time()))
            got.append(message)
            if match(message):
                return got

    async def sync(self, token: str = "sync") -> list[Message]:
        """What the server sent before it answered a PING (the server's order is one
        queue: everything said to us before the PING comes before the PONG)."""
        self.send(f"PING {token}")
        got = await self.until(command("PONG"))
        return got[:-1]

    async def register(self, nick: str, *caps: str) -> list[Message]:
        if caps:
            self.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
        self.send(f"NICK {nick}", f"USER {nick} 0 * :{nick} the tester")
        if caps:
            self.send("CAP END")
        got = await self.until(lambda m: m.command in ("376", "422"))
        self.nick = nick
        return got

    async def closed(self, timeout: float = TIMEOUT) -> list[Message]:
        """Reads until the server closes the connection; returns what it read."""
        got: list[Message] = []
        while True:
            try:
                got.append(await self.message(timeout))
            except EOFError:
                return got

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
