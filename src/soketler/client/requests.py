"""What a client can ask the server, as typed values (docs/protocol.md, "Client to server").

Each request knows its JSON object; `id` is the client's own tag, which the server
returns as `re` on the reply or error the request causes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from soketler.protocols.events import RequestId


def _object(kind: str, request_id: RequestId, **fields: object) -> dict[str, Any]:
    # Absent optional fields are left out rather than sent as null: the protocol
    # gives "absent" a meaning of its own (e.g. `topic` without `text` asks).
    obj: dict[str, Any] = {"type": kind}
    obj.update((key, value) for key, value in fields.items() if value is not None)
    if request_id is not None:
        obj["id"] = request_id
    return obj


@dataclass(frozen=True, slots=True)
class Register:
    """`room`: arrive there instead of #lobby; `replay`: at most this many messages of
    history on joining (0: none). Servers that do not know them ignore them."""

    nick: str
    id: RequestId = None
    room: str | None = None
    replay: int | None = None
    # A registered nickname's password, or the server's; never shown (repr).
    password: str | None = field(default=None, repr=False)

    def to_object(self) -> dict[str, Any]:
        return _object(
            "hello",
            self.id,
            nick=self.nick,
            room=self.room,
            replay=self.replay,
            password=self.password,
        )


@dataclass(frozen=True, slots=True)
class Say:
    """A message to a room, or a private one when `to` is a nickname."""

    text: str
    room: str | None = None
    to: str | None = None
    action: bool = False
    id: RequestId = None

    def to_object(self) -> dict[str, Any]:
        target = {"to": self.to} if self.to is not None else {"room": self.room}
        return _object("message", self.id, text=self.text, action=self.action, **target)


@dataclass(frozen=True, slots=True)
class Join:
    room: str
    id: RequestId = None
    replay: int | None = None  # at most this many messages of history (0: none)

    def to_object(self) -> dict[str, Any]:
        return _object("join", self.id, room=self.room, replay=self.replay)


@dataclass(frozen=True, slots=True)
class Part:
    room: str | None = None
    reason: str | None = None
    id: RequestId = None

    def to_object(self) -> dict[str, Any]:
        return _object("part", self.id, room=self.room, reason=self.reason)


@dataclass(frozen=True, slots=True)
class ChangeNick:
    nick: str
    id: RequestId = None

    def to_object(self) -> dict[str, Any]:
        return _object("nick", self.id, nick=self.nick)


@dataclass(frozen=True, slots=True)
class Topic:
    """Asks for a room's topic, or sets it when `text` is given."""

    room: str | None = None
    text: str | None = None
    id: RequestId = None

    def to_object(self) -> dict[str, Any]:
        return _object("topic", self.id, room=self.room, text=self.text)


@dataclass(frozen=True, slots=True)
class Who:
    room: str | None = None
    id: RequestId = None

    def to_object(self) -> dict[str, Any]:
        return _object("who", self.id, room=self.room)


@dataclass(frozen=True, slots=True)
class ListRooms:
    id: RequestId = None

    def to_object(self) -> dict[str, Any]:
        return _object("rooms", self.id)


@dataclass(frozen=True, slots=True)
class History:
    """Earlier messages of a room (default: current), or of a private conversation."""

    room: str | None = None
    with_nick: str | None = None
    limit: int | None = None
    before: int | None = None  # a message id: only messages older than it
    id: RequestId = None

    def to_object(self) -> dict[str, Any]:
        where = {"with": self.with_nick} if self.with_nick is not None else {"room": self.room}
        return _object("history", self.id, limit=self.limit, before=self.before, **where)


@dataclass(frozen=True, slots=True)
class Leave:
    """Leaves the server (the protocol's `quit`)."""

    reason: str | None = None
    id: RequestId = None

    def to_object(self) -> dict[str, Any]:
        return _object("quit", self.id, reason=self.reason)


@dataclass(frozen=True, slots=True)
class Ping:
    id: RequestId = None

    def to_object(self) -> dict[str, Any]:
        return _object("ping", self.id)


ClientRequest = (
    Register | Say | Join | Part | ChangeNick | Topic | Who | ListRooms | History | Leave | Ping
)
