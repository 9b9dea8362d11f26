"""A test client speaking the plain flavour over a real socket, with read timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable

from soketler.protocols.connection import TELNET_BINARY

TIMEOUT = 10.0


class LineClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.seen: list[str] = []  # every line read, for failure messages
        self.seen_nick = ""  # the nickname it registered, once it has

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        source: str | None = None,
        rcvbuf: int | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> LineClient:
        """A client; with `tls`, speaking TLS (the server name: localhost)."""
        options: dict[str, object] = {}
        if tls is not None:
            options = {"ssl": tls, "server_hostname": "localhost"}
        if source is None and rcvbuf is None:
            reader, writer = await asyncio.open_connection(host, port, limit=1 << 20, **options)  # type: ignore[arg-type]
            return cls(reader, writer)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source is not None:
            sock.bind((source, 0))
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
        except BaseException:
            sock.close()
            raise
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20, **options)  # type: ignore[arg-type]
        return cls(reader, writer)

    @classmethod
    async def unix(cls, path: str) -> LineClient:
        reader, writer = await asyncio.open_unix_connection(path, limit=1 << 20)
        return cls(reader, writer)

    def send(self, text: str | bytes, end: bytes = b"\n") -> None:
        data = text.encode() if isinstance(text, str) else text
        self.writer.write(data + end)

    async def line(self, timeout: float = TIMEOUT) -> str:
        try:
            raw = await asyncio.wait_for(self.reader.readline(), timeout)
        except ConnectionResetError:
            raw = b""
        if not raw:
            raise EOFError(f"connection closed; lines so far: {self.seen[-5:]}")
        # A client ending lines with CR is asked for telnet binary mode; not text.
        text = raw.replace(TELNET_BINARY, b"").decode("utf-8").rstrip("\r\n")
        self.seen.append(text)
        return text

    async def expect(self, match: str | Callable[[str], bool], timeout: float = TIMEOUT) -> str:
        """Reads lines until one contains `match` (or satisfies it); returns that line."""
        test = match if callable(match) else (lambda line: match in line)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no line matching {match!r}; last lines: {self.seen[-5:]}")
            line = await self.line(remaining)
            if test(line):
                return line

    async def register(self, nick: str) -> None:
        await self.expect("Choose a nickname")
        self.send(nick)
        await self.expect("You are in #lobby")
        self.seen_nick = nick
        await self.expect(lambda line: line.startswith("-- #lobby ("))

    async def closed(self, timeout: float = TIMEOUT) -> list[str]:
        """Reads until the server closes the connection; returns the lines read."""
        lines = []
        while True:
            try:
                lines.append(await self.line(timeout))
            except EOFError:
                return lines

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


async def registered(host: str, port: int, nick: str, **kwargs: object) -> LineClient:
    client = await LineClient.connect(host, port, **kwargs)  # type: ignore[arg-type]
    await client.register(nick)
    return client
