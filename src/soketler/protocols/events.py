"""Events: what a client asks for, and what the server tells clients.

Every door's protocol parses bytes into requests, and every door's codec renders the
same server events, so the chat core never sees bytes. Server events are data: an error
is a code with its subject, a member list carries each member's status, a history page
is one event; each codec says them in its own words (sentences for the plain door,
JSON objects, IRC numerics). The terminal client decodes the JSON lines it reads into
these same classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, IntEnum
from typing import NamedTuple, Protocol

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
    # The plain flavour's whole line as typed: an answer to a password question is
    # taken from it as it is (a password may start with / or be "bye").
    line: str = field(default="", compare=False, repr=False)


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
    # Where the sender connects from, as IRC shows it (nick!user@host); not stored, so
    # empty in history.
    user: str = ""
    host: str = ""
    notice: bool = False  # a notice: never answered automatically (IRC NOTICE)
    # Tags a client put on it for other clients (`+typing`, `+draft/reply`), passed on
    # to readers whose door carries tags; never stored.
    tags: Mapping[str, str] = field(default_factory=dict)
    bot: bool = False  # the sender says it is a bot


@dataclass(frozen=True, slots=True)
class HistoryEnd:
    """Ends a batch of replayed messages (sent after them)."""

    room: str | None  # None: a private conversation
    count: int
    more: bool  # older messages exist
    with_nick: str | None = None
    re: RequestId = None
    oldest: int | None = None  # the id of the oldest message shown: "before" it for more


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """A page of history for one reader: its messages (oldest first) and the end marker.
    One event, so a door can frame it as a batch."""

    messages: tuple[ChatMessage, ...]
    end: HistoryEnd
    own: str = ""  # the reader's nickname key: their own private messages read as sent


@dataclass(frozen=True, slots=True)
class SearchEnd:
    """Ends the messages a history search found (sent after them)."""

    query: str  # as the reader wrote it
    count: int
    more: bool  # older matches exist
    re: RequestId = None
    oldest: int | None = None  # the id of the oldest match shown: "before" it for more


@dataclass(frozen=True, slots=True)
class SearchPage:
    """What a search found for one reader: the messages (oldest first, each marked as
    history) and the end marker. One event, so a door can frame it as a batch."""

    messages: tuple[ChatMessage, ...]
    end: SearchEnd
    own: str = ""  # the reader's nickname key: their own private messages read as sent


@dataclass(frozen=True, slots=True)
class Joined:
    time: datetime
    room: str
    nick: str
    user: str = ""
    host: str = ""


@dataclass(frozen=True, slots=True)
class Parted:
    time: datetime
    room: str
    nick: str
    reason: str = ""
    user: str = ""
    host: str = ""


@dataclass(frozen=True, slots=True)
class Quit:
    time: datetime
    nick: str
    reason: str = ""
    user: str = ""
    host: str = ""


@dataclass(frozen=True, slots=True)
class NickChanged:
    time: datetime
    old: str
    new: str
    user: str = ""
    host: str = ""


@dataclass(frozen=True, slots=True)
class TopicChanged:
    time: datetime
    room: str
    nick: str | None
    text: str
    user: str = ""
    host: str = ""


class RoomSetting(Enum):
    """What a room's operators may change (IRC says these with MODE letters)."""

    TOPIC_LOCK = "topic-lock"  # only room operators set the topic
    NO_OUTSIDE = "no-outside"  # only members may send to the room
    MODERATED = "moderated"  # only operators and voiced members may send
    INVITE_ONLY = "invite-only"  # only people invited may join
    SECRET = "secret"  # left out of room lists and of what others learn of a member
    KEY = "key"  # value: the key (password) needed to join
    LIMIT = "limit"  # value: the most members the room takes
    BAN = "ban"  # value: a nick!user@host mask of people who may not join or send
    MUTE = "mute"  # value: a nick!user@host mask of people who may not send
    OPERATOR = "operator"  # value: a nickname given or taken operator status
    VOICE = "voice"  # value: a nickname given or taken voice


@dataclass(frozen=True, slots=True)
class RoomChange:
    setting: RoomSetting
    on: bool
    value: str | None = None


@dataclass(frozen=True, slots=True)
class ModeChanged:
    """Someone changed a room's settings or a member's status (the changes applied)."""

    time: datetime
    room: str
    nick: str  # who changed them (the server's name when no person did)
    changes: tuple[RoomChange, ...]
    user: str = ""
    host: str = ""


@dataclass(frozen=True, slots=True)
class Kicked:
    """`nick` was put out of `room` by `by`."""

    time: datetime
    room: str
    by: str
    nick: str
    reason: str = ""
    user: str = ""  # of `by`
    host: str = ""


@dataclass(frozen=True, slots=True)
class Invited:
    """`by` invites `nick` (the reader) to `room`."""

    time: datetime
    by: str
    nick: str
    room: str
    user: str = ""  # of `by`
    host: str = ""


@dataclass(frozen=True, slots=True)
class AwayChanged:
    """Someone the reader shares a room with is away (`text`) or back (None)."""

    time: datetime
    nick: str
    text: str | None
    user: str = ""
    host: str = ""


@dataclass(frozen=True, slots=True)
class TagMessage:
    """Tags alone for a room or a person (typing notices, reactions): for readers whose
    door carries tags; never stored."""

    time: datetime
    sender: str
    tags: Mapping[str, str]
    room: str | None = None
    to: str | None = None
    user: str = ""
    host: str = ""
    id: int = 0  # a message id of its own (IRC's msgid), though it is never stored


@dataclass(frozen=True, slots=True)
class Welcome:
    """Registration succeeded."""

    nick: str
    room: str
    version: str
    re: RequestId = None


class Member(NamedTuple):
    """One member in a member list. A named tuple, not a frozen dataclass: a join lists
    up to 100 of them, and making a tuple costs a quarter of what a frozen dataclass's
    checked assignments do (joins of thousands at once make thousands of lists)."""

    nick: str
    status: str = ""  # every status held, highest first: "@" operator, "+" voice, "@+", ""
    user: str = ""
    host: str = ""
    away: bool = False
    realname: str = ""
    operator: bool = False  # a server operator
    bot: bool = False


@dataclass(frozen=True, slots=True)
class Members:
    """Who is in a room: the answer to `who`, and what someone joining is told."""

    room: str
    topic: str
    users: tuple[str, ...]
    re: RequestId = None
    count: int = -1  # members in all, when `users` names only the first of them
    members: tuple[Member, ...] = ()  # the same people, with status and user@host
    joining: bool = False  # sent to someone who has just joined the room
    secret: bool = False  # the room is left out of room lists
    topic_by: str | None = None
    topic_time: float = 0.0  # when the topic was set, seconds since the epoch; 0: never

    @property
    def total(self) -> int:
        return self.count if self.count >= 0 else len(self.users)


@dataclass(frozen=True, slots=True)
class TopicReply:
    """The answer to asking a room's topic ("" when it has none)."""

    room: str
    topic: str
    set_by: str | None = None
    re: RequestId = None
    set_at: float = 0.0  # seconds since the epoch; 0: unknown


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
    """What went wrong with a request: a code (protocols/codes.py), what it is about,
    and a finer detail. `text` is the sentence when one came with it (from the JSON a
    client reads, or a parser's own words); otherwise each door words it."""

    code: str
    text: str = ""
    re: RequestId = None
    subject: str = ""
    detail: str = ""
    # The person should choose again (a nickname while registering): the plain door
    # asks them to; programs act on the code.
    prompt: bool = False


@dataclass(frozen=True, slots=True)
class Pong:
    re: RequestId = None


@dataclass(frozen=True, slots=True)
class Bye:
    """The server is closing this connection."""

    reason: str


ServerEvent = (
    ChatMessage
    | HistoryPage
    | TopicReply
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
    | Kicked
    | ModeChanged
    | Invited
    | AwayChanged
    | TagMessage
    | SearchPage
    | SearchEnd
)


class Reader(Protocol):
    """The reader a reply is for, as a codec may need to know it (IRC numerics name
    the reader's nickname)."""

    @property
    def nick(self) -> str: ...

    @property
    def host(self) -> str: ...


class Codec:
    """Base of the encoders.

    One instance serves every connection that reads the same way (a door, and for
    some doors a set of capabilities), so the core encodes an event once per (codec,
    view) and hands the same bytes to every recipient.
    """

    name = ""

    def encode(self, event: ServerEvent, view: View = View.HERE) -> bytes:
        raise NotImplementedError

    def reply(self, event: ServerEvent, reader: Reader, view: View = View.HERE) -> bytes:
        """An event for one reader only (a reply, an error, a page of history)."""
        return self.encode(event, view)
