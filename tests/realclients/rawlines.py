"""A raw socket telnet/nc user for tests: plain lines out, lines in, with timeouts.
Lines end as telnet ends them (CR LF), or with `ending=b"\n"` as nc does."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from types import TracebackType

from soketler.protocols.connection import TELNET_BINARY

READ_TIMEOUT = 10.0


class RawLines:
    def __init__(self, host: str, port: int, *, ending: bytes = b"\r\n") -> None:
        self.sock = socket.create_connection((host, port), timeout=READ_TIMEOUT)
        self.ending = ending
        self.buffer = b""
        self.seen: list[str] = []

    def __enter__(self) -> RawLines:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.sock.close()

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + self.ending)

    def expect(self, match: str | Callable[[str], bool], timeout: float = READ_TIMEOUT) -> str:
        """The first line from now on that contains `match` (or satisfies it)."""
        test = match if callable(match) else (lambda line: match in line)
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\n", 1)
                line = raw.replace(TELNET_BINARY, b"").decode("utf-8", "replace").rstrip("\r")
                self.seen.append(line)
                if test(line):
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line matching {match!r}; saw {self.seen[-5:]}")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"the server closed the connection; saw {self.seen[-5:]}")
            self.buffer += data

    def register(self, nick: str) -> None:
        self.expect("Choose a nickname")
        self.send(nick)
        self.expect(lambda line: line.startswith("-- #lobby ("))
