"""The hub: every session, nickname and room of one server, and the chat operations,
the same for every door.

The hub never asks which door a session came through and never speaks prose. It
takes neutral operations (register, join, part, say, ...) and answers with typed
events that each session's codec renders for its reader; what a newcomer is greeted
with, whether a first line is a nickname, whether everyone starts in #lobby: that is
the door's policy (doors/). Costs grow with the people involved: a message costs
O(members of its room), a join, part, nick change or quit O(members of the rooms
involved); nothing walks every user.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from soketler.core import moderation
from soketler.core.answers import (
    PastUser,
    Refusal,
    RoomState,
    ServerStats,
    UserFlag,
    UserInfo,
)
from soketler.core.archive import Archive, Page, Saved, Topic
from soketler.core.bans import ServerBans
from soketler.core.counts import Counts
from soketler.core.credentials import Credentials
from soketler.core.delivery import Delivery, Run, private_stream, room_stream
from soketler.core.nicks import Nicks
from soketler.core.owners import NickOwners
from soketler.core.people import Census, PastUsers
from soketler.core.rooms import Rooms
from soketler.core.session import (
    BOT,
    INVISIBLE,
    SERVER_OPERATOR,
    Peer,
    Room,
    Session,
    SessionState,
)
from soketler.core.texts import SERVER_SHUTDOWN
from soketler.protocols import codes, names
from soketler.protocols.events import (
    AwayChanged,
    Bye,
    ChatMessage,
    Codec,
    Error,
    HistoryEnd,
    HistoryPage,
    Invited,
    Joined,
    Kicked,
    Member,
    Members,
    ModeChanged,
    NickChanged,
    Parted,
    Quit,
    RequestId,
    RoomChange,
    RoomInfo,
    RoomList,
    RoomSetting,
    SearchEnd,
    SearchPage,
    ServerEvent,
    TagMessage,
    TopicChanged,
    TopicReply,
    View,
)
from soketler.protocols.plain import PLAIN
from soketler.protocols.query import QueryError, parse_query

Clock = Callable[[], datetime]
# What an operator check answers: None (the name and password are right), or the code
# of the refusal (codes.BAD_PASSWORD, codes.NO_OPERATOR_HERE).
OperAnswer = Callable[[str | None], None]
USER_FLAGS = {UserFlag.INVISIBLE: INVISIBLE, UserFlag.BOT: BOT, UserFlag.OPERATOR: SERVER_OPERATOR}
# Messages waiting for the store at once; past this, senders are told to wait. It
# bounds memory when the disk is slower than the people typing.
MAX_PENDING = 10_000
MAX_PAGE = 200  # messages in one history reply
MAX_SEARCH = 100  # messages in one search reply
# Names listed to someone joining a big room; /who lists them all.
NAMES_ON_JOIN = 100
# The most a nickname can add to a member list: 4 bytes a character in UTF-8, each
# maybe escaped in JSON, and a separator.
NICK_BYTES_MAX = names.MAX_NICK * 8 + 4
# Bytes of text one reply (a history page, a member list, the room list) may hold, so
# that no answer is bigger than a reader's SendQ: a bigger one is cut, and says so
# ("more" on a history page, the count of all members or rooms on the others).
REPLY_BUDGET = 256 * 1024
# Rooms one session may be in: rooms cost memory, and no one client may make it grow.
MAX_ROOMS_PER_USER = 100
# Invitations one room keeps (one is forgotten for each past it).
MAX_INVITES = 100


def _utf8_size(text: str) -> int:
    # JSON escapes a quote or a backslash with one more byte.
    return len(text.encode("utf-8", "replace")) + text.count('"') + text.count("\\")


def utc_now() -> datetime:
    return datetime.now(UTC)


class OperatorCheck(Protocol):
    """Checks an operator's name and password (a slow hash: off the loop), then calls
    `done` on the loop's thread with None or a refusal code."""

    def check(self, name: str, password: str, address: str, done: OperAnswer) -> None: ...


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def compose(
    session: Session,
    message_id: int,
    time: datetime,
    text: str,
    action: bool,
    notice: bool,
    tags: Mapping[str, str] | None,
    *,
    room: Room | None = None,
    to: Session | None = None,
) -> ChatMessage:
    """What `session` says, to a room or to one person, as the message everyone reads."""
    return ChatMessage(
        message_id,
        time,
        session.nick,
        text,
        room=room.name if room is not None else None,
        to=to.nick if to is not None else None,
        action=action,
        user=session.user,
        host=session.host,
        notice=notice,
        tags=tags or {},
        bot=session.has(BOT),
    )


class Hub:
    def __init__(
        self,
        server_name: str = "soketler",
        clock: Clock = utc_now,
        archive: Archive | None = None,
        saved: Saved | None = None,
        replay: int = 20,
        announce_limit: int = 1000,
        reply_budget: int = REPLY_BUDGET,
    ) -> None:
        self.server_name = server_name
        self.clock = clock
        self.sessions: set[Session] = set()
        self.nicks = Nicks()
        self.rooms = Rooms()
        self.delivery = Delivery()
        self.archive = archive
        self.replay = replay  # messages a door that replays on join shows
        # Joins, parts and quits are announced only in rooms up to this size (0: all).
        # Past it they are noise to people, and announcing each one to everyone makes
        # filling a room cost O(members²).
        self.announce_limit = announce_limit
        self.reply_budget = reply_budget
        saved = saved or Saved()
        self.next_id = saved.last_id + 1
        self.rooms.saved_topics.update(saved.topics)
        self.pending = 0  # messages given to the archive and not yet stored
        self.past = PastUsers()
        self.census = Census()
        self.operators: OperatorCheck | None = None  # None: nobody may become one
        # Nicknames kept for their owners (accounts, SSH keys), and the server's bans:
        # every door's registration and nick change is checked against them.
        self.owners = NickOwners()
        self.bans = ServerBans()
        self.credentials: Credentials | None = None  # None: no server password, no accounts
        self.counts = Counts()  # for the server's metrics

    @property
    def defer(self) -> Callable[[Run], object] | None:
        return self.delivery.defer

    @defer.setter
    def defer(self, defer: Callable[[Run], object] | None) -> None:
        self.delivery.defer = defer

    def resume(self, archive: Archive, saved: Saved) -> None:
        """Attaches the history store and continues where the last run stopped."""
        self.archive = archive
        self.next_id = max(self.next_id, saved.last_id + 1)
        self.rooms.saved_topics.update(saved.topics)

    # --- sessions ------------------------------------------------------------------------

    def open(self, peer: Peer, address: str = "", door: str = "", codec: Codec = PLAIN) -> Session:
        """A client connected through `door`; the door greets it."""
        session = Session(peer, address, door, codec)
        session.state = SessionState.REGISTERING
        self.sessions.add(session)
        self.counts.accepted[door] += 1
        self.counts.open[door] += 1
        return session

    def close(self, session: Session, reason: str, *, tell: bool = True) -> None:
        """Ends a session: announces the quit, says goodbye, closes. Idempotent."""
        if session.closed:
            return
        registered = session.registered
        session.state = SessionState.CLOSING
        self.sessions.discard(session)
        self.counts.open[session.door] -= 1
        # What was said to it and still waits for the store reaches it before it goes.
        streams = self.delivery.streams_of(session)
        if registered:
            self.nicks.release(session)
            self.census.left(session)
            now = self.clock()
            self.past.remember(session, now)
            quit_ = Quit(now, session.nick, reason, session.user, session.host)
            self._tell_rooms_once(session, quit_, include_self=False, quiet_big=True)
            for room in list(session.rooms.values()):
                self.rooms.leave(session, room)

        def goodbye() -> None:
            if tell:
                Delivery.write(session, Bye(reason))
            session.peer.close(reason)

        self.delivery.after_all(streams, goodbye)

    def shutdown(self, reason: str = SERVER_SHUTDOWN) -> None:
        """Tells everyone goodbye and closes every session (no quit announcements:
        everybody is leaving at once, and announcing would cost O(users²))."""
        bye = Bye(reason)
        for session in list(self.sessions):
            session.state = SessionState.CLOSING
            # At once, not behind messages waiting for the store: the peer closes now,
            # and what waits will never be delivered to a closed session anyway.
            Delivery.write(session, bye)
            session.peer.close(reason)
        self.sessions.clear()
        self.census = Census()
        self.counts.open.clear()
        self.nicks.clear()
        self.rooms.clear()
        self.delivery.clear()

    def find_session(self, nick: str) -> Session | None:
        return self.nicks.get(nick)

    # --- replies -------------------------------------------------------------------------

    def send(
        self,
        session: Session,
        event: ServerEvent,
        view: View = View.HERE,
        stream: str | None = None,
    ) -> None:
        """One event to one session, in order: after what waits in `stream` (the room
        or conversation the event is about), or, about none, after everything waiting
        that the session reads (a reply comes after what was said to it before)."""

        def run() -> None:
            Delivery.write(session, event, view)

        if stream is not None:
            self.delivery.emit(stream, run)
        else:
            self.delivery.after_all(self.delivery.streams_of(session), run)

    def send_bytes(self, session: Session, data: bytes) -> None:
        """Bytes a door made for one session (its own replies), in the same order as an
        event sent without a stream: after everything waiting that the session reads."""

        def run() -> None:
            session.peer.write(data)

        self.delivery.after_all(self.delivery.streams_of(session), run)

    def error(
        self,
        session: Session,
        code: str,
        re: RequestId = None,
        subject: str = "",
        detail: str = "",
    ) -> None:
        self.send(session, Error(code, re=re, subject=subject, detail=detail))

    def refuse(self, session: Session, refusal: Refusal, re: RequestId = None) -> None:
        """A refusal as the error event every door renders."""
        self.error(session, refusal.code, re, refusal.subject, refusal.detail)

    # --- nicknames -----------------------------------------------------------------------

    def register(self, session: Session, nick: str, re: RequestId = None) -> bool:
        """Gives a registering session its nickname; on refusal, says why (as a prompt
        to choose again)."""
        refusal = self.claim(session, nick)
        if refusal is not None:
            subject, detail = refusal.subject, refusal.detail
            self.send(
                session, Error(refusal.code, re=re, subject=subject, detail=detail, prompt=True)
            )
            return False
        return True

    def claim(
        self, session: Session, nick: str, user: str = "", realname: str = ""
    ) -> Refusal | None:
        """Registers a session under `nick` (with the user name and real name its door
        learnt), or says why not; says nothing to anyone."""
        nick = names.normalize(nick)
        problem = self.nicks.problem(session, nick)
        if problem is not None:
            code, detail = problem
            return Refusal(code, nick, detail)
        refusal = self._kept_from(session, nick, user or session.user or nick)
        if refusal is not None:
            return refusal
        self._take_nick(session, nick)
        session.user = user or session.user or nick
        session.realname = realname or session.realname
        session.signon = self.clock().timestamp()
        session.state = SessionState.REGISTERED
        self.census.registered(len(self.nicks))
        if session.has(INVISIBLE):
            self.census.flag_changed(session, INVISIBLE, True)
        return None

    def rename(self, session: Session, nick: str, re: RequestId = None) -> bool:
        """Changes a registered session's nickname, telling everyone who shares a room
        with it (and itself)."""
        refusal = self.change_nick(session, nick)
        if refusal is not None:
            self.refuse(session, refusal, re)
            return False
        return True

    def change_nick(self, session: Session, nick: str) -> Refusal | None:
        """Changes a registered session's nickname, telling everyone who shares a room
        with it (and itself), or says why not."""
        nick = names.normalize(nick)
        problem = self.nicks.problem(session, nick)
        if problem is not None:
            code, detail = problem
            return Refusal(code, nick, detail)
        old = session.nick
        if nick == old:
            return None
        refusal = self._kept_from(session, nick, session.user)
        if refusal is not None:
            return refusal
        now = self.clock()
        self.past.remember(session, now)
        self._take_nick(session, nick)
        changed = NickChanged(now, old, nick, session.user, session.host)
        self._tell_rooms_once(session, changed, include_self=True)
        return None

    def _kept_from(self, session: Session, nick: str, user: str) -> Refusal | None:
        """Why `session` may not have `nick` though nobody holds it: it belongs to
        someone else (an account, an SSH key), or a server ban matches it."""
        refusal = self.owners.refusal(session, nick)
        if refusal is not None:
            return refusal
        ban = self.bans.for_person(nick, user, session.host, session.address) if self.bans else None
        return None if ban is None else Refusal(codes.SERVER_BANNED, nick, ban.reason)

    def _take_nick(self, session: Session, nick: str) -> None:
        self.nicks.take(session, nick)
        # Private history is keyed by nickname: from now on, not before, what is said
        # to this nickname is this session's (an earlier holder's messages stay theirs).
        # An account's owner reads it from the account's start, across sessions.
        session.nick_since = self.owners.private_since(session, self.next_id)

    def _tell_rooms_once(
        self, session: Session, event: ServerEvent, include_self: bool, quiet_big: bool = False
    ) -> None:
        """Tells everyone who shares a room with `session` once, each through one room's
        stream, preferring rooms where something waits (the session's own last message,
        most often), so that it comes after it: O(members of its rooms)."""
        told: set[Session] = set() if include_self else {session}
        rooms = sorted(
            session.rooms.values(),
            key=lambda r: not self.delivery.pending(room_stream(r)),
        )
        for room in rooms:
            if quiet_big and not self.announces(room):
                continue
            audience = [s for s in room.members if s not in told]
            told.update(audience)
            if audience:
                self.delivery.fanout(room_stream(room), event, audience, room)
        if include_self and session not in told:
            self.send(session, event)

    # --- rooms ---------------------------------------------------------------------------

    def announces(self, room: Room) -> bool:
        """Whether joins, parts and quits are told to everyone in the room."""
        return self.announce_limit <= 0 or len(room.members) <= self.announce_limit

    def join(
        self,
        session: Session,
        name: str,
        re: RequestId = None,
        replay: int = 0,
        key: str | None = None,
    ) -> Room | None:
        """`enter`, saying why not (an error event) when refused."""
        entered = self.enter(session, name, key, replay=replay, re=re)
        if isinstance(entered, Refusal):
            self.refuse(session, entered, re)
            return None
        return entered

    def enter(
        self,
        session: Session,
        name: str,
        key: str | None = None,
        *,
        replay: int = 0,
        names_shown: int = NAMES_ON_JOIN,
        re: RequestId = None,
    ) -> Room | Refusal:
        """Puts the session in a room (made if needed), if the room's settings let it
        in; the room hears of it, the joiner gets the member list (the first
        `names_shown` names, 0: all the reply budget holds) and, with `replay`, the
        room's last messages. A room the session is in already is returned as it is."""
        name = names.room_name(name)
        problem = names.room_problem(name)
        if problem is not None:
            return Refusal(codes.ROOM_INVALID, name, problem)
        room = session.rooms.get(names.key(name))
        if room is not None:
            return room
        if len(session.rooms) >= MAX_ROOMS_PER_USER:
            return Refusal(codes.TOO_MANY_ROOMS, name, str(MAX_ROOMS_PER_USER))
        existing = self.rooms.get(name)
        if existing is not None:
            refusal = moderation.join_refusal(existing, session, key)
            if refusal is not None:
                return refusal
            existing.invited.discard(session.key)
        now = self.clock()
        room = self.rooms.enter(session, name, now.timestamp())
        stream = room_stream(room)
        joined = Joined(now, room.name, session.nick, session.user, session.host)
        if self.announces(room):
            self.delivery.fanout(stream, joined, room.members, room)
        else:
            self.send(session, joined, stream=stream)
        members = self.members(room, re, limit=names_shown, joining=True)
        self.send(session, members, stream=stream)
        if session.away is not None and self.announces(room):
            # Those who follow who is away learn it of a newcomer too.
            away = AwayChanged(now, session.nick, session.away, session.user, session.host)
            others = [member for member in room.members if member is not session]
            self.delivery.fanout(stream, away, others, room)
        if self.archive is not None and replay > 0:
            self.room_history(session, room, replay, None, None)
        return room

    def part(self, session: Session, room: Room, reason: str = "", re: RequestId = None) -> None:
        """Takes the session out of a room it is in; the room hears of it."""
        stream = room_stream(room)
        # Tell the room, the leaver included, before the leaver is gone from it.
        parted = Parted(self.clock(), room.name, session.nick, reason, session.user, session.host)
        if self.announces(room):
            self.delivery.fanout(stream, parted, room.members, room)
        else:
            self.send(session, parted, stream=stream)
        self.rooms.leave(session, room)

    def find_room(self, session: Session, name: str, re: RequestId) -> Room | None:
        """A room the session is in, by name; None (with an error sent) otherwise."""
        room = session.rooms.get(names.key(names.room_name(name)))
        if room is None:
            self.error(session, codes.NOT_IN_ROOM, re, names.room_name(name))
        return room

    def any_room(self, session: Session, name: str, re: RequestId) -> Room | None:
        """A room of the server, by name; None (with an error sent) if it has nobody."""
        room = self.rooms.get(name)
        if room is None:
            self.error(session, codes.NO_SUCH_ROOM, re, names.room_name(name))
        return room

    def set_topic(self, session: Session, room: Room, text: str, re: RequestId = None) -> bool:
        """`change_topic`, saying why not (an error event) when refused."""
        refusal = self.change_topic(session, room, text)
        if refusal is not None:
            self.refuse(session, refusal, re)
            return False
        return True

    def change_topic(self, session: Session, room: Room, text: str) -> Refusal | None:
        """Sets a room's topic (members only; operators only in a topic-locked room);
        everyone in the room hears of it."""
        refusal = moderation.topic_refusal(room, session)
        if refusal is not None:
            return refusal
        now = self.clock()
        room.topic, room.topic_by, room.topic_time = text, session.nick, now.timestamp()
        topic = Topic(room.key, room.name, text, session.nick, now)
        self.rooms.save_topic(topic)
        if self.archive is not None:
            self.archive.save_topic(topic)
        changed = TopicChanged(now, room.name, session.nick, text, session.user, session.host)
        self.delivery.fanout(room_stream(room), changed, room.members, room)
        return None

    # --- room settings and status --------------------------------------------------------

    def room_state(self, room: Room) -> RoomState:
        flags = frozenset(room.settings)
        return RoomState(
            room.name,
            _moment(room.created),
            flags,
            room.password or None,
            room.limit or None,
            tuple(room.bans),
            tuple(room.mutes),
        )

    def change_room(
        self, session: Session, room: Room, changes: Sequence[RoomChange]
    ) -> tuple[Refusal, ...]:
        """Applies changes to a room's settings and members' status (room operators
        only), and tells everyone in the room what changed, in one event."""
        if not moderation.is_operator(room, session):
            return (Refusal(codes.NOT_OPERATOR, room.name),)
        now = self.clock()
        applied: list[RoomChange] = []
        refused: list[Refusal] = []
        for change in changes:
            target = None
            if change.setting in moderation.STATUS:
                target = self.nicks.get(change.value or "")
            outcome = moderation.apply(room, change, session.nick, now, target)
            if isinstance(outcome, Refusal):
                refused.append(outcome)
            elif outcome is not None:
                applied.append(outcome)
        if applied:
            changed = ModeChanged(
                now, room.name, session.nick, tuple(applied), session.user, session.host
            )
            self.delivery.fanout(room_stream(room), changed, room.members, room)
        return tuple(refused)

    def kick(self, session: Session, room: Room, nick: str, reason: str) -> Refusal | None:
        """A room operator puts someone out of the room; the room (they too) hears why."""
        if session not in room.members and not session.has(SERVER_OPERATOR):
            return Refusal(codes.NOT_IN_ROOM, room.name)
        if not moderation.is_operator(room, session):
            return Refusal(codes.NOT_OPERATOR, room.name)
        target = self.nicks.get(nick)
        if target is None:
            return Refusal(codes.NO_SUCH_NICK, nick)
        if target not in room.members:
            return Refusal(codes.USER_NOT_IN_ROOM, target.nick, room.name)
        kicked = Kicked(
            self.clock(), room.name, session.nick, target.nick, reason, session.user, session.host
        )
        self.delivery.fanout(room_stream(room), kicked, room.members, room)
        was_current = target.current is room
        self.rooms.leave(target, room)
        if was_current and target.rooms:
            # Someone whose door has a current room keeps having one.
            target.current = next(reversed(target.rooms.values()))
        return None

    def invite(self, session: Session, nick: str, room_name: str) -> Refusal | None:
        """Invites someone to a room (they may then join it past invite-only, a ban
        and nothing else); they are told."""
        target = self.nicks.get(nick)
        if target is None:
            return Refusal(codes.NO_SUCH_NICK, nick)
        room = self.rooms.get(room_name)
        if room is None:
            return Refusal(codes.NO_SUCH_ROOM, names.room_name(room_name))
        if session not in room.members:
            return Refusal(codes.NOT_IN_ROOM, room.name)
        if target in room.members:
            return Refusal(codes.ALREADY_IN_ROOM, target.nick, room.name)
        if RoomSetting.INVITE_ONLY in room.settings and not moderation.is_operator(room, session):
            return Refusal(codes.NOT_OPERATOR, room.name)
        if len(room.invited) >= MAX_INVITES:
            room.invited.pop()
        room.invited.add(target.key)
        invited = Invited(
            self.clock(), session.nick, target.nick, room.name, session.user, session.host
        )
        self.send(target, invited)
        return None

    def topic(self, session: Session, room: Room, re: RequestId = None) -> None:
        reply = TopicReply(room.name, room.topic, room.topic_by, re, room.topic_time)
        self.send(session, reply, stream=room_stream(room))

    def members(
        self, room: Room, re: RequestId = None, limit: int = 0, joining: bool = False
    ) -> Members:
        """Who is in a room; with a limit, only the first `limit` and the count. Past
        the reply budget the list is cut too (the count still tells all)."""
        listed: list[Member] = []
        size = _utf8_size(room.topic)
        # When even `limit` of the longest nicknames fit the budget, sizes need no
        # counting (a join lists 100: thousands joining at once would count each).
        counting = not limit or size + limit * NICK_BYTES_MAX > self.reply_budget
        count = -1
        for session, status in room.members.items():
            if counting:
                size += _utf8_size(session.nick) + 4  # and a separator
            if (limit and len(listed) >= limit) or (size > self.reply_budget and listed):
                count = len(room.members)
                break
            listed.append(
                Member(
                    session.nick,
                    status,
                    session.user,
                    session.host,
                    session.away is not None,
                    session.realname,
                    session.has(SERVER_OPERATOR),
                    session.has(BOT),
                )
            )
        users = tuple(m.nick for m in listed)
        return Members(
            room.name,
            room.topic,
            users,
            re,
            count,
            tuple(listed),
            joining,
            RoomSetting.SECRET in room.settings,
            room.topic_by,
            room.topic_time,
        )

    def room_list(self, re: RequestId = None, asker: Session | None = None) -> RoomList:
        """Rooms, the biggest first, as many as the reply budget holds; secret rooms only
        to their members."""
        rooms = sorted(
            (
                room
                for room in self.rooms.by_key.values()
                if RoomSetting.SECRET not in room.settings
                or (asker is not None and asker in room.members)
            ),
            key=lambda r: (-len(r.members), r.key),
        )
        listed: list[RoomInfo] = []
        size = 0
        for room in rooms:
            size += _utf8_size(room.name) + _utf8_size(room.topic) + 32  # and the JSON names
            if size > self.reply_budget and listed:
                break
            listed.append(RoomInfo(room.name, len(room.members), room.topic))
        return RoomList(tuple(listed), re, count=len(rooms))

    # --- messages ------------------------------------------------------------------------

    def new_message_id(self) -> int:
        mid = self.next_id
        self.next_id += 1
        return mid

    def say(
        self,
        session: Session,
        room: Room,
        text: str,
        action: bool = False,
        re: RequestId = None,
        notice: bool = False,
    ) -> None:
        """`speak`, saying why not (an error event) when refused."""
        refusal = self.speak(session, room, text, action=action, notice=notice, re=re)
        if refusal is not None:
            self.refuse(session, refusal, re)

    def speak(
        self,
        session: Session,
        room: Room,
        text: str,
        *,
        action: bool = False,
        notice: bool = False,
        tags: Mapping[str, str] | None = None,
        re: RequestId = None,
    ) -> Refusal | None:
        """A message to a room, if the room's settings let the session speak: stored,
        then delivered to the people in the room when it was said (the sender too, if it
        wants its own messages back)."""
        refusal = moderation.send_refusal(room, session) or self._busy()
        if refusal is not None:
            return refusal
        self.counts.room_messages += 1
        message = compose(
            session, self.new_message_id(), self.clock(), text, action, notice, tags, room=room
        )
        session.spoke = message.time
        if self.archive is None:
            self.delivery.fanout(room_stream(room), message, room.members, room, session)
            return None
        held = self.delivery.hold_message(message, room, session)
        self._store_then(message, session, re, held)
        return None

    def private(
        self,
        session: Session,
        target: Session,
        text: str,
        re: RequestId = None,
        action: bool = False,
        notice: bool = False,
    ) -> None:
        """`tell`, saying why not (an error event) when refused."""
        refusal = self.tell(session, target, text, action=action, notice=notice, re=re)
        if refusal is not None:
            self.refuse(session, refusal, re)

    def tell(
        self,
        session: Session,
        target: Session,
        text: str,
        *,
        action: bool = False,
        notice: bool = False,
        tags: Mapping[str, str] | None = None,
        re: RequestId = None,
    ) -> Refusal | None:
        """A private message: stored, then delivered to the recipient and (if it wants
        its own messages back) to the sender, marked as its own."""
        refusal = self._busy()
        if refusal is not None:
            return refusal
        self.counts.private_messages += 1
        message = compose(
            session, self.new_message_id(), self.clock(), text, action, notice, tags, to=target
        )
        session.spoke = message.time

        def deliver() -> None:
            Delivery.write(target, message)
            if target is not session and session.echo:
                Delivery.write(session, message, View.OWN)
            self.delivery.delivered += 1 if target is session else 2

        stream = private_stream(session.key, target.key)
        if self.archive is None:
            self.delivery.emit(stream, deliver)
            return None
        held = self.delivery.hold(stream)
        self._store_then(message, session, re, held, deliver)
        return None

    def tag_room(self, session: Session, room: Room, tags: Mapping[str, str]) -> Refusal | None:
        """Tags alone for a room (typing notices): not stored, in the room's order."""
        refusal = moderation.send_refusal(room, session)
        if refusal is not None:
            return refusal
        event = TagMessage(
            self.clock(),
            session.nick,
            tags,
            room.name,
            None,
            session.user,
            session.host,
            self.new_message_id(),
        )
        self.delivery.fanout(room_stream(room), event, room.members, room, session)
        return None

    def tag_person(self, session: Session, target: Session, tags: Mapping[str, str]) -> None:
        """Tags alone for one person: not stored, in the conversation's order."""
        event = TagMessage(
            self.clock(),
            session.nick,
            tags,
            None,
            target.nick,
            session.user,
            session.host,
            self.new_message_id(),
        )

        def deliver() -> None:
            Delivery.write(target, event)
            if target is not session and session.echo:
                Delivery.write(session, event, View.OWN)

        self.delivery.emit(private_stream(session.key, target.key), deliver)

    def _busy(self) -> Refusal | None:
        """Whether a new message must be refused because the store cannot take it now.
        (A failing store answers each message with its failure, at once, until it can
        write again: see store.archive.ThreadedArchive.)"""
        if self.pending >= MAX_PENDING:
            self.counts.busy += 1
            return Refusal(codes.BUSY)
        return None

    def _store_then(
        self,
        message: ChatMessage,
        sender: Session,
        re: RequestId,
        held: object,
        deliver: Run | None = None,
    ) -> None:
        """Stores the message, then releases its place in the stream (`deliver`, or the
        room message held there). Nobody sees what was not stored."""
        assert self.archive is not None
        self.pending += 1
        delivery = self.delivery

        def stored(failure: str | None) -> None:
            self.pending -= 1
            if failure is None:
                delivery.release(held, deliver)  # type: ignore[arg-type]
                return
            error = Error(codes.STORE_FAILED, re=re, detail=failure)
            delivery.release(held, lambda: Delivery.write(sender, error))  # type: ignore[arg-type]

        self.archive.append(message, stored)

    # --- history -------------------------------------------------------------------------

    def room_history(
        self, session: Session, room: Room, limit: int, before: int | None, re: RequestId
    ) -> None:
        """A page of a room's history, in the room's stream: after what was said before
        the request, before what is said after it."""
        end = HistoryEnd(room.name, 0, False, re=re)
        stream = room_stream(room)
        if self.archive is None:
            self.send(session, HistoryPage((), end), stream=stream)
            return
        bound = self.newest(stream) if before is None else before
        got = self._page_for(session, end, stream)
        self.archive.room_page(room.key, min(limit, MAX_PAGE), bound, got)

    def private_history(
        self, session: Session, nick: str, limit: int, before: int | None, re: RequestId
    ) -> None:
        """A page of the session's private conversation with `nick`, since it took its
        nickname."""
        end = HistoryEnd(None, 0, False, with_nick=nick, re=re)
        stream = private_stream(session.key, names.key(nick))
        if self.archive is None:
            self.send(session, HistoryPage((), end, session.key), stream=stream)
            return
        bound = self.newest(stream) if before is None else before
        got = self._page_for(session, end, stream, own=session.key)
        self.archive.private_page(
            session.key, names.key(nick), min(limit, MAX_PAGE), bound, session.nick_since, got
        )

    def newest(self, stream: str | None) -> int | None:
        """The bound of a history page asked for with no "before": every message
        already delivered in the stream is below it, every one to come at or above it
        (None: no bound)."""
        return self.next_id

    def _page_for(
        self, session: Session, end: HistoryEnd, stream: str, own: str = ""
    ) -> Callable[[Page | str], None]:
        """Holds the stream's later deliveries until the store answers; then shows the
        page."""
        held = self.delivery.hold(stream)

        def got(page: Page | str) -> None:
            self.delivery.release(held, lambda: self._show_page(session, page, end, own))

        return got

    def _show_page(self, session: Session, page: Page | str, end: HistoryEnd, own: str) -> None:
        """Sends a page to one session, cut to the reply budget: the newest messages are
        kept, so that "before" the oldest one shown continues without a gap."""
        if isinstance(page, str):
            Delivery.write(session, Error(codes.STORE_FAILED, re=end.re, detail=page))
            return
        kept: list[ChatMessage] = []
        size = 0
        for message in reversed(page.messages):
            size += _utf8_size(message.text) + _utf8_size(message.sender) + 96  # and fields
            if size > self.reply_budget and kept:
                break
            kept.append(message)
        kept.reverse()
        more = page.more or len(kept) < len(page.messages)
        oldest = kept[0].id if kept else None
        end = HistoryEnd(end.room, len(kept), more, end.with_nick, end.re, oldest)
        Delivery.write(session, HistoryPage(tuple(kept), end, own))

    # --- people --------------------------------------------------------------------------

    def set_away(self, session: Session, text: str | None) -> None:
        """Marks the session away (with why) or back; the people it shares a room with
        hear of it, each once."""
        if session.away == text:
            return
        session.away = text
        if session.registered:
            event = AwayChanged(self.clock(), session.nick, text, session.user, session.host)
            self._tell_rooms_once(session, event, include_self=False)

    def set_user_flag(self, session: Session, flag: UserFlag, on: bool) -> bool:
        """Turns a flag of the session on or off, whether that changed it. Server
        operator status can be dropped here, and only given by `oper`."""
        bit = USER_FLAGS[flag]
        if bit == SERVER_OPERATOR and on:
            return False
        changed = session.set_flag(bit, on)
        if changed and session.registered:
            self.census.flag_changed(session, bit, on)
        return changed

    def whois(self, nick: str, asker: Session | None = None) -> UserInfo | Refusal:
        """What anyone may know of a person: secret rooms are listed only to people in
        them. O(rooms of that person)."""
        target = self.nicks.get(nick)
        if target is None:
            return Refusal(codes.NO_SUCH_NICK, names.normalize(nick))
        rooms = tuple(
            (status, room.name)
            for room in target.rooms.values()
            for status in (room.members.get(target, ""),)
            if RoomSetting.SECRET not in room.settings
            or (asker is not None and asker in room.members)
        )
        since = target.spoke.timestamp() if target.spoke is not None else target.signon
        idle = max(0.0, self.clock().timestamp() - since)
        return UserInfo(
            target.nick,
            target.user,
            target.host,
            target.realname,
            _moment(target.signon),
            idle,
            rooms,
            target.away,
            operator=target.has(SERVER_OPERATOR),
            bot=target.has(BOT),
            invisible=target.has(INVISIBLE),
            account=target.account,
            secure=target.secure,
        )

    def roommates(self, session: Session, limit: int) -> list[Session]:
        """The session and the people it shares a room with, each once, at most
        `limit`: who a wildcard question may look through, O(members of its rooms)
        rather than O(users)."""
        found = {session: None}
        for room in session.rooms.values():
            for member in room.members:
                if len(found) >= limit:
                    return list(found)
                found.setdefault(member, None)
        return list(found)

    def whowas(self, nick: str, limit: int) -> tuple[PastUser, ...]:
        """Who had a nickname (a mask may hold * and ?) and left it, newest first."""
        return self.past.find(nick, limit)

    def stats(self) -> ServerStats:
        """The server's head counts, from counters: O(1)."""
        census = self.census
        registered = len(self.nicks)
        return ServerStats(
            registered - census.invisible,
            census.invisible,
            census.operators,
            len(self.sessions) - registered,
            len(self.rooms),
            census.most,
        )

    def oper(
        self, session: Session, name: str, password: str, done: Callable[[Refusal | None], None]
    ) -> None:
        """Checks an operator's name and password (off the loop: a slow hash); on
        success the session becomes a server operator. `done` gets the outcome."""
        if self.operators is None:
            done(Refusal(codes.NO_OPERATOR_HERE))
            return
        # Replies to the session wait for the answer (it waits in a stream of its own,
        # which every reply to it waits for): a PONG never overtakes it.
        held = self.delivery.hold(private_stream(session.key, session.key))

        def answer(code: str | None) -> None:
            def run() -> None:
                if session.closed:
                    return
                if code is not None:
                    done(Refusal(code))
                    return
                if session.set_flag(SERVER_OPERATOR, True) and session.registered:
                    self.census.flag_changed(session, SERVER_OPERATOR, True)
                done(None)

            self.delivery.release(held, run)

        self.operators.check(name, password, session.address, answer)

    def kill(self, session: Session, nick: str, reason: str) -> Refusal | None:
        """A server operator ends someone's session; the people who shared a room with
        them hear `reason` as their quit."""
        if not session.has(SERVER_OPERATOR):
            return Refusal(codes.NOT_SERVER_OPERATOR)
        target = self.nicks.get(nick)
        if target is None:
            return Refusal(codes.NO_SUCH_NICK, names.normalize(nick))
        self.close(target, reason)
        return None

    # --- search --------------------------------------------------------------------------

    def search(
        self,
        session: Session,
        text: str,
        limit: int,
        before: int | None = None,
        tz: tzinfo = UTC,
        re: RequestId = None,
    ) -> None:
        """The newest `limit` messages matching a search (protocols/query.py) below
        `before` that the session may read: those of the rooms it is in, and its own
        private messages since it took its nickname, as its private history pages. One
        `SearchPage` answers, after everything waiting that the session reads. Dates of
        the search are days in `tz`."""
        try:
            query = parse_query(text)
        except QueryError as exc:
            self.error(session, codes.BAD_QUERY, re, detail=str(exc))
            return
        rooms = frozenset(session.rooms)
        if query.room is not None and names.key(query.room) not in rooms:
            self.error(session, codes.NOT_IN_ROOM, re, names.room_name(query.room))
            return
        end = SearchEnd(text, 0, False, re)
        if self.archive is None:
            self.send(session, SearchPage((), end, session.key))
            return
        # Bounded by the newest id now, as replays are: what is said meanwhile is seen live.
        newest = self.newest(None)
        bound = newest if before is None else before if newest is None else min(before, newest)

        def found(page: Page | str) -> None:
            self.send(session, self._search_reply(page, end, session.key))

        limit = max(1, min(limit, MAX_SEARCH))
        self.archive.search(query, session.key, rooms, limit, bound, session.nick_since, tz, found)

    def _search_reply(self, page: Page | str, end: SearchEnd, own: str) -> ServerEvent:
        """What a search found, cut to the reply budget (the newest matches kept, so
        that "before" the oldest one shown continues without a gap)."""
        if isinstance(page, str):
            return Error(codes.STORE_FAILED, re=end.re, detail=page)
        kept: list[ChatMessage] = []
        size = 0
        for message in reversed(page.messages):
            size += _utf8_size(message.text) + _utf8_size(message.sender) + 96  # and fields
            if size > self.reply_budget and kept:
                break
            kept.append(message)
        kept.reverse()
        more = page.more or len(kept) < len(page.messages)
        oldest = kept[0].id if kept else None
        return SearchPage(tuple(kept), SearchEnd(end.query, len(kept), more, end.re, oldest), own)
