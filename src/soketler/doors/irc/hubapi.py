"""What the IRC door needs of the hub: neutral operations with typed answers.

The hub speaks no IRC: it is told "join this room with this key" and answers with
data or a `Refusal` (a code and the name it concerns), which the door renders as a
numeric. Events the hub sends later (someone joined, a message, a topic change, the
member list after a join) reach the session through its codec, not through these
calls.

This module is the door's side of that contract. Every operation and type here is
listed in the project's hub needs for the IRC door; when the hub provides them, the
hub satisfies `IrcHub` structurally and this module keeps only the Protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

# Refusal codes (the hub's neutral names; the door maps each to a numeric).
NICK_TAKEN = "nick-taken"
NICK_INVALID = "nick-invalid"
NO_SUCH_NICK = "no-such-nick"
NO_SUCH_ROOM = "no-such-room"
NOT_IN_ROOM = "not-in-room"
ROOM_INVALID = "room-invalid"
CANNOT_SEND = "cannot-send"  # moderated, or outside a room that takes no outside messages
BAD_KEY = "bad-key"
INVITE_ONLY = "invite-only"
ROOM_FULL = "room-full"
BANNED = "banned"
NOT_OPERATOR = "not-operator"  # of the room
NOT_SERVER_OPERATOR = "not-server-operator"
USER_NOT_IN_ROOM = "user-not-in-room"  # the person acted on is not in the room
ALREADY_IN_ROOM = "already-in-room"  # INVITE of someone who is there
TOO_MANY_ROOMS = "too-many-rooms"
KEY_SET = "key-set"
BAD_PASSWORD = "bad-password"
NO_OPERATOR_HERE = "no-operator-here"  # no operator entry for that name or address
BUSY = "busy"
STORE_FAILED = "store-failed"


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    subject: str = ""  # the nick or room the refusal is about


class HubSession(Protocol):
    """The fields of a hub session the door reads."""

    @property
    def nick(self) -> str: ...
    @property
    def user(self) -> str: ...
    @property
    def host(self) -> str: ...


class Kind(Enum):
    MESSAGE = "message"
    ACTION = "action"
    NOTICE = "notice"


class UserFlag(Enum):
    INVISIBLE = "invisible"
    BOT = "bot"
    OPERATOR = "operator"  # may be dropped by its holder, granted only by `oper`


class RoomSetting(Enum):
    TOPIC_LOCK = "topic-lock"  # only room operators set the topic
    NO_OUTSIDE = "no-outside"  # only members may send
    MODERATED = "moderated"  # only operators and voiced members may send
    INVITE_ONLY = "invite-only"
    SECRET = "secret"  # left out of LIST and WHOIS for people outside it
    KEY = "key"  # value: the key
    LIMIT = "limit"  # value: the number of members
    BAN = "ban"  # value: a nick!user@host mask
    OPERATOR = "operator"  # value: a nick given or taken the room-operator status
    VOICE = "voice"  # value: a nick given or taken voice


@dataclass(frozen=True, slots=True)
class RoomChange:
    setting: RoomSetting
    on: bool
    value: str | None = None


@dataclass(frozen=True, slots=True)
class MemberInfo:
    nick: str
    user: str
    host: str
    realname: str = ""
    status: str = ""  # every status symbol held, highest first: "@+", "@", "+", ""
    away: bool = False
    operator: bool = False  # a server operator
    bot: bool = False


@dataclass(frozen=True, slots=True)
class Members:
    room: str  # display name
    members: tuple[MemberInfo, ...]
    secret: bool = False


@dataclass(frozen=True, slots=True)
class TopicInfo:
    room: str
    text: str  # empty: no topic
    set_by: str = ""
    set_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoomSummary:
    name: str
    users: int
    topic: str


@dataclass(frozen=True, slots=True)
class Ban:
    mask: str
    set_by: str
    set_at: datetime


@dataclass(frozen=True, slots=True)
class RoomState:
    name: str
    created: datetime
    flags: frozenset[RoomSetting] = frozenset()  # the on/off settings that are on
    key: str | None = None
    limit: int | None = None
    bans: tuple[Ban, ...] = ()


@dataclass(frozen=True, slots=True)
class UserInfo:
    nick: str
    user: str
    host: str
    realname: str
    signon: datetime
    idle: float  # seconds since the user last said something
    rooms: tuple[tuple[str, str], ...] = ()  # (status symbols, room name)
    away: str | None = None
    operator: bool = False
    bot: bool = False
    invisible: bool = False
    account: str | None = None
    secure: bool = False  # connected over TLS


@dataclass(frozen=True, slots=True)
class PastUser:
    """Someone who had a nickname and left it (by quitting or renaming)."""

    nick: str
    user: str
    host: str
    realname: str
    left_at: datetime


@dataclass(frozen=True, slots=True)
class ServerStats:
    users: int  # registered, visible
    invisible: int
    operators: int
    unregistered: int
    rooms: int
    max_users: int = 0  # the most registered users seen at once


class HistorySelector(Enum):
    LATEST = "latest"
    BEFORE = "before"
    AFTER = "after"
    AROUND = "around"
    BETWEEN = "between"


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """One CHATHISTORY request; a bound is a message id (cursor) or a time."""

    selector: HistorySelector
    limit: int
    first: int | datetime | None = None
    second: int | datetime | None = None


class IrcHub(Protocol):
    def register(
        self, session: HubSession, nick: str, user: str, realname: str
    ) -> Refusal | None: ...
    def rename(self, session: HubSession, nick: str) -> Refusal | None: ...
    def set_caps(self, session: HubSession, caps: frozenset[str]) -> None: ...
    def join(self, session: HubSession, room: str, key: str | None) -> Refusal | None: ...
    def part(self, session: HubSession, room: str, reason: str) -> Refusal | None: ...
    def rooms_of(self, session: HubSession) -> tuple[str, ...]: ...
    def say(
        self,
        session: HubSession,
        room: str,
        text: str,
        kind: Kind,
        tags: Mapping[str, str],
    ) -> Refusal | None: ...
    def private(
        self,
        session: HubSession,
        nick: str,
        text: str,
        kind: Kind,
        tags: Mapping[str, str],
    ) -> Refusal | None: ...
    def tag_only(
        self, session: HubSession, target: str, tags: Mapping[str, str]
    ) -> Refusal | None: ...
    def topic(self, session: HubSession, room: str) -> TopicInfo | Refusal: ...
    def set_topic(self, session: HubSession, room: str, text: str) -> Refusal | None: ...
    def members(self, room: str) -> Members | Refusal: ...
    def room_list(self, asker: HubSession) -> tuple[RoomSummary, ...]: ...
    def room_state(self, room: str) -> RoomState | Refusal: ...
    def change_room(
        self, session: HubSession, room: str, changes: Sequence[RoomChange]
    ) -> tuple[Refusal, ...]: ...
    def kick(self, session: HubSession, room: str, nick: str, reason: str) -> Refusal | None: ...
    def invite(self, session: HubSession, nick: str, room: str) -> Refusal | None: ...
    def whois(self, nick: str, asker: HubSession) -> UserInfo | Refusal: ...
    def whowas(self, nick: str, limit: int) -> tuple[PastUser, ...]: ...
    def set_user_flag(self, session: HubSession, flag: UserFlag, on: bool) -> bool: ...
    def set_away(self, session: HubSession, text: str | None) -> None: ...
    def oper(self, session: HubSession, name: str, password: str) -> Refusal | None: ...
    def kill(self, session: HubSession, nick: str, reason: str) -> Refusal | None: ...
    def stats(self) -> ServerStats: ...
    def history(self, session: HubSession, target: str, query: HistoryQuery) -> Refusal | None: ...
    def close(self, session: HubSession, reason: str) -> None: ...
