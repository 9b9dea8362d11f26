"""A client on a stream socket (TCP or Unix): an asyncio protocol around the pump."""

from __future__ import annotations

import asyncio
from typing import cast

from soketler.transport.pump import Pump

# The transport calls pause_writing() when its buffer passes WRITE_HIGH bytes (the
# client is behind) and resume_writing() when it is down to WRITE_LOW.
WRITE_HIGH = 64 * 1024
WRITE_LOW = 16 * 1024


class ChatConnection(Pump, asyncio.Protocol):
    """An asyncio protocol, and through its pump the hub's `Peer` for this client."""

    __slots__ = ()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, so no isinstance check.
        stream = cast(asyncio.Transport, transport)
        if self.start(stream, self.server.address_of(stream)):
            stream.set_write_buffer_limits(WRITE_HIGH, WRITE_LOW)

    def data_received(self, data: bytes) -> None:
        self.feed(data)

    def eof_received(self) -> bool:
        self.feed_eof()
        return True  # keep the transport open: we close it once the replies are out

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost(exc)
