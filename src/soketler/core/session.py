"""A connected client as the chat core sees it, and the rooms it can be in."""

from __future__ import annotations

from typing import Protocol

from soketler.protocols.events import Codec
from soketler.protocols.plain import PLAIN


class Peer(Protocol):
    """What the core needs of a transport: the only way it reaches a client.

    `write` only queues bytes (it never blocks and never calls back into the core);
    `close` sends what was queued, then closes; the reason is for the server's log.
    """

    def write(self, data: bytes) -> None: ...

    def close(self, reason: str) -> None: ...


class Session:
    """One client. Hashed by identity: sessions are keys of rooms' member dicts."""

    __slots__ = (
        "address",
        "closed",
        "codec",
        "current",
        "key",
        "nick",
        "nick_since",
        "peer",
        "rooms",
    )

    def __init__(self, peer: Peer, address: str = "") -> None:
        self.peer = peer
        self.address = address
        self.codec: Codec = PLAIN
        self.nick = ""  # empty until registered
        self.key = ""  # the nickname's identity (names.key)
        self.nick_since = 0  # the first message id said while it held this nickname
        self.rooms: dict[str, Room] = {}  # by room key, in the order joined
        self.current: Room | None = None
        self.closed = False

    @property
    def registered(self) -> bool:
        return bool(self.nick)

    def __repr__(self) -> str:
        return f"<Session {self.nick or '(unregistered)'} {self.address}>"


class Room:
    __slots__ = ("_audience", "key", "members", "name", "topic", "topic_by")

    def __init__(self, name: str, key: str) -> None:
        self.name = name
        self.key = key
        self.topic = ""
        self.topic_by: str | None = None
        # A dict as an ordered set: members in the order they joined, O(1) removal.
        # Change it only with add/remove, which keep `audience` true.
        self.members: dict[Session, None] = {}
        self._audience: tuple[Session, ...] | None = None

    def add(self, session: Session) -> None:
        self.members[session] = None
        self._audience = None

    def remove(self, session: Session) -> None:
        self.members.pop(session, None)
        self._audience = None

    def audience(self) -> tuple[Session, ...]:
        """Who is in the room now, as one tuple shared until someone joins or leaves.

        Messages said between two changes get the same tuple, which is how the hub
        knows it may deliver them together (and a message costs no copy of the room).
        """
        if self._audience is None:
            self._audience = tuple(self.members)
        return self._audience
