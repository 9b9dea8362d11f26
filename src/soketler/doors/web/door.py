"""The browser door: the JSON-lines flavour of the lines door, over a WebSocket.

Its policy is the lines door's, through the same command table (doors/lines/): the
first message is `hello`, everyone starts in #lobby with its last messages, the last
room cannot be left. What is its own: no greeting (a page knows what to send, and a
plain greeting is not JSON), frames in and out (protocols/websocket.py), and its
listener, an HTTP server that also serves the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soketler.doors import Door
from soketler.doors.lines import handle
from soketler.protocols.websocket import WEB_JSON, FrameReceiver

if TYPE_CHECKING:
    from soketler.core.config import Listener, ServerConfig
    from soketler.core.hub import Hub
    from soketler.core.session import Peer, Session
    from soketler.doors import Listening
    from soketler.transport.server import ChatServer

NAME = "web"


def open_session(hub: Hub, peer: Peer, address: str, config: ServerConfig) -> Session:
    """A browser connected: it is not greeted; its first message is its hello."""
    return hub.open(peer, address, NAME, WEB_JSON)


def new_receiver(config: ServerConfig) -> FrameReceiver:
    return FrameReceiver(config.limits.max_line)


async def listen(server: ChatServer, listener: Listener) -> Listening:
    # aiohttp is imported when a server opens the web port, not by every `soketler` run.
    from soketler.doors.web.listener import listen_http

    return await listen_http(server, listener, DOOR)


DOOR = Door(NAME, open_session, handle, new_receiver, listen=listen)
