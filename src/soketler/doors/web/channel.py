"""One browser's WebSocket as a door sees it: text frames in, text frames out, a close.

A door is given a `Channel` and keeps it for as long as it likes; returning from the
door ends the connection. `send` never waits: like every peer of the hub, it appends
to a queue that a writer task drains, so delivering to a room of thousands is a loop of
appends. A reader that lets more than `sendq` characters pile up is cut off, and
nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Protocol

from aiohttp import WSMsgType, web

from soketler.metrics import Counter

# Close codes (RFC 6455 section 7.4.1, and the IANA registry for 1012/1013).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001  # the server is shutting down
CLOSE_UNSUPPORTED = 1003  # a binary frame: this protocol is text
CLOSE_POLICY = 1008  # SendQ exceeded, flood: the peer broke a rule
CLOSE_TOO_BIG = 1009  # a frame over the size limit
CLOSE_INTERNAL = 1011  # our bug; the peer learns nothing more
CLOSE_RESTART = 1012  # the chat server behind the door is restarting
CLOSE_TRY_LATER = 1013  # the chat server behind the door is not reachable now

# A close frame's reason is at most 123 bytes (RFC 6455 section 5.5); a longer one
# (a quit message, say) is cut at a character boundary.
MAX_REASON = 123

# Reasons sent with a close.
TEXT_ONLY = "text frames only"
SENDQ_EXCEEDED = "SendQ exceeded"
INTERNAL_ERROR = "internal error"
SHUTTING_DOWN = "server shutting down"


class Channel(Protocol):
    """What a door gets for each WebSocket."""

    @property
    def address(self) -> str:
        """The peer's IP address."""

    @property
    def closed(self) -> bool:
        """Closing has begun, by either side: further sends are dropped."""

    @property
    def queued(self) -> int:
        """Characters sent but not yet taken by the network: the reader's SendQ."""

    def send(self, text: str) -> None:
        """Queues one text frame; never waits."""

    async def receive(self) -> str | None:
        """The next text frame, or None once the connection is over."""

    def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Sends what is queued, then the close frame with `code`; never waits."""


class WebSocketChannel:
    """`Channel` over an aiohttp WebSocketResponse."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        address: str,
        sendq: int,
        transport: asyncio.Transport | None,
        received: Counter | None = None,
        sent: Counter | None = None,
    ) -> None:
        self._ws = ws
        self._address = address
        self._sendq = sendq  # 0: no limit
        self._transport = transport
        self._queue: deque[str] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._closing: tuple[int, str] | None = None
        self._ended = False  # receive() has reported the end
        self._received = received
        self._sent = sent
        self._writer = asyncio.get_running_loop().create_task(self._write())

    @property
    def address(self) -> str:
        return self._address

    @property
    def closed(self) -> bool:
        return self._closing is not None or self._ws.closed

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def close_code(self) -> int | None:
        """The code the connection closed with, once it has (None: no close frame)."""
        return self._ws.close_code

    def send(self, text: str) -> None:
        if self._closing is not None:
            return
        self._queue.append(text)
        self._queued += len(text)
        if self._sendq and self._queued > self._sendq:
            self._cut_off()
            return
        self._wake.set()

    async def receive(self) -> str | None:
        while not self._ended:
            message = await self._ws.receive()
            if message.type is WSMsgType.TEXT:
                if self._received is not None:
                    self._received.inc()
                return str(message.data)
            if message.type is WSMsgType.BINARY:
                self.close(CLOSE_UNSUPPORTED, TEXT_ONLY)
            # CLOSE, CLOSING, CLOSED, ERROR (aiohttp has already answered an oversize
            # frame with 1009): the connection is over.
            self._ended = True
        return None

    def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        if self._closing is None:
            fitted = reason.encode()[:MAX_REASON].decode("utf-8", "ignore")
            self._closing = (code, fitted)
            self._wake.set()

    def _cut_off(self) -> None:
        # The reader takes nothing, so a close frame would only queue behind the rest:
        # reset the connection, and the kernel frees what it holds for it.
        self._queue.clear()
        self._queued = 0
        self._closing = (CLOSE_POLICY, SENDQ_EXCEEDED)
        if self._transport is not None:
            self._transport.abort()
        self._wake.set()

    async def _write(self) -> None:
        ws = self._ws
        with contextlib.suppress(ConnectionError):
            while True:
                while self._queue:
                    text = self._queue.popleft()
                    self._queued -= len(text)
                    await ws.send_str(text)  # waits only when aiohttp's buffer is full
                    if self._sent is not None:
                        self._sent.inc()
                if self._closing is not None:
                    break
                self._wake.clear()
                await self._wake.wait()
            code, reason = self._closing
            await ws.close(code=code, message=reason.encode())

    async def finish(self, timeout: float) -> None:
        """Closes (normally, unless a code was given) and waits for the writer: at most
        `timeout` seconds, after which a peer that takes nothing is reset."""
        self.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), timeout)
        except TimeoutError:
            if self._transport is not None:
                self._transport.abort()
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await self._writer
