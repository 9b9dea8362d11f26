"""The lines door: people on telnet and nc (plain lines) and programs (JSON lines) on
one port; the first line a client sends chooses its flavour.

Its policy over the neutral hub: a newcomer is greeted and asked for a nickname, the
first plain line is that nickname, everyone starts in #lobby with its last messages,
a plain line goes to the current room, and the last room cannot be left.
"""

from __future__ import annotations

from soketler.core.config import ServerConfig
from soketler.core.hub import Hub
from soketler.core.session import Peer, Session
from soketler.doors import Door
from soketler.doors.lines import commands, words
from soketler.protocols.connection import ServerConnection
from soketler.protocols.events import BadInput, Info, Request
from soketler.protocols.plain import CLOSE_WORDS, PLAIN

NAME = "lines"
# Shared by every connection: `frozenset()` makes a new set of 216 bytes each time.
NO_CLOSE_WORDS: frozenset[str] = frozenset()


def open_session(
    hub: Hub, peer: Peer, address: str = "", config: ServerConfig | None = None
) -> Session:
    """A client connected: greet it and ask for a nickname (in plain words: the
    flavour is not known until it speaks)."""
    session = hub.open(peer, address, NAME, PLAIN)
    hub.send(session, Info(words.greeting(hub.server_name)))
    return session


def handle(hub: Hub, session: Session, event: object) -> None:
    """One request from a client."""
    if not session.closed and isinstance(event, Request | BadInput):
        commands.dispatch(hub, session, event)


def new_receiver(config: ServerConfig) -> ServerConnection:
    close_words = CLOSE_WORDS if config.close_words else NO_CLOSE_WORDS
    return ServerConnection(config.limits.max_line, close_words)


DOOR = Door(NAME, open_session, handle, new_receiver)
