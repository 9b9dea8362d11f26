"""A raw socket IRC client for tests: lines out, parsed messages in, with timeouts."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from types import TracebackType

from soketler.protocols.irc.message import Message
from soketler.protocols.irc.receiver import IrcReceiver, Received

READ_TIMEOUT = 10.0


class RawIrcClient:
    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=READ_TIMEOUT)
        self.receiver = IrcReceiver(max_line_content=1 << 16)  # a server's lines may be long
        self.seen: list[Message] = []

    def __enter__(self) -> RawIrcClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.sock.close()

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def wait_for(self, match: Callable[[Message], bool], timeout: float = READ_TIMEOUT) -> Message:
        """The first message from now on that matches (answering PINGs meanwhile)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.receiver.events_received():
                if not isinstance(event, Received):
                    continue
                message = event.message
                self.seen.append(message)
                if message.command == "PING":
                    self.send(f"PONG :{message.params[0] if message.params else ''}")
                if match(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching message in {timeout} s; saw {self.seen[-5:]}")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            self.receiver.receive_data(data)

    def register(self, nick: str) -> None:
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :{nick}")
        self.wait_for(lambda m: m.command in ("376", "422"))
