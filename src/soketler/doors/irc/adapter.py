"""The IRC door's view of the hub (`hubapi.IrcHub`) over the hub's neutral operations.

Thin on purpose: rooms and people are named as IRC names them (by text) and found
here; the rules (who may join, speak, kick or change what) and the events everyone
hears are the hub's, the same for every door.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import cast

from soketler.core import policing
from soketler.core.hub import Hub
from soketler.core.session import BOT, NO_ECHO, SERVER_OPERATOR, Room, Session
from soketler.doors import logins
from soketler.doors.irc.hubapi import (
    HistoryQuery,
    HistorySelector,
    HubSession,
    Kind,
    MemberInfo,
    Members,
    PastUser,
    Refusal,
    RoomChange,
    RoomState,
    RoomSummary,
    ServerStats,
    TopicInfo,
    UserFlag,
    UserInfo,
)
from soketler.protocols import codes, names
from soketler.protocols.irc.caps import ECHO_MESSAGE
from soketler.protocols.irc.codec import codec_for
from soketler.protocols.irc.masks import mask_matches

CHANNEL_PREFIX = "#"
# People a wildcard WHO looks through at most (those sharing a room with the asker).
ROOMMATES_LOOKED_AT = 10_000


def _session(session: HubSession) -> Session:
    # The door hands back the sessions the hub gave it.
    return cast(Session, session)


def _moment(seconds: float) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


class HubAdapter:
    __slots__ = ("hub",)

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def _room(self, name: str) -> Room | Refusal:
        room = self.hub.rooms.get(name) if name.startswith(CHANNEL_PREFIX) else None
        return room if room is not None else Refusal(codes.NO_SUCH_ROOM, name)

    # --- who one is -----------------------------------------------------------------------

    def register(self, session: HubSession, nick: str, user: str, realname: str) -> Refusal | None:
        return self.hub.claim(_session(session), nick, user, realname)

    def rename(self, session: HubSession, nick: str) -> Refusal | None:
        return self.hub.change_nick(_session(session), nick)

    def set_caps(self, session: HubSession, caps: frozenset[str]) -> None:
        """The session reads through the codec of its capabilities from now on."""
        own = _session(session)
        own.caps = caps
        own.codec = codec_for(self.hub.server_name, caps)
        own.set_flag(NO_ECHO, ECHO_MESSAGE not in caps)

    def set_user_flag(self, session: HubSession, flag: UserFlag, on: bool) -> bool:
        return self.hub.set_user_flag(_session(session), flag, on)

    def set_away(self, session: HubSession, text: str | None) -> None:
        self.hub.set_away(_session(session), text)

    def oper(
        self,
        session: HubSession,
        name: str,
        password: str,
        done: Callable[[Refusal | None], None],
    ) -> None:
        self.hub.oper(_session(session), name, password, done)

    def kill(self, session: HubSession, nick: str, reason: str) -> Refusal | None:
        return self.hub.kill(_session(session), nick, reason)

    def needs_password(self) -> bool:
        return logins.needs_password(self.hub)

    def has_accounts(self) -> bool:
        return logins.has_accounts(self.hub)

    def is_account(self, name: str) -> bool:
        return names.key(names.normalize(name)) in self.hub.owners.accounts

    def private_link(self, session: HubSession) -> bool:
        return logins.private_link(_session(session))

    def check_password(
        self,
        session: HubSession,
        account: str | None,
        password: str,
        done: Callable[[bool], None],
    ) -> None:
        own = _session(session)
        if account is None:
            logins.check_server_password(self.hub, own, password, done)
        else:
            logins.check_account(self.hub, own, account, password, done)

    def account_of(self, session: HubSession) -> str | None:
        return _session(session).account

    def ban_server(self, session: HubSession, mask: str, reason: str) -> Refusal | None:
        return policing.ban_server(self.hub, _session(session), mask, reason)

    def unban_server(self, session: HubSession, mask: str) -> Refusal | None:
        return policing.unban_server(self.hub, _session(session), mask)

    def close(self, session: HubSession, reason: str) -> None:
        self.hub.close(_session(session), reason)

    # --- rooms ----------------------------------------------------------------------------

    def join(self, session: HubSession, room: str, key: str | None) -> Refusal | None:
        # An IRC client keeps the whole member list: it gets every name the reply budget
        # holds, not the first hundred.
        entered = self.hub.enter(_session(session), room, key, names_shown=0)
        return entered if isinstance(entered, Refusal) else None

    def part(self, session: HubSession, room: str, reason: str) -> Refusal | None:
        found = self._room(room)
        if isinstance(found, Refusal):
            return found
        own = _session(session)
        if own not in found.members:
            return Refusal(codes.NOT_IN_ROOM, found.name)
        self.hub.part(own, found, reason)
        return None

    def rooms_of(self, session: HubSession) -> tuple[str, ...]:
        return tuple(room.name for room in _session(session).rooms.values())

    def topic(self, session: HubSession, room: str) -> TopicInfo | Refusal:
        found = self._room(room)
        if isinstance(found, Refusal):
            return found
        return TopicInfo(found.name, found.topic, found.topic_by or "", _moment(found.topic_time))

    def set_topic(self, session: HubSession, room: str, text: str) -> Refusal | None:
        found = self._room(room)
        if isinstance(found, Refusal):
            return found
        return self.hub.change_topic(_session(session), found, text)

    def members(self, room: str) -> Members | Refusal:
        found = self._room(room)
        if isinstance(found, Refusal):
            return found
        full = self.hub.members(found)
        return Members(
            found.name,
            tuple(
                MemberInfo(m.nick, m.user, m.host, m.realname, m.status, m.away, m.operator, m.bot)
                for m in full.members
            ),
            secret=full.secret,
        )

    def room_list(self, asker: HubSession) -> tuple[RoomSummary, ...]:
        rooms = self.hub.room_list(asker=_session(asker)).rooms
        return tuple(RoomSummary(room.name, room.users, room.topic) for room in rooms)

    def room_state(self, room: str) -> RoomState | Refusal:
        found = self._room(room)
        return found if isinstance(found, Refusal) else self.hub.room_state(found)

    def change_room(
        self, session: HubSession, room: str, changes: Sequence[RoomChange]
    ) -> tuple[Refusal, ...]:
        found = self._room(room)
        if isinstance(found, Refusal):
            return (found,)
        return self.hub.change_room(_session(session), found, changes)

    def kick(self, session: HubSession, room: str, nick: str, reason: str) -> Refusal | None:
        found = self._room(room)
        if isinstance(found, Refusal):
            return found
        return self.hub.kick(_session(session), found, nick, reason)

    def invite(self, session: HubSession, nick: str, room: str) -> Refusal | None:
        return self.hub.invite(_session(session), nick, room)

    # --- messages -------------------------------------------------------------------------

    def say(
        self,
        session: HubSession,
        room: str,
        text: str,
        kind: Kind,
        tags: Mapping[str, str],
    ) -> Refusal | None:
        found = self._room(room)
        if isinstance(found, Refusal):
            return found
        action, notice = kind is Kind.ACTION, kind is Kind.NOTICE
        return self.hub.speak(
            _session(session), found, text, action=action, notice=notice, tags=tags
        )

    def private(
        self,
        session: HubSession,
        nick: str,
        text: str,
        kind: Kind,
        tags: Mapping[str, str],
    ) -> Refusal | None:
        target = self.hub.find_session(nick)
        if target is None:
            return Refusal(codes.NO_SUCH_NICK, nick)
        action, notice = kind is Kind.ACTION, kind is Kind.NOTICE
        own = _session(session)
        return self.hub.tell(own, target, text, action=action, notice=notice, tags=tags)

    def tag_only(self, session: HubSession, target: str, tags: Mapping[str, str]) -> Refusal | None:
        own = _session(session)
        if target.startswith(CHANNEL_PREFIX):
            found = self._room(target)
            if isinstance(found, Refusal):
                return found
            return self.hub.tag_room(own, found, tags)
        person = self.hub.find_session(target)
        if person is None:
            return Refusal(codes.NO_SUCH_NICK, target)
        self.hub.tag_person(own, person, tags)
        return None

    def history(self, session: HubSession, target: str, query: HistoryQuery) -> Refusal | None:
        """LATEST and BEFORE a message id: what the history stores page by."""
        own = _session(session)
        if query.selector is HistorySelector.LATEST and query.first is None:
            before = None
        elif query.selector is HistorySelector.BEFORE and isinstance(query.first, int):
            before = query.first
        else:
            return Refusal(codes.BAD_REQUEST, target)
        if target.startswith(CHANNEL_PREFIX):
            room = own.rooms.get(names.key(names.room_name(target)))
            if room is None:
                return Refusal(codes.NOT_IN_ROOM, target)
            self.hub.room_history(own, room, query.limit, before, None)
            return None
        if self.hub.find_session(target) is None:
            return Refusal(codes.NO_SUCH_NICK, target)
        self.hub.private_history(own, names.normalize(target), query.limit, before, None)
        return None

    # --- people and the server ------------------------------------------------------------

    def whois(self, nick: str, asker: HubSession) -> UserInfo | Refusal:
        return self.hub.whois(nick, _session(asker))

    def who_matching(self, asker: HubSession, mask: str, limit: int) -> tuple[MemberInfo, ...]:
        """The people the asker shares a room with (and itself) whose nickname or
        nick!user@host matches a mask with * and ?."""
        found: list[MemberInfo] = []
        for person in self.hub.roommates(_session(asker), ROOMMATES_LOOKED_AT):
            address = f"{person.nick}!{person.user}@{person.host}"
            if mask_matches(mask, person.nick, names.key) or mask_matches(mask, address, names.key):
                found.append(
                    MemberInfo(
                        person.nick,
                        person.user,
                        person.host,
                        person.realname,
                        "",
                        person.away is not None,
                        person.has(SERVER_OPERATOR),
                        person.has(BOT),
                    )
                )
                if len(found) >= limit:
                    break
        return tuple(found)

    def whowas(self, nick: str, limit: int) -> tuple[PastUser, ...]:
        return self.hub.whowas(nick, limit)

    def stats(self) -> ServerStats:
        return self.hub.stats()
