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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from soketler.core.answers import (
    Ban,
    PastUser,
    Refusal,
    RoomState,
    ServerStats,
    TopicInfo,
    UserFlag,
    UserInfo,
)
from soketler.protocols import codes
from soketler.protocols.events import RoomChange, RoomSetting

# Refusal codes (the hub's neutral names; the door maps each to a numeric).
NICK_TAKEN = codes.NICK_TAKEN
NICK_INVALID = codes.NICK_INVALID
NO_SUCH_NICK = codes.NO_SUCH_NICK
NO_SUCH_ROOM = codes.NO_SUCH_ROOM
NOT_IN_ROOM = codes.NOT_IN_ROOM
ROOM_INVALID = codes.ROOM_INVALID
CANNOT_SEND = codes.CANNOT_SEND
BAD_KEY = codes.BAD_KEY
INVITE_ONLY = codes.INVITE_ONLY
ROOM_FULL = codes.ROOM_FULL
BANNED = codes.BANNED
NOT_OPERATOR = codes.NOT_OPERATOR
NOT_SERVER_OPERATOR = codes.NOT_SERVER_OPERATOR
USER_NOT_IN_ROOM = codes.USER_NOT_IN_ROOM
ALREADY_IN_ROOM = codes.ALREADY_IN_ROOM
TOO_MANY_ROOMS = codes.TOO_MANY_ROOMS
KEY_SET = codes.KEY_SET
BAD_PASSWORD = codes.BAD_PASSWORD
NO_OPERATOR_HERE = codes.NO_OPERATOR_HERE
BUSY = codes.BUSY
STORE_FAILED = codes.STORE_FAILED

__all__ = [
    "Ban",
    "PastUser",
    "Refusal",
    "RoomChange",
    "RoomSetting",
    "RoomState",
    "ServerStats",
    "TopicInfo",
    "UserFlag",
    "UserInfo",
]


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
class RoomSummary:
    name: str
    users: int
    topic: str


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
    def who_matching(self, asker: HubSession, mask: str, limit: int) -> tuple[MemberInfo, ...]: ...
    def whowas(self, nick: str, limit: int) -> tuple[PastUser, ...]: ...
    def set_user_flag(self, session: HubSession, flag: UserFlag, on: bool) -> bool: ...
    def set_away(self, session: HubSession, text: str | None) -> None: ...
    def oper(
        self,
        session: HubSession,
        name: str,
        password: str,
        done: Callable[[Refusal | None], None],
    ) -> None:
        """Checks the name and password (a slow hash, so the answer comes later, to
        `done`: None when the session has become a server operator)."""

    def kill(self, session: HubSession, nick: str, reason: str) -> Refusal | None: ...
    # Passwords and server bans (needs/tls.md): a check answers later, on the loop, and
    # what the client sends meanwhile waits.
    def needs_password(self) -> bool: ...
    def has_accounts(self) -> bool: ...
    def is_account(self, name: str) -> bool:
        """Whether `name` is an account's name (so PASS name:password logs in to it)."""

    def private_link(self, session: HubSession) -> bool:
        """Whether a password may cross this connection: TLS, or this machine."""

    def check_password(
        self,
        session: HubSession,
        account: str | None,
        password: str,
        done: Callable[[bool], None],
    ) -> None:
        """The server password (account None), or an account's: on success the session
        is logged in to it. `done(ok)` comes later."""

    def account_of(self, session: HubSession) -> str | None: ...
    def ban_server(self, session: HubSession, mask: str, reason: str) -> Refusal | None: ...
    def unban_server(self, session: HubSession, mask: str) -> Refusal | None: ...
    def stats(self) -> ServerStats: ...
    def history(self, session: HubSession, target: str, query: HistoryQuery) -> Refusal | None: ...
    def close(self, session: HubSession, reason: str) -> None: ...
