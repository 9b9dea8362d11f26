"""One browser's WebSocket as a client of the hub: a `Pump` over aiohttp's WebSocket.

Everything a TCP client is held to holds here, because it is the same pump: admission
(connections in all and per address), the rate limit and the flood rule, the SendQ
(counted in the transport's buffer), the server's output backlog, the nickname
timeout. What differs is the wire:

- Out: the codec's output is already whole WebSocket text frames, the same bytes for
  every reader (protocols/websocket.py), so the pump writes them to the connection's
  transport as it writes lines to a TCP socket: coalesced, one write per flush. aiohttp
  writes its own control frames (pong, ping, close) to the same transport, each whole
  in one call, so frames never interleave.
- In: aiohttp parses the frames; each text message is fed to the pump as one message
  for the door's receiver. Pausing reads the pump asks for (out of tokens, backlog)
  pauses the transport, so the kernel pushes back on the sender as on TCP.
- Closing: the hub's goodbye is written, then the closing handshake with a code that
  says why (docs/protocol.md). A reader dropped for its SendQ takes nothing, so a close
  frame could never reach it: it is reset, as on TCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSMessage, WSMsgType, web
from aiohttp.base_protocol import BaseProtocol

from soketler.core import texts
from soketler.protocols.events import Bye
from soketler.protocols.websocket import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TRY_LATER,
    CLOSE_UNSUPPORTED,
    IRC_BINARY,
    OPCODE_BINARY,
    OPCODE_TEXT,
    WEB_JSON,
    fit_reason,
    line_frames,
)
from soketler.transport.pump import Pump, Wire

if TYPE_CHECKING:
    from aiohttp.abc import AbstractStreamWriter

    from soketler.doors import Door
    from soketler.doors.web.app import SocketHandler
    from soketler.transport.server import ChatServer

log = logging.getLogger("soketler.web")

# As for TCP connections (transport/connection.py): past WRITE_HIGH bytes in the
# transport's buffer the client is behind, and counts in the server's backlog until
# its buffer is down to WRITE_LOW.
WRITE_HIGH = 64 * 1024
WRITE_LOW = 16 * 1024

# Why a connection ended, when the reason is the server's: said with its close code.
TEXT_ONLY = "Text frames only"
CLOSE_CODES = {
    texts.SERVER_SHUTDOWN: CLOSE_GOING_AWAY,
    texts.EXCESS_FLOOD: CLOSE_POLICY,
    texts.REGISTRATION_TIMEOUT: CLOSE_POLICY,
    texts.PING_TIMEOUT: CLOSE_POLICY,
    TEXT_ONLY: CLOSE_UNSUPPORTED,
}


class WebSocketWire:
    """The pump's `Wire` over one WebSocket: its transport for writing, pausing and
    resetting; aiohttp for the closing handshake."""

    __slots__ = ("_closer", "_protocol", "_transport", "_ws", "code", "reason")

    def __init__(
        self, ws: web.WebSocketResponse, transport: asyncio.Transport, protocol: BaseProtocol
    ) -> None:
        self._ws = ws
        self._transport = transport
        self._protocol = protocol
        self._closer: asyncio.Task[bool] | None = None
        # What the closing handshake says, set before the pump closes the wire.
        self.code = CLOSE_NORMAL
        self.reason = ""
        transport.set_write_buffer_limits(WRITE_HIGH, WRITE_LOW)

    def write(self, data: bytes) -> None:
        self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size()

    def is_closing(self) -> bool:
        # Nothing may follow a close frame, whichever side began closing.
        return self._closer is not None or self._ws.closed or self._transport.is_closing()

    @property
    def writing_paused(self) -> bool:
        """The transport's buffer is above its high-water mark (aiohttp's protocol is
        the one the transport tells)."""
        return self._protocol.writing_paused

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def close(self) -> None:
        """Starts the closing handshake (`code`, `reason`) after what was written."""
        if self._closer is None and not self._ws.closed:
            message = fit_reason(self.reason).encode()
            close = self._ws.close(code=self.code, message=message)
            self._closer = asyncio.get_running_loop().create_task(close)

    def abort(self) -> None:
        self._transport.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    async def closed(self) -> None:
        """Waits for a closing handshake this side began (bounded by aiohttp's close
        timeout, after which aiohttp drops the connection)."""
        if self._closer is not None:
            with contextlib.suppress(ConnectionError):
                await self._closer


class WebConnection(Pump):
    """A browser's WebSocket as a client of the hub, under every door's limits."""

    __slots__ = ("_drain", "_wire", "_writer", "_ws")

    def __init__(
        self,
        server: ChatServer,
        door: Door,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        protocol: BaseProtocol,
        writer: AbstractStreamWriter,
    ) -> None:
        super().__init__(server, door)
        self._ws = ws
        self._wire = WebSocketWire(ws, transport, protocol)
        self._writer = writer
        self._drain: asyncio.Task[None] | None = None

    @property
    def secure(self) -> bool:
        """Over HTTPS (the page then uses wss://)."""
        return self._wire.get_extra_info("sslcontext") is not None

    async def run(self, address: str) -> None:
        """Serves the WebSocket until it is over: its frames to the door, the door's
        answers back, then the closing handshake."""
        wire = self._wire
        if not self.start(wire, address):
            await wire.closed()
            return
        failure: Exception | None = None
        try:
            while self.take_message(await self._ws.receive()):
                pass
        except Exception as exc:  # the connection failed under aiohttp
            failure = exc
        finally:
            await wire.closed()
            if self._drain is not None:
                self._drain.cancel()
            self.lost(failure)

    def take_message(self, message: WSMessage) -> bool:
        """One message from the client; False once the WebSocket is over (CLOSE,
        CLOSING, CLOSED, ERROR: aiohttp has answered an oversize frame with 1009)."""
        if message.type is WSMsgType.TEXT:
            self.feed(message.data.encode("utf-8", "replace"))
        elif message.type is WSMsgType.BINARY:
            if self.session is not None:
                self.hub.close(self.session, TEXT_ONLY)
        else:
            return False
        return True

    # --- the pump's side ----------------------------------------------------------------

    def refuse(self, transport: Wire, refusal: str) -> None:
        """Not admitted: the reason as a goodbye, then a close saying to come later."""
        transport.write(WEB_JSON.encode(Bye(refusal)))
        self._wire.code, self._wire.reason = CLOSE_TRY_LATER, refusal
        self._wire.close()

    def close(self, reason: str = "") -> None:
        reason = reason or self.reason
        self._wire.code, self._wire.reason = CLOSE_CODES.get(reason, CLOSE_NORMAL), reason
        super().close(reason)

    def flush(self) -> None:
        super().flush()
        # A TCP connection learns from its transport that it fell behind; here aiohttp's
        # protocol is told, and the pump asks it after writing.
        wire = self._wire
        if not self._behind and not self._closing and wire.writing_paused and not wire.is_closing():
            self.pause_writing()
            buffered = wire.get_write_buffer_size()
            if buffered <= self.limits.sendq:
                self._count_unsent(buffered)
            self._drain = self.loop.create_task(self._caught_up())

    async def _caught_up(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()  # until the buffer is down to its low-water mark
        self._drain = None
        if not self._closing:
            self.resume_writing()


def socket_handler(server: ChatServer, door: Door) -> SocketHandler:
    """What make_app hands each WebSocket to: a connection of `door` on `server`."""

    async def handle(ws: web.WebSocketResponse, request: web.Request) -> None:
        transport = request.transport
        if transport is None:
            return  # gone before it could be served
        connection = WebConnection(server, door, ws, transport, request.protocol, request.writer)
        await connection.run(request.remote or "")

    return handle


class IrcWebConnection(WebConnection):
    """An IRC client over WebSocket (the IRCv3 WebSocket specification): the IRC door
    through the same pump, one IRC line per message each way, without its CRLF, in
    text or binary frames as the client's subprotocol says (text when it named none)."""

    __slots__ = ("_opcode",)

    def __init__(
        self,
        server: ChatServer,
        door: Door,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        protocol: BaseProtocol,
        writer: AbstractStreamWriter,
    ) -> None:
        super().__init__(server, door, ws, transport, protocol, writer)
        self._opcode = OPCODE_BINARY if ws.ws_protocol == IRC_BINARY else OPCODE_TEXT
        self._wire = IrcLinesWire(ws, transport, protocol, self._opcode)

    def take_message(self, message: WSMessage) -> bool:
        if message.type is WSMsgType.TEXT:
            self.feed(message.data.encode("utf-8", "replace") + b"\r\n")
        elif message.type is WSMsgType.BINARY:
            self.feed(bytes(message.data) + b"\r\n")
        else:
            return False
        return True

    def refuse(self, transport: Wire, refusal: str) -> None:
        transport.write(self.door.refusal_line(refusal))  # (framed by the wire)
        self._wire.code, self._wire.reason = CLOSE_TRY_LATER, refusal
        self._wire.close()


class IrcLinesWire(WebSocketWire):
    """The wire of an IRC client over WebSocket: the IRC codec's lines become
    messages as they are written (a cost per reader, not per event, which only the
    few IRC clients on WebSocket pay)."""

    __slots__ = ("_opcode",)

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        protocol: BaseProtocol,
        opcode: int,
    ) -> None:
        super().__init__(ws, transport, protocol)
        self._opcode = opcode

    def write(self, data: bytes) -> None:
        super().write(line_frames(data, self._opcode))


def irc_socket_handler(server: ChatServer, door: Door) -> SocketHandler:
    """What make_app hands each WebSocket at /irc to: an IRC client of `door`."""

    async def handle(ws: web.WebSocketResponse, request: web.Request) -> None:
        transport = request.transport
        if transport is None:
            return
        connection = IrcWebConnection(server, door, ws, transport, request.protocol, request.writer)
        await connection.run(request.remote or "")

    return handle
