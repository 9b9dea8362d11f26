"""Events: what a client asks for, and what the server tells clients.

Both flavours of the chat protocol (plain lines and JSON lines) parse into the same
`Request` and encode the same server events, so the chat core never sees bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

RequestId = str | int | None


# --- client to server -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """One thing a client asks for.

    The plain flavour gives the words after the command name as `argtext`, and the
    core splits them by the command's declared parameters; the JSON flavour gives
    named `fields`. Either way the core checks them in one place.
    """

    command: str
    argtext: str = ""
    fields: Mapping[str, object] | None = None
    id: RequestId = None


@dataclass(frozen=True, slots=True)
class BadInput:
    """A line the protocol could not accept (too long, not JSON, ...)."""

    code: str
    text: str
    id: RequestId = None


ClientEvent = Request | BadInput


# --- server to client -------------------------------------------------------------


class View(IntEnum):
    """How an event relates to the reader, for flavours that render it differently."""

    HERE = 0  # about the reader's current room (or not about a room)
    ELSEWHERE = 1  # about another room the reader is in
    OWN = 2  # the reader's own private message, echoed back


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: int
    time: datetime
    sender: str
    text: str
    room: str | None = None  # a room message: the room's display name
    to: str | None = None  # a private message: the recipient's nickname
    action: bool = False
    history: bool = False  # replayed from the store, not live


@dataclass(frozen=True, slots=True)
class HistoryEnd:
    """Ends a batch of replayed messages (sent after them)."""

    room: str | None  # None: a private conversation
    count: int
    more: bool  # older messages exist
    with_nick: str | None = None
    re: RequestId = None


@dataclass(frozen=True, slots=True)
class Joined:
    time: datetime
    room: str
    nick: str


@dataclass(frozen=True, slots=True)
class Parted:
    time: datetime
    room: str
    nick: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Quit:
    time: datetime
    nick: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NickChanged:
    time: datetime
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class TopicChanged:
    time: datetime
    room: str
    nick: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Welcome:
    """Registration succeeded."""

    nick: str
    room: str
    version: str
    re: RequestId = None


@dataclass(frozen=True, slots=True)
class Members:
    """The answer to `who`."""

    room: str
    topic: str
    users: tuple[str, ...]
    re: RequestId = None
    count: int = -1  # members in all, when `users` names only the first of them

    @property
    def total(self) -> int:
        return self.count if self.count >= 0 else len(self.users)


@dataclass(frozen=True, slots=True)
class RoomInfo:
    name: str
    users: int
    topic: str


@dataclass(frozen=True, slots=True)
class RoomList:
    rooms: tuple[RoomInfo, ...]
    re: RequestId = None
    count: int = -1  # rooms in all, when `rooms` lists only the biggest of them

    @property
    def total(self) -> int:
        return self.count if self.count >= 0 else len(self.rooms)


@dataclass(frozen=True, slots=True)
class Info:
    """Human-readable information; may span several lines."""

    text: str
    re: RequestId = None


@dataclass(frozen=True, slots=True)
class Error:
    code: str
    text: str
    re: RequestId = None
    # What a person should do next ("Choose another:"); shown by the plain flavour
    # only, since programs act on the code.
    prompt: str = ""


@dataclass(frozen=True, slots=True)
class Pong:
    re: RequestId = None


@dataclass(frozen=True, slots=True)
class Bye:
    """The server is closing this connection."""

    reason: str


ServerEvent = (
    ChatMessage
    | Joined
    | Parted
    | Quit
    | NickChanged
    | TopicChanged
    | Welcome
    | Members
    | RoomList
    | Info
    | Error
    | Pong
    | Bye
    | HistoryEnd
)


class Codec:
    """Base of the per-flavour encoders.

    One instance per flavour serves every connection, so the core can encode an event
    once per (codec, view) and hand the same bytes to every recipient.
    """

    name = ""

    def encode(self, event: ServerEvent, view: View = View.HERE) -> bytes:
        raise NotImplementedError
