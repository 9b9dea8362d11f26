"""A telnet/nc-style user on a raw socket: lines out, lines in, with timeouts."""

from __future__ import annotations

import socket
import time
from types import TracebackType

READ_TIMEOUT = 10.0


class PlainLineClient:
    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=READ_TIMEOUT)
        self.buffer = b""
        self.seen: list[str] = []

    def __enter__(self) -> PlainLineClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.sock.close()

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\n")  # as nc sends it: no CR

    def expect(self, text: str, timeout: float = READ_TIMEOUT) -> str:
        """Reads lines until one contains `text`; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\n", 1)
                line = raw.decode("utf-8", "replace").rstrip("\r")
                self.seen.append(line)
                if text in line:
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line with {text!r}; last lines: {self.seen[-5:]}")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"closed; last lines: {self.seen[-5:]}")
            self.buffer += data

    def register(self, nick: str) -> None:
        self.expect("Choose a nickname")
        self.send(nick)
        self.expect("You are in #lobby")
