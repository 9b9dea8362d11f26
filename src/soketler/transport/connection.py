"""A client on a stream socket (TCP or Unix): an asyncio protocol around the pump."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from typing import TYPE_CHECKING, Any, cast

from soketler.transport.pump import Pump

if TYPE_CHECKING:
    from soketler.core.config import Limits

# The transport calls pause_writing() when its buffer passes WRITE_HIGH bytes (the
# client is behind) and resume_writing() when it is down to WRITE_LOW.
WRITE_HIGH = 64 * 1024
WRITE_LOW = 16 * 1024


# Linux copies TCP keepalive settings from a listening socket to the sockets it accepts.
KEEPALIVE_INHERITED = sys.platform.startswith("linux")
KEEPALIVE_PROBES = 4


def set_keepalive(sock: socket.socket | Any, limits: Limits) -> None:
    """After `idle_timeout` of silence the kernel asks the peer a few times over
    `ping_timeout`, and a peer that never answers is gone (and its nickname free)
    without a word from us. For TCP sockets (listening or connected); others are left."""
    if limits.idle_timeout <= 0 or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    if hasattr(socket, "TCP_KEEPIDLE"):  # Linux; elsewhere the system's own timing
        options += [
            (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, max(1, int(limits.idle_timeout))),
            (
                socket.IPPROTO_TCP,
                socket.TCP_KEEPINTVL,
                max(1, int(limits.ping_timeout / KEEPALIVE_PROBES)),
            ),
            (socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES),
        ]
    with contextlib.suppress(OSError):
        for level, option, value in options:
            sock.setsockopt(level, option, value)


class ChatConnection(Pump, asyncio.Protocol):
    """An asyncio protocol, and through its pump the hub's `Peer` for this client."""

    __slots__ = ()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, so no isinstance check.
        stream = cast(asyncio.Transport, transport)
        if self.start(stream, self.server.address_of(stream)):
            stream.set_write_buffer_limits(WRITE_HIGH, WRITE_LOW)
            if self.door.probe is None:
                self._keep_alive(stream)

    def _keep_alive(self, stream: asyncio.Transport) -> None:
        """For doors that cannot ask a client whether it is there: the kernel asks
        (see `keepalive_options`). On Linux the listening socket has the options and
        every accepted socket inherits them: nothing to do here, and no socket object
        made for it (uvloop keeps the one it makes: 72 bytes per idle connection)."""
        if KEEPALIVE_INHERITED:
            return
        sock = stream.get_extra_info("socket")
        if sock is not None:
            set_keepalive(sock, self.limits)

    def data_received(self, data: bytes) -> None:
        self.feed(data)

    def eof_received(self) -> bool:
        self.feed_eof()
        return True  # keep the transport open: we close it once the replies are out

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost(exc)
