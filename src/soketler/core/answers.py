"""What the hub answers to questions and to operations it refuses: data, never words.

A refusal is a code (protocols/codes.py) and what it is about; each door words it (the
plain door in a sentence, IRC as a numeric). Answers about people and rooms carry the
fields any door may show; a door shows what it has words for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from soketler.protocols.events import RoomSetting


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    subject: str = ""  # the nickname or room it is about
    detail: str = ""  # a finer reason (a names.NickProblem, a limit, the room of a person)


class UserFlag(Enum):
    INVISIBLE = "invisible"  # counted apart in the server's figures
    BOT = "bot"
    OPERATOR = "operator"  # may be dropped by its holder, given only by `oper`


@dataclass(frozen=True, slots=True)
class Ban:
    mask: str  # nick!user@host, with * and ?
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
    mutes: tuple[Ban, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicInfo:
    room: str
    text: str  # empty: no topic
    set_by: str = ""
    set_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserInfo:
    nick: str
    user: str
    host: str
    realname: str
    signon: datetime
    idle: float  # seconds since the person last said something
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
    users: int  # registered, not invisible
    invisible: int
    operators: int
    unregistered: int
    rooms: int
    max_users: int = 0  # the most registered users seen at once
