"""A small in-memory hub with the operations the IRC door calls, for handler tests.

It applies the rules the door relies on (nick and room rules, keys, bans, invites,
operator status, moderation) plainly, and records what it was asked, so a test can
check both the numerics a handler wrote and what it asked of the hub. Events the
real hub would send to members are recorded in `events`, not rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from soketler.doors.irc import hubapi as h
from soketler.protocols import codes, names
from soketler.protocols.irc.masks import mask_matches

FIXED = datetime(2026, 11, 23, 20, 15, tzinfo=UTC)


@dataclass(eq=False)
class FakeSession:
    host: str = "127.0.0.1"
    nick: str = ""
    user: str = ""
    realname: str = ""
    caps: frozenset[str] = frozenset()
    away: str | None = None
    flags: set[h.UserFlag] = field(default_factory=set)
    closed: str | None = None
    account: str | None = None

    @property
    def source(self) -> str:
        return f"{self.nick}!{self.user}@{self.host}"


@dataclass(eq=False)
class FakeRoom:
    name: str
    members: dict[FakeSession, str] = field(default_factory=dict)  # status symbols
    topic: str = ""
    topic_by: str = ""
    flags: set[h.RoomSetting] = field(default_factory=set)
    key: str | None = None
    limit: int | None = None
    bans: list[h.Ban] = field(default_factory=list)
    invited: set[str] = field(default_factory=set)


class FakeHub:
    def __init__(
        self,
        opers: Mapping[str, str] | None = None,
        *,
        password: str | None = None,
        accounts: Mapping[str, str] | None = None,
        private: bool = True,
    ) -> None:
        self.password = password
        self.accounts = {names.key(name): secret for name, secret in (accounts or {}).items()}
        self.link_private = private  # what private_link answers: TLS or this machine
        self.server_bans: list[str] = []
        self.users: dict[str, FakeSession] = {}
        self.rooms: dict[str, FakeRoom] = {}
        self.gone: list[h.PastUser] = []
        self.opers = dict(opers or {})
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self.unregistered = 0
        self.fail_with: h.Refusal | None = None  # the next say/private is refused this way

    # --- helpers -------------------------------------------------------------------

    def open(self) -> FakeSession:
        self.unregistered += 1
        return FakeSession()

    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def _room(self, name: str) -> FakeRoom | None:
        return self.rooms.get(names.key(name))

    def _user(self, nick: str) -> FakeSession | None:
        return self.users.get(names.key(nick))

    def _info(self, session: FakeSession) -> h.MemberInfo:
        return h.MemberInfo(
            session.nick,
            session.user,
            session.host,
            session.realname,
            away=session.away is not None,
            operator=h.UserFlag.OPERATOR in session.flags,
            bot=h.UserFlag.BOT in session.flags,
        )

    def _banned(self, room: FakeRoom, session: FakeSession) -> bool:
        return any(mask_matches(ban.mask, session.source, names.key) for ban in room.bans)

    # --- IrcHub --------------------------------------------------------------------

    def register(
        self, session: FakeSession, nick: str, user: str, realname: str
    ) -> h.Refusal | None:
        self._call("register", nick, user, realname)
        nick = names.normalize(nick)
        if names.nick_problem(nick) is not None:
            return h.Refusal(h.NICK_INVALID, nick)
        if names.key(nick) in self.users:
            return h.Refusal(h.NICK_TAKEN, nick)
        session.nick, session.user, session.realname = nick, user, realname
        self.users[names.key(nick)] = session
        self.unregistered -= 1
        return None

    def rename(self, session: FakeSession, nick: str) -> h.Refusal | None:
        self._call("rename", nick)
        nick = names.normalize(nick)
        if names.nick_problem(nick) is not None:
            return h.Refusal(h.NICK_INVALID, nick)
        holder = self.users.get(names.key(nick))
        if holder is not None and holder is not session:
            return h.Refusal(h.NICK_TAKEN, nick)
        self.gone.append(
            h.PastUser(session.nick, session.user, session.host, session.realname, FIXED)
        )
        del self.users[names.key(session.nick)]
        self.events.append(("nick", (session.nick, nick)))
        session.nick = nick
        self.users[names.key(nick)] = session
        return None

    def set_caps(self, session: FakeSession, caps: frozenset[str]) -> None:
        self._call("set_caps", caps)
        session.caps = caps

    def join(self, session: FakeSession, room: str, key: str | None) -> h.Refusal | None:
        self._call("join", room, key)
        problem = names.room_problem(room)
        if problem is not None:
            return h.Refusal(h.ROOM_INVALID, room)
        found = self._room(room)
        if found is None:
            found = self.rooms[names.key(room)] = FakeRoom(room)
            found.members[session] = "@"
        elif session in found.members:
            return None
        else:
            if self._banned(found, session):
                return h.Refusal(h.BANNED, found.name)
            invited = names.key(session.nick) in found.invited
            if h.RoomSetting.INVITE_ONLY in found.flags and not invited:
                return h.Refusal(h.INVITE_ONLY, found.name)
            if found.key is not None and key != found.key:
                return h.Refusal(h.BAD_KEY, found.name)
            if found.limit is not None and len(found.members) >= found.limit:
                return h.Refusal(h.ROOM_FULL, found.name)
            found.members[session] = ""
        self.events.append(("join", (found.name, session.nick)))
        return None

    def part(self, session: FakeSession, room: str, reason: str) -> h.Refusal | None:
        self._call("part", room, reason)
        found = self._room(room)
        if found is None:
            return h.Refusal(h.NO_SUCH_ROOM, room)
        if session not in found.members:
            return h.Refusal(h.NOT_IN_ROOM, found.name)
        del found.members[session]
        if not found.members:
            del self.rooms[names.key(room)]
        self.events.append(("part", (found.name, session.nick, reason)))
        return None

    def rooms_of(self, session: FakeSession) -> tuple[str, ...]:
        return tuple(room.name for room in self.rooms.values() if session in room.members)

    def say(
        self, session: FakeSession, room: str, text: str, kind: h.Kind, tags: Mapping[str, str]
    ) -> h.Refusal | None:
        self._call("say", room, text, kind, dict(tags))
        if self.fail_with is not None:
            refusal, self.fail_with = self.fail_with, None
            return refusal
        found = self._room(room)
        if found is None:
            return h.Refusal(h.NO_SUCH_ROOM, room)
        status = found.members.get(session)
        if status is None and h.RoomSetting.NO_OUTSIDE in found.flags:
            return h.Refusal(h.CANNOT_SEND, found.name)
        if not status and (h.RoomSetting.MODERATED in found.flags or self._banned(found, session)):
            return h.Refusal(h.CANNOT_SEND, found.name)
        self.events.append(("say", (found.name, session.nick, text, kind)))
        return None

    def private(
        self, session: FakeSession, nick: str, text: str, kind: h.Kind, tags: Mapping[str, str]
    ) -> h.Refusal | None:
        self._call("private", nick, text, kind, dict(tags))
        if self.fail_with is not None:
            refusal, self.fail_with = self.fail_with, None
            return refusal
        target = self._user(nick)
        if target is None:
            return h.Refusal(h.NO_SUCH_NICK, nick)
        self.events.append(("private", (session.nick, target.nick, text, kind)))
        return None

    def tag_only(
        self, session: FakeSession, target: str, tags: Mapping[str, str]
    ) -> h.Refusal | None:
        self._call("tag_only", target, dict(tags))
        exists = self._room(target) if target.startswith("#") else self._user(target)
        if exists is None:
            return h.Refusal(h.NO_SUCH_ROOM if target.startswith("#") else h.NO_SUCH_NICK, target)
        return None

    def topic(self, session: FakeSession, room: str) -> h.TopicInfo | h.Refusal:
        found = self._room(room)
        if found is None:
            return h.Refusal(h.NO_SUCH_ROOM, room)
        return h.TopicInfo(found.name, found.topic, found.topic_by, FIXED if found.topic else None)

    def set_topic(self, session: FakeSession, room: str, text: str) -> h.Refusal | None:
        self._call("set_topic", room, text)
        found = self._room(room)
        if found is None:
            return h.Refusal(h.NO_SUCH_ROOM, room)
        if session not in found.members:
            return h.Refusal(h.NOT_IN_ROOM, found.name)
        if h.RoomSetting.TOPIC_LOCK in found.flags and "@" not in found.members[session]:
            return h.Refusal(h.NOT_OPERATOR, found.name)
        found.topic, found.topic_by = text, session.nick
        return None

    def members(self, room: str) -> h.Members | h.Refusal:
        found = self._room(room)
        if found is None:
            return h.Refusal(h.NO_SUCH_ROOM, room)
        return h.Members(
            found.name,
            tuple(replace(self._info(s), status=status) for s, status in found.members.items()),
            secret=h.RoomSetting.SECRET in found.flags,
        )

    def room_list(self, asker: FakeSession) -> tuple[h.RoomSummary, ...]:
        return tuple(
            h.RoomSummary(r.name, len(r.members), r.topic)
            for r in self.rooms.values()
            if h.RoomSetting.SECRET not in r.flags or asker in r.members
        )

    def room_state(self, room: str) -> h.RoomState | h.Refusal:
        found = self._room(room)
        if found is None:
            return h.Refusal(h.NO_SUCH_ROOM, room)
        return h.RoomState(
            found.name, FIXED, frozenset(found.flags), found.key, found.limit, tuple(found.bans)
        )

    def change_room(
        self, session: FakeSession, room: str, changes: Sequence[h.RoomChange]
    ) -> tuple[h.Refusal, ...]:
        self._call("change_room", room, tuple(changes))
        found = self._room(room)
        if found is None:
            return (h.Refusal(h.NO_SUCH_ROOM, room),)
        if "@" not in found.members.get(session, ""):
            return (h.Refusal(h.NOT_OPERATOR, found.name),)
        refused: list[h.Refusal] = []
        applied: list[h.RoomChange] = []
        for change in changes:
            setting, value = change.setting, change.value
            if setting in (h.RoomSetting.OPERATOR, h.RoomSetting.VOICE):
                target = self._user(value or "")
                if target is None:
                    refused.append(h.Refusal(h.NO_SUCH_NICK, value or ""))
                    continue
                if target not in found.members:
                    refused.append(h.Refusal(h.USER_NOT_IN_ROOM, target.nick))
                    continue
                symbol = "@" if setting is h.RoomSetting.OPERATOR else "+"
                held = set(found.members[target]) - {symbol}
                if change.on:
                    held.add(symbol)
                found.members[target] = "".join(s for s in "@+" if s in held)
            elif setting is h.RoomSetting.KEY:
                if change.on and found.key is not None:
                    refused.append(h.Refusal(h.KEY_SET, found.name))
                    continue
                found.key = value if change.on else None
            elif setting is h.RoomSetting.LIMIT:
                found.limit = int(value or 0) if change.on else None
            elif setting is h.RoomSetting.BAN:
                found.bans = [b for b in found.bans if b.mask != value]
                if change.on and value is not None:
                    found.bans.append(h.Ban(value, session.nick, FIXED))
            elif change.on:
                found.flags.add(setting)
            else:
                found.flags.discard(setting)
            applied.append(change)
        if applied:
            self.events.append(("mode", (found.name, tuple(applied))))
        return tuple(refused)

    def kick(self, session: FakeSession, room: str, nick: str, reason: str) -> h.Refusal | None:
        self._call("kick", room, nick, reason)
        found = self._room(room)
        if found is None:
            return h.Refusal(h.NO_SUCH_ROOM, room)
        if session not in found.members:
            return h.Refusal(h.NOT_IN_ROOM, found.name)
        if "@" not in found.members[session]:
            return h.Refusal(h.NOT_OPERATOR, found.name)
        target = self._user(nick)
        if target is None:
            return h.Refusal(h.NO_SUCH_NICK, nick)
        if target not in found.members:
            return h.Refusal(h.USER_NOT_IN_ROOM, target.nick)
        del found.members[target]
        self.events.append(("kick", (found.name, target.nick, reason)))
        return None

    def invite(self, session: FakeSession, nick: str, room: str) -> h.Refusal | None:
        self._call("invite", nick, room)
        target = self._user(nick)
        if target is None:
            return h.Refusal(h.NO_SUCH_NICK, nick)
        found = self._room(room)
        if found is None:
            return h.Refusal(h.NO_SUCH_ROOM, room)
        if session not in found.members:
            return h.Refusal(h.NOT_IN_ROOM, found.name)
        if target in found.members:
            return h.Refusal(h.ALREADY_IN_ROOM, target.nick)
        if h.RoomSetting.INVITE_ONLY in found.flags and "@" not in found.members[session]:
            return h.Refusal(h.NOT_OPERATOR, found.name)
        found.invited.add(names.key(target.nick))
        self.events.append(("invite", (session.nick, target.nick, found.name)))
        return None

    def whois(self, nick: str, asker: FakeSession) -> h.UserInfo | h.Refusal:
        user = self._user(nick)
        if user is None:
            return h.Refusal(h.NO_SUCH_NICK, nick)
        rooms = tuple(
            (room.members[user], room.name)
            for room in self.rooms.values()
            if user in room.members
            and (h.RoomSetting.SECRET not in room.flags or asker in room.members)
        )
        return h.UserInfo(
            user.nick,
            user.user,
            user.host,
            user.realname,
            FIXED,
            12.0,
            rooms,
            user.away,
            operator=h.UserFlag.OPERATOR in user.flags,
            bot=h.UserFlag.BOT in user.flags,
            invisible=h.UserFlag.INVISIBLE in user.flags,
        )

    def who_matching(self, asker: FakeSession, mask: str, limit: int) -> tuple[h.MemberInfo, ...]:
        seen = {asker: None}
        for room in self.rooms.values():
            if asker in room.members:
                seen.update(dict.fromkeys(room.members))
        found = tuple(self._info(p) for p in seen if mask_matches(mask, p.nick, names.key))
        return found[:limit]

    def whowas(self, nick: str, limit: int) -> tuple[h.PastUser, ...]:
        found = [p for p in reversed(self.gone) if names.key(p.nick) == names.key(nick)]
        return tuple(found[:limit])

    def set_user_flag(self, session: FakeSession, flag: h.UserFlag, on: bool) -> bool:
        self._call("set_user_flag", flag, on)
        if (flag in session.flags) == on:
            return False
        if on:
            session.flags.add(flag)
        else:
            session.flags.discard(flag)
        return True

    def set_away(self, session: FakeSession, text: str | None) -> None:
        self._call("set_away", text)
        session.away = text

    def oper(
        self,
        session: FakeSession,
        name: str,
        password: str,
        done: Callable[[h.Refusal | None], None],
    ) -> None:
        # The real hub answers later (after a slow hash); this one at once.
        self._call("oper", name)
        if name not in self.opers:
            done(h.Refusal(h.NO_OPERATOR_HERE))
        elif self.opers[name] != password:
            done(h.Refusal(h.BAD_PASSWORD))
        else:
            session.flags.add(h.UserFlag.OPERATOR)
            done(None)

    # Passwords: the real hub answers later (a slow hash, off the loop); this one at once.
    def needs_password(self) -> bool:
        return self.password is not None

    def has_accounts(self) -> bool:
        return bool(self.accounts)

    def is_account(self, name: str) -> bool:
        return names.key(name) in self.accounts

    def private_link(self, session: FakeSession) -> bool:
        return self.link_private

    def check_password(
        self,
        session: FakeSession,
        account: str | None,
        password: str,
        done: Callable[[bool], None],
    ) -> None:
        self._call("check_password", account)
        if account is None:
            done(password == self.password)
            return
        ok = self.accounts.get(names.key(account)) == password
        if ok:
            session.account = account
        done(ok)

    def account_of(self, session: FakeSession) -> str | None:
        return session.account

    def ban_server(self, session: FakeSession, mask: str, reason: str) -> h.Refusal | None:
        self._call("ban_server", mask, reason)
        if mask in self.server_bans:
            return h.Refusal(codes.ALREADY_LISTED, mask)
        self.server_bans.append(mask)
        return None

    def unban_server(self, session: FakeSession, mask: str) -> h.Refusal | None:
        self._call("unban_server", mask)
        if mask not in self.server_bans:
            return h.Refusal(codes.NOT_LISTED, mask)
        self.server_bans.remove(mask)
        return None

    def kill(self, session: FakeSession, nick: str, reason: str) -> h.Refusal | None:
        self._call("kill", nick, reason)
        target = self._user(nick)
        if target is None:
            return h.Refusal(h.NO_SUCH_NICK, nick)
        self.close(target, reason)
        return None

    def stats(self) -> h.ServerStats:
        invisible = sum(1 for u in self.users.values() if h.UserFlag.INVISIBLE in u.flags)
        operators = sum(1 for u in self.users.values() if h.UserFlag.OPERATOR in u.flags)
        return h.ServerStats(
            len(self.users) - invisible, invisible, operators, self.unregistered, len(self.rooms)
        )

    def history(self, session: FakeSession, target: str, query: h.HistoryQuery) -> h.Refusal | None:
        self._call("history", target, query)
        if target.startswith("#"):
            found = self._room(target)
            if found is None or session not in found.members:
                return h.Refusal(h.NOT_IN_ROOM, target)
        elif self._user(target) is None:
            return h.Refusal(h.NO_SUCH_NICK, target)
        return None

    def close(self, session: FakeSession, reason: str) -> None:
        self._call("close", session.nick, reason)
        session.closed = reason
        if self.users.get(names.key(session.nick)) is session:
            del self.users[names.key(session.nick)]
            self.gone.append(
                h.PastUser(session.nick, session.user, session.host, session.realname, FIXED)
            )
            for key, room in list(self.rooms.items()):
                room.members.pop(session, None)
                if not room.members:
                    del self.rooms[key]
        elif not session.nick:
            self.unregistered -= 1
