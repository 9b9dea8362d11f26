"""Doors: the ways into the same rooms.

A door is three small things: its wire format in protocols/ (sans-I/O, bytes to
events), its session policy over the neutral hub (what a newcomer is greeted with, how
it registers, which replies it wants), and listener entries that transport/ opens. The
hub never asks which door a session came through; only a door's own module knows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from soketler.errors import SoketlerError
from soketler.protocols.events import Codec

if TYPE_CHECKING:
    from soketler.core.config import Listener, ServerConfig
    from soketler.core.hub import Hub
    from soketler.core.session import Peer, Session
    from soketler.transport.server import ChatServer


class DoorSetupError(SoketlerError):
    """A door cannot open its listener: a file or setting of its own is wrong (the
    message says which, for the person who runs the server)."""


class Listening(Protocol):
    """A door's own listener, as the server keeps it (asyncio.Server has all of it)."""

    @property
    def sockets(self) -> Sequence[Any]: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


class Receiver(Protocol):
    """A door's sans-I/O receiving side of one connection (DESIGN.md's protocol shape)."""

    def receive_data(self, data: bytes) -> None: ...

    def receive_eof(self) -> None: ...

    def events_received(self) -> Sequence[object]:
        """What the client asked for, each to be given to the door's `handle`."""

    def data_to_send(self) -> bytes: ...

    @property
    def codec(self) -> Codec | None:
        """How this client reads events, as far as its protocol has told; None when
        the door sets the session's codec itself."""


def plain_refusal(text: str) -> bytes:
    return f"!! {text}\r\n".encode()


@dataclass(frozen=True, slots=True)
class Door:
    name: str
    # A client connected (hub, its peer, its address, the server's configuration):
    # make its session and greet it.
    open_session: Callable[[Hub, Peer, str, ServerConfig], Session]
    # One request from a client of this door: one of its receiver's events.
    handle: Callable[[Hub, Session, object], None]
    # The receiving side of a new connection.
    new_receiver: Callable[[ServerConfig], Receiver]
    # Asks an idle client whether it is still there (IRC: PING); any byte it sends
    # answers. None: the door cannot ask (telnet and nc users would see the question),
    # and the kernel's TCP keepalive finds dead peers instead.
    probe: Callable[[Hub, Session], None] | None = None
    # Opens the door's listener itself, for a door whose connections a library accepts
    # (SSH, the browser's WebSocket behind HTTP); None: the server accepts TCP and Unix
    # connections with its own protocol.
    listen: Callable[[ChatServer, Listener], Awaitable[Listening]] | None = None
    # The one line a connection refused at the door (server full) gets before it closes.
    refusal_line: Callable[[str], bytes] = plain_refusal
