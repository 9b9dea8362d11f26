"""The hub in cluster mode: the same operations, with the order of every room and
private conversation taken from a stream that all nodes share (`core.bus`).

A node publishes and delivers nothing itself: it delivers what comes back from the
stream, at the point of the stream where it is, so every node delivers a room's events
in one order, and a message's id is its cursor in the stream. What a door asks is
checked here as in one process (the rules are the same code, `moderation`), against
this node's replica of each room it has members in: the room's members on every node
(each a `Session` with the REMOTE flag, written to by nobody), settings and topic, kept
by applying the room's stream. The replica starts from the records the bus keeps beside
the stream, read in the same step as the stream's position (`Bus.snapshot`), and
follows the stream from there: nothing is missed, nothing applied twice.

Everyone connected anywhere is known from the directory stream, which every node reads
from its start: nicknames are checked, people found (`/msg`, WHOIS, KICK, MODE +o) and
rooms listed from memory, as one process does. A nickname belongs to one node at a time
by a claim on the bus (`Bus.claim`); the check in memory only spares most people the
wait. Two people taking the same name on two nodes at the same moment: one claim wins,
and the other person is given another name, as IRC networks do on a collision.

Faults: while the bus cannot be reached, messages said here are delivered here at once
and wait to be published; people are told cross-node delivery is degraded, and told
again when it is restored; what other nodes said meanwhile comes in the stream's order
when the bus is back, and what this node said comes back from the stream without
being delivered here twice.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from soketler.core import bus as b
from soketler.core import moderation, room_records
from soketler.core.answers import Refusal, ServerStats, UserFlag
from soketler.core.archive import Page
from soketler.core.bus import Bus, Effect, Entry, MemberRecord, Snapshot, UserRecord
from soketler.core.delivery import Delivery, _Held, private_stream
from soketler.core.hub import (
    MAX_INVITES,
    MAX_PENDING,
    MAX_ROOMS_PER_USER,
    NAMES_ON_JOIN,
    REPLY_BUDGET,
    Clock,
    Hub,
    _utf8_size,
    compose,
    utc_now,
)
from soketler.core.session import (
    BOT,
    INVISIBLE,
    NOWHERE,
    REMOTE,
    SERVER_OPERATOR,
    Room,
    Session,
    SessionState,
)
from soketler.core.texts import (
    CLUSTER_DEGRADED,
    CLUSTER_RESTORED,
    NODE_GONE,
    SERVER_SHUTDOWN,
)
from soketler.protocols import codes, names
from soketler.protocols.events import (
    AwayChanged,
    Bye,
    ChatMessage,
    Error,
    HistoryEnd,
    Info,
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
    ServerEvent,
    TagMessage,
    TopicChanged,
    View,
)

log = logging.getLogger("soketler.cluster")

Later = Callable[[float, Callable[[], None]], object]
REMOTE_DOOR = "remote"  # the door of a user of another node, as counts and logs see it
# Flags of a user that other nodes show (the rest are this node's business).
SHOWN_FLAGS = INVISIBLE | BOT | SERVER_OPERATOR
RETRY_PAUSE = 1.0  # seconds before asking the bus again after it failed
COUNT_EVERY = 0.2  # seconds: rooms' member counts go to the directory at most this often
PRIVATE_IDLE = 600.0  # seconds: a private conversation not spoken in is no longer read
REMEMBERED_TOKENS = 10_000  # operations applied (quits, renames) remembered, against repeats
PENDING_TOKENS = 100_000  # this node's operations whose entries are awaited, at most


def _nothing() -> None:
    return


@dataclass(slots=True)
class _Join:
    session: Session
    key: str | None
    replay: int
    names_shown: int
    re: RequestId


@dataclass(slots=True)
class _Mine:
    """An operation of this node, until its entry (or first entry) comes back."""

    session: Session | None
    join: _Join | None = None
    message: ChatMessage | TagMessage | None = None
    room: Room | None = None  # of a room message
    hold: _Held | None = None  # the session's replies wait for the echo
    early: bool = False  # delivered here when said (the bus was away)
    rooms: tuple[str, ...] = ()  # of a quit: whose members here are told
    new_key: str = ""  # of a rename: the nickname key reserved


@dataclass(slots=True)
class _Sync:
    """A room being read for the first time: who waits to join it."""

    held: _Held
    joins: list[_Join] = field(default_factory=list)


class ClusterHub(Hub):
    def __init__(
        self,
        bus: Bus | None = None,
        server_name: str = "soketler",
        clock: Clock = utc_now,
        replay: int = 20,
        announce_limit: int = 1000,
        reply_budget: int = REPLY_BUDGET,
    ) -> None:
        """`bus` may be attached later (`attach`), before anything else is asked."""
        super().__init__(
            server_name,
            clock,
            replay=replay,
            announce_limit=announce_limit,
            reply_budget=reply_budget,
        )
        self._bus: Bus | None = None
        self.node = ""
        if bus is not None:
            self.attach(bus)
        self.healthy = True
        # How to run something later (the server sets loop.call_later).
        self.later: Later | None = None
        self.users: dict[str, Session] = {}  # users of other nodes, by nickname key
        self.room_counts: dict[str, dict[str, int]] = {}  # room key -> node -> members
        self.room_names: dict[str, tuple[str, str, bool]] = {}  # room key -> name, topic, secret
        self._tokens = itertools.count(1)
        self._mine: OrderedDict[str, _Mine] = OrderedDict()
        self._applied: OrderedDict[str, None] = OrderedDict()
        self._sync: dict[str, _Sync] = {}
        self._joining: dict[str, set[Session]] = {}  # room key -> sessions on their way in
        self._gates: dict[Session, list[Callable[[], object]]] = {}  # claims on their way
        self._reserved: dict[str, Session] = {}  # nickname keys claimed for a rename
        self._last: dict[str, int] = {}  # stream -> cursor of the last entry applied
        self._private_seen: dict[str, float] = {}  # followed conversations -> last use
        self._counts_due: set[str] = set()
        self._count_timer = False
        self._applying = False  # inside the delivery of a stream's entry
        # Sessions of this node that quit, by the quit's token, until its entry in each
        # of their rooms comes back (a quit of ours is in as many streams as rooms).
        self._leaving: dict[str, tuple[Session, set[str]]] = {}

    # --- starting and stopping ---------------------------------------------------------

    def attach(self, bus: Bus) -> None:
        self._bus = bus
        self.node = bus.node
        bus.attach(self)

    @property
    def bus(self) -> Bus:
        assert self._bus is not None, "no bus attached"
        return self._bus

    def start(self, ready: Callable[[bool], None]) -> None:
        """Reads the directory, then follows it; `ready(True)` once this node knows
        who is where (False: the bus could not be read)."""

        def loaded(snapshot: Snapshot | None) -> None:
            if snapshot is None:
                ready(False)
                return
            self._load_directory(snapshot)
            self.bus.follow(b.DIRECTORY, snapshot.position)
            ready(True)

        self.bus.snapshot(b.DIRECTORY, (b.USERS, b.COUNTS, b.ROOMS), loaded)

    def _load_directory(self, snapshot: Snapshot) -> None:
        for nick_key, text in snapshot.records.get(b.USERS, {}).items():
            try:
                record = UserRecord.decode(text)
            except (ValueError, TypeError) as exc:
                log.error("a damaged user record for %s: %s", nick_key, exc)
                continue
            if record.node != self.node:
                self._remember_user(record)
        for counted, text in snapshot.records.get(b.COUNTS, {}).items():
            room_key, _, node = counted.rpartition("|")
            if text.isdigit() and int(text) > 0:
                self.room_counts.setdefault(room_key, {})[node] = int(text)
        for room_key, text in snapshot.records.get(b.ROOMS, {}).items():
            try:
                name, topic, secret = json.loads(text)
            except (ValueError, TypeError):
                continue
            self.room_names[room_key] = (str(name), str(topic), bool(secret))

    def shutdown(self, reason: str = SERVER_SHUTDOWN) -> None:
        """Goodbye to everyone here, then the others hear that this node has left
        (one entry per room and one in the directory, not one per user)."""
        rooms = [
            (room.key, room.name)
            for room in self.rooms.by_key.values()
            if room.audience() or self._joining.get(room.key)
        ]
        counted = [key for key, nodes in self.room_counts.items() if self.node in nodes]
        counted += self._counts_due
        super().shutdown(reason)
        self._gates.clear()
        self._leave(self.node, reason, rooms, counted)

    def _leave(
        self, node: str, reason: str, rooms: Sequence[tuple[str, str]], counted: Sequence[str]
    ) -> None:
        """Everything a node held, removed for everyone (this node stopping, or one
        found dead): its members of each room, its users, its rooms' counts."""
        gone = b.NodeLeft(node, reason)
        for room_key, _ in rooms:
            drop = Effect(b.DROP_NODE, b.MEMBERS, (node,))
            self._publish(room_key, gone, self._token(), effects=(drop,))
        effects = [Effect(b.DROP_NODE, b.USERS, (node,))]
        effects += [
            Effect(b.DELETE, b.COUNTS, (b.count_field(room_key, node),))
            for room_key in sorted(set(counted))
        ]
        self._publish(b.DIRECTORY, gone, self._token(), effects=effects)

    # --- operations and their tokens ---------------------------------------------------

    def _token(self) -> str:
        return f"{self.node}:{next(self._tokens)}"

    def _publish(
        self,
        stream: str,
        event: object,
        token: str,
        *,
        effects: Sequence[Effect] = (),
        meta: Mapping[str, str] | None = None,
        done: Callable[[int | None], None] | None = None,
    ) -> bool:
        try:
            self.bus.publish(stream, event, token, meta=meta, effects=effects, done=done)
        except b.Busy:
            self.counts.busy += 1
            return False
        return True

    def _expect(self, token: str, mine: _Mine) -> None:
        self._mine[token] = mine
        if len(self._mine) > PENDING_TOKENS:
            _, lost = self._mine.popitem(last=False)  # never came back (unfollowed)
            if lost.hold is not None:
                self.delivery.release(lost.hold, _nothing)

    def _first(self, token: str) -> bool:
        """Whether an operation of many entries (a quit, a rename) is met the first
        time (then it is applied whole); its other entries change nothing more."""
        if not token:
            return True
        if token in self._applied:
            return False
        self._applied[token] = None
        if len(self._applied) > REMEMBERED_TOKENS:
            self._applied.popitem(last=False)
        return True

    def _when_claimed(self, session: Session, run: Callable[[], object]) -> None:
        """Runs something that publishes for `session` once its nickname is its own in
        the whole cluster (at once, unless the claim is on its way)."""
        gate = self._gates.get(session)
        if gate is None:
            run()
        else:
            gate.append(run)

    def _after(self, delay: float, run: Callable[[], None]) -> None:
        if self.later is None:
            run()
        else:
            self.later(delay, run)

    def _busy(self) -> Refusal | None:
        """Too many events wait for the bus (it is away, or slower than the people
        typing): the sender is told to wait."""
        if self.bus.queued >= MAX_PENDING:
            self.counts.busy += 1
            return Refusal(codes.BUSY)
        return None

    # --- who is who ----------------------------------------------------------------------

    def _remember_user(self, record: UserRecord) -> Session:
        user = self._remote(record.nick, record.user, record.host, record.node)
        user.realname = record.realname
        user.signon = record.signon
        user.flags = REMOTE | (record.flags & SHOWN_FLAGS)
        user.away = record.away
        return user

    def _remote(self, nick: str, user: str, host: str, node: str) -> Session:
        """The session that stands for a user of another node (made when first met)."""
        key = names.key(nick)
        found = self.users.get(key)
        if found is None:
            found = Session(NOWHERE, "", REMOTE_DOOR)
            found.flags = REMOTE
            found.state = SessionState.REGISTERED
            self.users[key] = found
            if self.nicks.by_key.get(key) is None:
                self.nicks.take(found, nick)
            else:
                found.nick, found.key = nick, key
        found.user, found.host, found.door_state = user, host, node
        return found

    def _forget_user(self, user: Session) -> None:
        if self.users.get(user.key) is user:
            del self.users[user.key]
        self.nicks.release(user)
        for room in list(user.rooms.values()):
            room.remove(user)
        user.rooms.clear()

    def _member(self, room: Room, nick: str) -> Session | None:
        key = names.key(nick)
        for found in (self.nicks.by_key.get(key), self.users.get(key)):
            if found is not None and found in room.members:
                return found
        return None

    def _local(self, nick_key: str) -> Session | None:
        found = self.nicks.by_key.get(nick_key)
        return found if found is not None and not found.flags & REMOTE else None

    def _problem(self, session: Session, nick: str) -> Refusal | None:
        reserved = self._reserved.get(names.key(nick))
        if reserved is not None and reserved is not session:
            return Refusal(codes.NICK_TAKEN, nick)
        problem = self.nicks.problem(session, nick)
        if problem is not None:
            return Refusal(problem[0], nick, problem[1])
        return None

    def _user_record(self, session: Session) -> UserRecord:
        return UserRecord(
            session.nick,
            session.user,
            session.host,
            session.realname,
            self.node,
            session.signon,
            session.flags & SHOWN_FLAGS,
            session.away,
        )

    def _take_nick(self, session: Session, nick: str) -> None:
        old = session.key
        self.nicks.take(session, nick)
        # Private history is read from the moment the name was taken (its cursor).
        session.nick_since = self.bus.now_cursor()
        if old and old != session.key:
            self._name_freed(old)

    def _name_freed(self, nick_key: str) -> None:
        """A user here gave up a name that a user of another node holds now (they
        took it at the same moment, and this one lost): the name is theirs here too."""
        user = self.users.get(nick_key)
        if user is not None and self.nicks.by_key.get(nick_key) is None:
            self.nicks.take(user, user.nick)

    # --- registering and renaming ------------------------------------------------------

    def claim(
        self, session: Session, nick: str, user: str = "", realname: str = ""
    ) -> Refusal | None:
        """Registers at once if no one known has the name (or one like it); the claim
        in the cluster follows, and what the session would publish waits for it."""
        refusal = self._problem(session, names.normalize(nick))
        if refusal is not None:
            return refusal
        refusal = super().claim(session, nick, user, realname)
        if refusal is not None:
            return refusal
        self._gates[session] = []
        self._claim(session)
        return None

    def _claim(self, session: Session) -> None:
        key = session.key

        def claimed(got: bool | None) -> None:
            if session.closed or session.key != key:
                if got:
                    self.bus.release(key)
                return
            if got is None:  # the bus is away: ask again
                self._after(RETRY_PAUSE, lambda: self._claim(session))
                return
            if not got:
                self._collided(session)
                return
            self._publish(
                b.DIRECTORY,
                self._arrival(session),
                self._token(),
                effects=(Effect(b.SET, b.USERS, (key, self._user_record(session).encode())),),
            )
            for run in self._gates.pop(session, ()):
                run()

        self.bus.claim(key, claimed)

    def _arrival(self, session: Session) -> b.UserArrived:
        record = self._user_record(session)
        return b.UserArrived(
            record.nick,
            record.user,
            record.host,
            record.realname,
            record.node,
            record.signon,
            record.flags,
            record.away,
        )

    def _fallback(self, nick: str) -> str:
        """Another name for someone who lost theirs: the name with a number."""
        for _ in range(100):
            suffix = str(random.randrange(100, 10_000))
            candidate = nick[: names.MAX_NICK - len(suffix)] + suffix
            if self.nicks.problem(Session(NOWHERE), candidate) is None and (
                names.key(candidate) not in self._reserved
            ):
                return candidate
        return "guest" + str(random.randrange(10**6, 10**7))

    def _collided(self, session: Session) -> None:
        """Another node's user took the name at the same moment: this one is given
        another, and told so (before anything it said goes out)."""
        old = session.nick
        new = self._fallback(old)
        self._take_nick(session, new)
        now = self.clock()
        self.send(session, Error(codes.NICK_TAKEN, subject=old))
        self.send(session, NickChanged(now, old, new, session.user, session.host))
        self._claim(session)

    def change_nick(self, session: Session, nick: str) -> Refusal | None:
        """Checks the name here at once; the change is made when the claim in the
        cluster succeeds, and seen by everyone in the order of their rooms."""
        nick = names.normalize(nick)
        refusal = self._problem(session, nick)
        if refusal is not None:
            return refusal
        if nick == session.nick:
            return None
        new_key = names.key(nick)
        if new_key == session.key:  # the same name in other letters: no new claim
            self._when_claimed(session, lambda: self._rename(session, nick))
            return None
        self._reserved[new_key] = session

        def claimed(got: bool | None) -> None:
            if session.closed:
                self._unreserve(new_key, session)
                if got:
                    self.bus.release(new_key)
                return
            if not got:
                self._unreserve(new_key, session)
                code = codes.BUSY if got is None else codes.NICK_TAKEN
                self.send(session, Error(code, subject=nick))
                return
            self._when_claimed(session, lambda: self._rename(session, nick))

        self.bus.claim(new_key, claimed)
        return None

    def _unreserve(self, nick_key: str, session: Session) -> None:
        if self._reserved.get(nick_key) is session:
            del self._reserved[nick_key]

    def _rename(self, session: Session, nick: str) -> None:
        if session.closed:
            return
        old_key, new_key = session.key, names.key(nick)
        token = self._token()
        event = NickChanged(self.clock(), session.nick, nick, session.user, session.host)
        self._expect(token, _Mine(session, new_key=new_key))
        for room in session.rooms.values():
            move = Effect(b.RENAME, b.MEMBERS, (old_key, new_key, nick))
            self._publish(room.key, event, token, effects=(move,))

        def renamed(cursor: int | None) -> None:
            if cursor is not None and old_key != new_key:
                self.bus.release(old_key)

        self._publish(
            b.DIRECTORY,
            event,
            token,
            effects=(Effect(b.RENAME, b.USERS, (old_key, new_key, nick)),),
            done=renamed,
        )

    def on_nick_lost(self, nick_key: str) -> None:
        """Our claim lapsed while the bus was away and another node took the name."""
        session = self._local(nick_key)
        if session is None or session.closed:
            return
        old = session.nick
        new = self._fallback(old)
        self.send(session, Error(codes.NICK_TAKEN, subject=old))
        self.change_nick(session, new)

    # --- rooms: joining ----------------------------------------------------------------

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
        """The room is the session's at once (a door may make it current); the join
        is seen by everyone, the joiner too, when it comes back from the room's stream,
        and then the joiner gets the member list and the room's last messages."""
        name = names.room_name(name)
        problem = names.room_problem(name)
        if problem is not None:
            return Refusal(codes.ROOM_INVALID, name, problem)
        room_key = names.key(name)
        room = session.rooms.get(room_key)
        if room is not None:
            return room
        if len(session.rooms) >= MAX_ROOMS_PER_USER:
            return Refusal(codes.TOO_MANY_ROOMS, name, str(MAX_ROOMS_PER_USER))
        join = _Join(session, key, replay, names_shown, re)
        room = self.rooms.by_key.get(room_key)
        if room is None:
            room = Room(name, room_key, self.clock().timestamp())
            self.rooms.by_key[room_key] = room
            self._sync[room_key] = _Sync(self.delivery.hold(room_key), [join])
            self._read_room(room)
        elif room_key in self._sync:
            self._sync[room_key].joins.append(join)
        else:
            refusal = moderation.join_refusal(room, session, key)
            if refusal is not None:
                return refusal
            self._when_claimed(session, lambda: self._publish_join(room, join))
        session.rooms[room_key] = room
        self._joining.setdefault(room_key, set()).add(session)
        return room

    def _read_room(self, room: Room) -> None:
        def read(snapshot: Snapshot | None) -> None:
            if self.rooms.by_key.get(room.key) is not room:
                return
            if snapshot is None:
                self._after(RETRY_PAUSE, lambda: self._read_room(room))
                return
            self._synced(room, snapshot)

        self.bus.snapshot(room.key, (b.MEMBERS, b.STATE), read)

    def _synced(self, room: Room, snapshot: Snapshot) -> None:
        sync = self._sync.pop(room.key)
        room_records.load(room, snapshot.records.get(b.STATE, {}))
        for nick_key, text in snapshot.records.get(b.MEMBERS, {}).items():
            try:
                member = MemberRecord.decode(text)
            except (ValueError, TypeError) as exc:
                log.error("a damaged member record in %s: %s", room.key, exc)
                continue
            if member.node == self.node or self._local(nick_key) is not None:
                continue  # ours (a record left from before): our own count is the truth
            user = self._remote(member.nick, member.user, member.host, member.node)
            room.add(user, member.status)
            user.rooms[room.key] = room
        self.bus.follow(room.key, snapshot.position)
        for join in sync.joins:
            session = join.session
            if session.closed or session.rooms.get(room.key) is not room:
                continue
            refusal = moderation.join_refusal(room, session, join.key)
            if refusal is not None:
                self._not_joined(session, room)
                self.refuse(session, refusal, join.re)
                continue
            self._when_claimed(session, functools.partial(self._publish_join, room, join))
        self.delivery.release(sync.held, _nothing)
        self._maybe_unfollow(room)

    def _not_joined(self, session: Session, room: Room) -> None:
        if session.rooms.get(room.key) is room:
            del session.rooms[room.key]
        self._joining.get(room.key, set()).discard(session)
        if session.current is room:
            session.current = next(reversed(session.rooms.values()), None)

    def _publish_join(self, room: Room, join: _Join) -> None:
        session = join.session
        if session.closed or session.rooms.get(room.key) is not room:
            return
        token = self._token()
        record = MemberRecord(session.nick, session.user, session.host, "", self.node)
        effects = [
            Effect(b.JOIN, b.MEMBERS, (session.key, record.encode())),
            Effect(b.SET, b.STATE, (room_records.NAME, room.name)),
        ]
        if not room.members:
            effects.append(Effect(b.SET, b.STATE, (room_records.CREATED, str(room.created))))
        if session.key in room.invited:
            effects.append(room_records.invited_effect(session.key, False))
        self._expect(token, _Mine(session, join=join))
        event = Joined(self.clock(), room.name, session.nick, session.user, session.host)
        if not self._publish(room.key, event, token, effects=effects):
            self._mine.pop(token, None)
            self._not_joined(session, room)
            self.refuse(session, Refusal(codes.BUSY), join.re)
            self._maybe_unfollow(room)

    def _maybe_unfollow(self, room: Room) -> None:
        """A room nobody here is in (or on the way into) is no longer read."""
        key = room.key
        if room.audience() or self._joining.get(key) or key in self._sync:
            return
        self._joining.pop(key, None)
        if self.rooms.by_key.get(key) is room:
            del self.rooms.by_key[key]
        self.bus.unfollow(key)
        self._last.pop(key, None)
        for member in list(room.members):
            member.rooms.pop(key, None)

    # --- rooms: leaving, topics, settings ----------------------------------------------

    def part(self, session: Session, room: Room, reason: str = "", re: RequestId = None) -> None:
        """The room is no longer the session's at once; everyone (it too) sees it leave
        when that comes back from the stream."""
        if session.rooms.get(room.key) is not room:
            return
        del session.rooms[room.key]
        self._joining.get(room.key, set()).discard(session)
        if session.current is room:
            session.current = None
        token = self._token()
        parted = Parted(self.clock(), room.name, session.nick, reason, session.user, session.host)
        leave = Effect(b.DELETE, b.MEMBERS, (session.key,))
        self._when_claimed(
            session, lambda: self._publish(room.key, parted, token, effects=(leave,))
        )

    def change_topic(self, session: Session, room: Room, text: str) -> Refusal | None:
        refusal = moderation.topic_refusal(room, session)
        if refusal is not None:
            return refusal
        now = self.clock()
        token = self._token()
        changed = TopicChanged(now, room.name, session.nick, text, session.user, session.host)
        if not self._publish(
            room.key, changed, token, effects=(room_records.topic_effect(text, session.nick, now),)
        ):
            return Refusal(codes.BUSY)
        secret = RoomSetting.SECRET in room.settings
        self._describe(room.key, room.name, text, secret)
        return None

    def _describe(self, room_key: str, name: str, topic: str, secret: bool) -> None:
        described = b.RoomDescribed(room_key, name, topic, secret)
        value = json.dumps([name, topic, secret], ensure_ascii=False)
        self._publish(
            b.DIRECTORY,
            described,
            self._token(),
            effects=(Effect(b.SET, b.ROOMS, (room_key, value)),),
        )

    def change_room(
        self, session: Session, room: Room, changes: Sequence[RoomChange]
    ) -> tuple[Refusal, ...]:
        """Works the changes out on a copy of the room (what would change, what is
        refused), and publishes what changes: every node applies it to its replica in
        the stream's order."""
        if not moderation.is_operator(room, session):
            return (Refusal(codes.NOT_OPERATOR, room.name),)
        now = self.clock()
        scratch = room_records.copy(room)
        applied: list[RoomChange] = []
        refused: list[Refusal] = []
        effects: list[Effect] = []
        for change in changes:
            target = None
            if change.setting in moderation.STATUS:
                target = self._member(room, change.value or "") or self.nicks.get(
                    change.value or ""
                )
            outcome = moderation.apply(scratch, change, session.nick, now, target)
            if isinstance(outcome, Refusal):
                refused.append(outcome)
            elif outcome is not None:
                applied.append(outcome)
                effects.append(
                    room_records.setting_effect(scratch, outcome, target, session.nick, now)
                )
        if applied:
            token = self._token()
            changed = ModeChanged(
                now, room.name, session.nick, tuple(applied), session.user, session.host
            )
            if not self._publish(room.key, changed, token, effects=effects):
                return (*refused, Refusal(codes.BUSY))
            if any(change.setting is RoomSetting.SECRET for change in applied):
                secret = RoomSetting.SECRET in scratch.settings
                self._describe(room.key, room.name, room.topic, secret)
        return tuple(refused)

    def kick(self, session: Session, room: Room, nick: str, reason: str) -> Refusal | None:
        if session not in room.members:
            return Refusal(codes.NOT_IN_ROOM, room.name)
        if not moderation.is_operator(room, session):
            return Refusal(codes.NOT_OPERATOR, room.name)
        target = self._member(room, nick)
        if target is None:
            known = self.nicks.get(nick)
            if known is None:
                return Refusal(codes.NO_SUCH_NICK, nick)
            return Refusal(codes.USER_NOT_IN_ROOM, known.nick, room.name)
        token = self._token()
        kicked = Kicked(
            self.clock(), room.name, session.nick, target.nick, reason, session.user, session.host
        )
        out = Effect(b.DELETE, b.MEMBERS, (target.key,))
        if not self._publish(room.key, kicked, token, effects=(out,)):
            return Refusal(codes.BUSY)
        return None

    def invite(self, session: Session, nick: str, room_name: str) -> Refusal | None:
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
        effects = [room_records.invited_effect(target.key, True)]
        if len(room.invited) >= MAX_INVITES:
            effects.append(room_records.invited_effect(next(iter(room.invited)), False))
        invited = Invited(
            self.clock(), session.nick, target.nick, room.name, session.user, session.host
        )
        if not self._publish(room.key, invited, self._token(), effects=effects):
            return Refusal(codes.BUSY)
        node = self.node if target.flags & REMOTE == 0 else str(target.door_state)
        self._publish(b.inbox(node), invited, self._token())
        return None

    # --- messages ------------------------------------------------------------------------

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
        refusal = moderation.send_refusal(room, session) or self._busy()
        if refusal is not None:
            return refusal
        self.counts.room_messages += 1
        now = self.clock()
        session.spoke = now

        def publish() -> None:
            # (A nickname lost in a race is renamed before this runs: the nick is read now.)
            message = compose(session, 0, now, text, action, notice, tags, room=room)
            self._say(session, room.key, message, re, room=room)

        self._when_claimed(session, publish)
        return None

    def _say(
        self,
        session: Session,
        stream: str,
        message: ChatMessage,
        re: RequestId,
        *,
        room: Room | None = None,
        target: Session | None = None,
    ) -> None:
        """Publishes a message; the sender's replies wait for its echo from the stream
        (a PONG never overtakes it). While the bus is away it is delivered here now."""
        token = self._token()
        mine = _Mine(session, message=message, room=room)
        if self.healthy:
            mine.hold = self.delivery.hold(private_stream(session.key, session.key))
        self._expect(token, mine)
        followed = self._followed_private(stream, target) if target is not None else None
        if not self._publish(stream, message, token, done=followed):
            self._mine.pop(token, None)
            if mine.hold is not None:
                self.delivery.release(mine.hold, _nothing)
            self.refuse(session, Refusal(codes.BUSY), re)
            return
        if not self.healthy:
            self._deliver_early(mine)

    def _deliver_early(self, mine: _Mine) -> None:
        """A message said while the bus is away, delivered here now (once)."""
        message, session = mine.message, mine.session
        if mine.early or not isinstance(message, ChatMessage) or session is None:
            return
        mine.early = True
        if mine.hold is not None:
            self.delivery.release(mine.hold, _nothing)
            mine.hold = None
        if mine.room is not None:
            audience = mine.room.audience()
            self.delivery.delivered += len(audience)
            Delivery.fanout_now((message,), audience, mine.room, (session,))
            return
        self._deliver_private(message, session)

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
        refusal = self._busy()
        if refusal is not None:
            return refusal
        self.counts.private_messages += 1
        now = self.clock()
        session.spoke = now

        def publish() -> None:
            message = compose(session, 0, now, text, action, notice, tags, to=target)
            stream = private_stream(session.key, target.key)
            self._say(session, stream, message, re, target=target)

        self._when_claimed(session, publish)
        return None

    def _followed_private(self, stream: str, target: Session) -> Callable[[int | None], None]:
        """Once a private message is in its stream: this node reads the conversation
        from it on (if it did not), and the recipient's node is asked to."""

        def followed(cursor: int | None) -> None:
            if cursor is None:
                return
            self._follow_private(stream, cursor)
            if target.flags & REMOTE:
                note = b.Follow(stream, cursor)
                self._publish(b.inbox(str(target.door_state)), note, self._token())

        return followed

    def _follow_private(self, stream: str, cursor: int) -> None:
        self._private_seen[stream] = self._monotonic()
        if not self.bus.following(stream):
            self.bus.follow(stream, self.bus.before(cursor))

    @staticmethod
    def _monotonic() -> float:
        return time.monotonic()

    def tag_room(self, session: Session, room: Room, tags: Mapping[str, str]) -> Refusal | None:
        refusal = moderation.send_refusal(room, session)
        if refusal is not None:
            return refusal
        event = TagMessage(
            self.clock(), session.nick, tags, room.name, None, session.user, session.host
        )
        token = self._token()
        self._expect(token, _Mine(session, message=event))
        self._when_claimed(session, lambda: self._publish(room.key, event, token))
        return None

    def tag_person(self, session: Session, target: Session, tags: Mapping[str, str]) -> None:
        if not target.flags & REMOTE:
            super().tag_person(session, target, tags)
            return
        event = TagMessage(
            self.clock(), session.nick, tags, None, target.nick, session.user, session.host
        )
        self._publish(b.inbox(str(target.door_state)), event, self._token())

    # --- people --------------------------------------------------------------------------

    def set_away(self, session: Session, text: str | None) -> None:
        if session.away == text:
            return
        session.away = text
        if not session.registered:
            return
        token = self._token()
        event = AwayChanged(self.clock(), session.nick, text, session.user, session.host)
        self._expect(token, _Mine(session))
        record = Effect(b.SET, b.USERS, (session.key, self._user_record(session).encode()))
        self._when_claimed(
            session, lambda: self._publish(b.DIRECTORY, event, token, effects=(record,))
        )

    def set_user_flag(self, session: Session, flag: UserFlag, on: bool) -> bool:
        changed = super().set_user_flag(session, flag, on)
        if changed and session.registered:
            self._republish_user(session)
        return changed

    def _republish_user(self, session: Session) -> None:
        def publish() -> None:
            if session.closed:
                return
            record = Effect(b.SET, b.USERS, (session.key, self._user_record(session).encode()))
            self._publish(b.DIRECTORY, self._arrival(session), self._token(), effects=(record,))

        self._when_claimed(session, publish)

    def oper(
        self,
        session: Session,
        name: str,
        password: str,
        done: Callable[[Refusal | None], None],
    ) -> None:
        def answered(refusal: Refusal | None) -> None:
            if refusal is None and session.registered:
                self._republish_user(session)
            done(refusal)

        super().oper(session, name, password, answered)

    def kill(self, session: Session, nick: str, reason: str) -> Refusal | None:
        if not session.has(SERVER_OPERATOR):
            return Refusal(codes.NOT_SERVER_OPERATOR)
        target = self.nicks.get(nick)
        if target is None or not target.flags & REMOTE:
            return super().kill(session, nick, reason)
        killed = b.Killed(target.nick, reason, self.clock())
        self._publish(b.inbox(str(target.door_state)), killed, self._token())
        return None

    def close(self, session: Session, reason: str, *, tell: bool = True) -> None:
        """Ends a session here at once; the others see it quit (once, whatever rooms
        they share) when that comes back from the streams."""
        if session.closed:
            return
        registered = session.registered
        streams = self.delivery.streams_of(session)
        session.state = SessionState.CLOSING
        self.sessions.discard(session)
        self.counts.open[session.door] -= 1
        gated = self._gates.pop(session, None) is not None
        # A session whose quit is published stays in its rooms until the quit comes
        # back from each room's stream: what it said just before comes back first (to
        # it too, and its goodbye waits for that), and the room is read until then.
        quitting = registered and not gated
        rooms = list(session.rooms.values())
        for room in rooms:
            self._joining.get(room.key, set()).discard(session)
            if not quitting:
                room.remove(session)
        session.rooms.clear()
        session.current = None
        if registered:
            self.nicks.release(session)
            self._name_freed(session.key)
            self.census.left(session)
            now = self.clock()
            self.past.remember(session, now)
        if quitting:
            token = self._token()
            quit_ = Quit(now, session.nick, reason, session.user, session.host)
            self._expect(token, _Mine(session, rooms=tuple(r.key for r in rooms)))
            if rooms:
                self._leaving[token] = (session, {room.key for room in rooms})
            for room in rooms:
                leave = Effect(b.DELETE, b.MEMBERS, (session.key,))
                self._publish(room.key, quit_, token, effects=(leave,))
            key = session.key
            gone = Effect(b.DELETE, b.USERS, (key,))
            self._publish(
                b.DIRECTORY, quit_, token, effects=(gone,), done=lambda _: self.bus.release(key)
            )
        for room in rooms:
            self._count(room)
            self._maybe_unfollow(room)

        def goodbye() -> None:
            if tell:
                Delivery.write(session, Bye(reason))
            session.peer.close(reason)

        self.delivery.after_all(streams, goodbye)

    # --- answers -------------------------------------------------------------------------

    def newest(self, stream: str | None) -> int | None:
        if stream is None:
            return None
        last = self._last.get(stream)
        return None if last is None else last + 1

    def _page_for(
        self, session: Session, end: HistoryEnd, stream: str, own: str = ""
    ) -> Callable[[Page | str], None]:
        # Asked while an entry of the stream is delivered (a join's replay): the page
        # comes next, before the entries behind it.
        held = self.delivery.hold_first(stream) if self._applying else self.delivery.hold(stream)

        def got(page: Page | str) -> None:
            self.delivery.release(held, lambda: self._show_page(session, page, end, own))

        return got

    def any_room(self, session: Session, name: str, re: RequestId) -> Room | None:
        """A room this node reads, or (answered later, from the records beside its
        stream) one that has members only elsewhere."""
        room = self.rooms.get(name)
        if room is not None:
            return room
        room_key = names.key(names.room_name(name))
        if not any(self.room_counts.get(room_key, {}).values()):
            self.error(session, codes.NO_SUCH_ROOM, re, names.room_name(name))
            return None

        def read(snapshot: Snapshot | None) -> None:
            if session.closed:
                return
            if snapshot is None:
                self.error(session, codes.BUSY, re)
                return
            scratch = Room(names.room_name(name), room_key)
            room_records.load(scratch, snapshot.records.get(b.STATE, {}))
            listed = []
            for text in snapshot.records.get(b.MEMBERS, {}).values():
                with contextlib.suppress(ValueError, TypeError):
                    member = MemberRecord.decode(text)
                    listed.append(Member(member.nick, member.status, member.user, member.host))
            self.send(
                session,
                Members(
                    scratch.name,
                    scratch.topic,
                    tuple(m.nick for m in listed),
                    re,
                    -1,
                    tuple(listed),
                    False,
                    RoomSetting.SECRET in scratch.settings,
                    scratch.topic_by,
                    scratch.topic_time,
                ),
            )

        self.bus.snapshot(room_key, (b.MEMBERS, b.STATE), read)
        return None

    def room_list(self, re: RequestId = None, asker: Session | None = None) -> RoomList:
        """Every room with members on any node: the rooms read here as they are, the
        others from the directory."""
        found: dict[str, tuple[str, int, str, bool]] = {}
        for room_key, nodes in self.room_counts.items():
            total = sum(nodes.values())
            if total <= 0:
                continue
            name, topic, secret = self.room_names.get(room_key, (room_key, "", False))
            found[room_key] = (name, total, topic, secret)
        for room in self.rooms.by_key.values():
            if room.members:  # read here: as it is
                secret = RoomSetting.SECRET in room.settings and not (
                    asker is not None and asker in room.members
                )
                found[room.key] = (room.name, len(room.members), room.topic, secret)
        rooms = sorted(
            ((key, *value) for key, value in found.items() if not value[3]),
            key=lambda r: (-r[2], r[0]),
        )
        listed: list[RoomInfo] = []
        size = 0
        for _, name, count, topic, _ in rooms:
            size += _utf8_size(name) + _utf8_size(topic) + 32
            if size > self.reply_budget and listed:
                break
            listed.append(RoomInfo(name, count, topic))
        return RoomList(tuple(listed), re, count=len(rooms))

    def stats(self) -> ServerStats:
        census = self.census
        registered = len(self.nicks)
        rooms = {key for key, nodes in self.room_counts.items() if any(nodes.values())}
        rooms.update(key for key, room in self.rooms.by_key.items() if room.members)
        return ServerStats(
            registered - census.invisible,
            census.invisible,
            census.operators,
            len(self.sessions) - (registered - len(self.users)),
            len(rooms),
            max(census.most, registered),
        )

    # --- what comes back from the bus -------------------------------------------------

    def on_bus_state(self, healthy: bool) -> None:
        if healthy == self.healthy:
            return
        self.healthy = healthy
        if not healthy:
            # Messages said and not back yet are delivered here now: nobody waits for
            # an outage to see what was said on this server.
            for mine in list(self._mine.values()):
                self._deliver_early(mine)
        notice = Info(CLUSTER_RESTORED if healthy else CLUSTER_DEGRADED)
        for session in list(self.sessions):
            if session.registered:
                self.send(session, notice)

    def on_entries(self, stream: str, entries: Sequence[Entry]) -> None:
        if stream == b.DIRECTORY:
            for entry in entries:
                self._guarded(self._directory, entry)
        elif b.is_inbox(stream):
            for entry in entries:
                self._guarded(self._inbox, entry)
        elif b.is_private(stream):
            self._private_seen[stream] = self._monotonic()
            for entry in entries:
                self.delivery.emit(stream, self._applier(self._private, stream, entry))
        else:
            self._room_entries(stream, entries)

    def _guarded(self, apply: Callable[[Entry], None], entry: Entry) -> None:
        try:
            apply(entry)
        except Exception:
            log.exception("applying an entry failed: %r", entry)

    def _applier(
        self, apply: Callable[[str, Entry], None], stream: str, entry: Entry
    ) -> Callable[[], None]:
        def run() -> None:
            self._applying = True
            try:
                self._last[stream] = entry.id
                apply(stream, entry)
            except Exception:
                log.exception("applying an entry of %s failed: %r", stream, entry)
            finally:
                self._applying = False

        return run

    def _room_entries(self, stream: str, entries: Sequence[Entry]) -> None:
        room = self.rooms.by_key.get(stream)
        if room is None:
            return
        batch: list[Entry] = []
        for entry in entries:
            if type(entry.event) is ChatMessage:
                batch.append(entry)
                continue
            if batch:
                self.delivery.emit(stream, self._messages(room, batch))
                batch = []
            self.delivery.emit(stream, self._applier(self._room_event, stream, entry))
        if batch:
            self.delivery.emit(stream, self._messages(room, batch))

    def _messages(self, room: Room, batch: list[Entry]) -> Callable[[], None]:
        """Room messages next to each other in the stream, delivered in one pass: one
        write per reader, each message encoded once per codec."""

        def run() -> None:
            events: list[ServerEvent] = []
            origins: list[Session | None] = []
            holds = []
            for entry in batch:
                mine = self._mine.pop(entry.token, None) if entry.token else None
                if mine is not None:
                    if mine.hold is not None:
                        holds.append(mine.hold)
                    if mine.early:
                        continue  # delivered here when it was said (the bus was away)
                    origins.append(mine.session)
                else:
                    origins.append(None)
                events.append(cast(ChatMessage, entry.event))
            self._last[room.key] = batch[-1].id
            if events:
                audience = room.audience()
                self.delivery.delivered += len(events) * len(audience)
                quiet = origins if any(o is not None for o in origins) else ()
                Delivery.fanout_now(events, audience, room, quiet)
            for held in holds:
                self.delivery.release(held, _nothing)

        return run

    def _room_event(self, stream: str, entry: Entry) -> None:
        room = self.rooms.by_key.get(stream)
        if room is None:
            return
        event = entry.event
        if isinstance(event, Joined):
            self._joined(room, entry, event)
        elif isinstance(event, Parted):
            self._parted(room, entry, event)
        elif isinstance(event, Kicked):
            self._kicked(room, event)
        elif isinstance(event, Quit):
            self._quit(entry, event)
            self._left(entry.token, room)
        elif isinstance(event, NickChanged):
            self._renamed(entry, event)
        elif isinstance(event, TopicChanged):
            room.topic, room.topic_by = event.text, event.nick
            room.topic_time = event.time.timestamp()
            self._to_room(room, event)
        elif isinstance(event, ModeChanged):
            self._mode_changed(room, event)
        elif isinstance(event, Invited):
            room.invited.add(names.key(event.nick))
        elif isinstance(event, TagMessage):
            mine = self._mine.pop(entry.token, None) if entry.token else None
            origin = mine.session if mine is not None else None
            Delivery.fanout_now((event,), room.audience(), room, (origin,) if origin else ())
        elif isinstance(event, b.NodeLeft):
            self._node_left(event, only=room)

    def _to_room(self, room: Room, event: ServerEvent) -> None:
        audience = room.audience()
        self.delivery.delivered += len(audience)
        Delivery.fanout_now((event,), audience, room)

    def _joined(self, room: Room, entry: Entry, event: Joined) -> None:
        status = entry.meta.get(b.STATUS, "")
        mine = self._mine.pop(entry.token, None) if entry.token else None
        joiner: Session | None = None
        if mine is not None and mine.join is not None:
            session = mine.session
            assert session is not None
            self._joining.get(room.key, set()).discard(session)
            if not session.closed and session.rooms.get(room.key) is room:
                room.add(session, status)
                joiner = session
                self._count(room)
        elif b.node_of_token(entry.token) != self.node:
            user = self._remote(event.nick, event.user, event.host, b.node_of_token(entry.token))
            room.add(user, status)
            user.rooms[room.key] = room
        else:
            # Ours, but no longer awaited (a rare overflow of what is awaited): the
            # session is found by its name.
            session = self._local(names.key(event.nick))
            if session is not None and session.rooms.get(room.key) is room:
                room.add(session, status)
                self._joining.get(room.key, set()).discard(session)
        if self.announces(room):
            self._to_room(room, event)
        elif joiner is not None:
            Delivery.write(joiner, event)
        if mine is not None and mine.join is not None and joiner is None:
            self._maybe_unfollow(room)  # the joiner left before its join came back
        if joiner is None or mine is None or mine.join is None:
            return
        join = mine.join
        Delivery.write(joiner, self.members(room, join.re, limit=join.names_shown, joining=True))
        if joiner.away is not None and self.announces(room):
            away = AwayChanged(event.time, joiner.nick, joiner.away, joiner.user, joiner.host)
            Delivery.fanout_now((away,), [s for s in room.audience() if s is not joiner], room)
        if self.archive is not None and join.replay > 0:
            # Everything before the joiner's own entry: what it did not see live.
            self.room_history(joiner, room, join.replay, entry.id, None)

    def _parted(self, room: Room, entry: Entry, event: Parted) -> None:
        member = self._member(room, event.nick)
        if self.announces(room):
            self._to_room(room, event)
        elif member is not None and not member.flags & REMOTE:
            Delivery.write(member, event)
        if member is not None:
            self._drop_member(room, member)

    def _drop_member(self, room: Room, member: Session) -> None:
        room.remove(member)
        if member.flags & REMOTE:
            member.rooms.pop(room.key, None)
        else:
            self._count(room)
        self._maybe_unfollow(room)

    def _kicked(self, room: Room, event: Kicked) -> None:
        target = self._member(room, event.nick)
        self._to_room(room, event)
        if target is None:
            return
        if not target.flags & REMOTE and target.rooms.get(room.key) is room:
            del target.rooms[room.key]
            if target.current is room:
                target.current = next(reversed(target.rooms.values()), None)
        self._drop_member(room, target)

    def _mode_changed(self, room: Room, event: ModeChanged) -> None:
        for change in event.changes:
            target = None
            if change.setting in moderation.STATUS:
                target = self._member(room, change.value or "")
                if target is None:
                    continue
            moderation.apply(room, change, event.nick, event.time, target)
        self._to_room(room, event)

    def _quit(self, entry: Entry, event: Quit) -> None:
        """A quit is one entry per room of the leaver and one in the directory; the
        first met tells everyone here once and removes the leaver everywhere."""
        if not self._first(entry.token):
            return
        mine = self._mine.pop(entry.token, None)
        if mine is not None:
            rooms = [self.rooms.by_key[k] for k in mine.rooms if k in self.rooms.by_key]
            self._tell_once(rooms, event, exclude=mine.session, quiet_big=True)
            return
        user = self.users.get(names.key(event.nick))
        if user is None or user.door_state != b.node_of_token(entry.token):
            return
        self.past.remember(user, event.time)
        rooms = list(user.rooms.values())
        self._tell_once(rooms, event, exclude=None, quiet_big=True)
        self._forget_user(user)
        for room in rooms:
            self._maybe_unfollow(room)

    def _left(self, token: str, room: Room) -> None:
        """A quit of ours came back from one of its rooms: it leaves that one now."""
        leaving = self._leaving.get(token)
        if leaving is None:
            return
        session, rooms = leaving
        rooms.discard(room.key)
        if not rooms:
            del self._leaving[token]
        if session in room.members:
            self._drop_member(room, session)

    def _tell_once(
        self, rooms: Sequence[Room], event: ServerEvent, exclude: Session | None, quiet_big: bool
    ) -> None:
        """Tells the people here who are in these rooms, each once."""
        told: set[Session] = set() if exclude is None else {exclude}
        for room in rooms:
            if quiet_big and not self.announces(room):
                continue
            audience = [s for s in room.audience() if s not in told]
            told.update(audience)
            if audience:
                self.delivery.delivered += len(audience)
                Delivery.fanout_now((event,), audience, room)

    def _renamed(self, entry: Entry, event: NickChanged) -> None:
        if not self._first(entry.token):
            return
        mine = self._mine.pop(entry.token, None)
        old_key, new_key = names.key(event.old), names.key(event.new)
        if mine is not None and mine.session is not None:
            session = mine.session
            self._unreserve(mine.new_key, session)
            if session.closed or session.key != old_key:
                return
            self.past.remember(session, event.time)
            self._take_nick(session, event.new)
            self._tell_once(list(session.rooms.values()), event, exclude=session, quiet_big=False)
            Delivery.write(session, event)
            return
        user = self.users.get(old_key)
        if user is None or user.door_state != b.node_of_token(entry.token):
            return
        self.past.remember(user, event.time)
        del self.users[old_key]
        self.nicks.release(user)
        self.users[new_key] = user
        if self.nicks.by_key.get(new_key) is None:
            self.nicks.take(user, event.new)
        else:
            user.nick, user.key = event.new, new_key
        self._tell_once(list(user.rooms.values()), event, exclude=None, quiet_big=False)

    def _directory(self, entry: Entry) -> None:
        event = entry.event
        if isinstance(event, b.UserArrived):
            if event.node == self.node:
                return
            user = self._remote(event.nick, event.user, event.host, event.node)
            user.realname, user.signon = event.realname, event.signon
            user.flags = REMOTE | (event.flags & SHOWN_FLAGS)
            user.away = event.away
        elif isinstance(event, Quit):
            self._quit(entry, event)
        elif isinstance(event, NickChanged):
            self._renamed(entry, event)
        elif isinstance(event, AwayChanged):
            self._away(entry, event)
        elif isinstance(event, b.NodeLeft):
            self._node_left(event)
        elif isinstance(event, b.RoomCounted):
            nodes = self.room_counts.setdefault(event.room_key, {})
            if event.count > 0:
                nodes[event.node] = event.count
            else:
                nodes.pop(event.node, None)
                if not nodes:
                    del self.room_counts[event.room_key]
            if event.room_key not in self.room_names:
                self.room_names[event.room_key] = (event.name, "", False)
        elif isinstance(event, b.RoomDescribed):
            self.room_names[event.room_key] = (event.name, event.topic, event.secret)

    def _away(self, entry: Entry, event: AwayChanged) -> None:
        mine = self._mine.pop(entry.token, None)
        if mine is not None and mine.session is not None:
            who: Session | None = mine.session
        else:
            who = self.users.get(names.key(event.nick))
            if who is None:
                return
            who.away = event.text
        assert who is not None
        self._tell_once(list(who.rooms.values()), event, exclude=who, quiet_big=False)

    def _node_left(self, event: b.NodeLeft, only: Room | None = None) -> None:
        """Everyone of a node that is gone leaves (from one room, or everywhere)."""
        if event.node == self.node:
            if only is None and self.sessions:
                log.error("this node was taken for dead by another (its heartbeat was late)")
            return
        now = self.clock()
        for user in [u for u in self.users.values() if u.door_state == event.node]:
            rooms = [only] if only is not None else list(user.rooms.values())
            rooms = [room for room in rooms if user in room.members]
            quit_ = Quit(now, user.nick, event.reason, user.user, user.host)
            self._tell_once(rooms, quit_, exclude=None, quiet_big=True)
            if only is not None:
                self._drop_member(only, user)
                # Its names are free in Redis before anyone hears it is gone, and the
                # directory's entry may come later than this room's (another stream):
                # someone who takes the name on seeing the quit may have it here too.
                # The user stays known until every entry of its departure is read.
                self.nicks.release(user)
            else:
                self.past.remember(user, now)
                self._forget_user(user)
                for room in rooms:
                    self._maybe_unfollow(room)
        if only is None:
            for room_key in list(self.room_counts):
                nodes = self.room_counts[room_key]
                nodes.pop(event.node, None)
                if not nodes:
                    del self.room_counts[room_key]

    def _inbox(self, entry: Entry) -> None:
        event = entry.event
        if isinstance(event, b.Follow):
            self._follow_private(event.stream, event.cursor)
        elif isinstance(event, Invited):
            target = self._local(names.key(event.nick))
            if target is not None:
                self.send(target, event)
        elif isinstance(event, b.Killed):
            target = self._local(names.key(event.nick))
            if target is not None:
                self.close(target, event.reason)
        elif isinstance(event, TagMessage) and event.to is not None:
            target = self._local(names.key(event.to))
            if target is not None:
                Delivery.write(target, event)

    def _private(self, stream: str, entry: Entry) -> None:
        event = entry.event
        mine = self._mine.pop(entry.token, None) if entry.token else None
        if mine is not None and mine.hold is not None:
            self.delivery.release(mine.hold, _nothing)
        if mine is not None and mine.early:
            return
        if isinstance(event, ChatMessage):
            sender = self._local(names.key(event.sender))
            self._deliver_private(event, sender)

    def _deliver_private(self, message: ChatMessage, sender: Session | None) -> None:
        target = self._local(names.key(message.to or ""))
        if target is not None:
            Delivery.write(target, message)
            self.delivery.delivered += 1
        if sender is not None and sender is not target and sender.echo:
            Delivery.write(sender, message, View.OWN)
            self.delivery.delivered += 1

    # --- counts and heartbeats ---------------------------------------------------------

    def _count(self, room: Room) -> None:
        """This node's count of a room's members changed: the directory hears of it
        soon (changes close together go as one)."""
        self._counts_due.add(room.key)
        if not self._count_timer:
            self._count_timer = True
            self._after(COUNT_EVERY, self._send_counts)

    def _send_counts(self) -> None:
        self._count_timer = False
        due, self._counts_due = self._counts_due, set()
        for room_key in sorted(due):
            room = self.rooms.by_key.get(room_key)
            count = len(room.audience()) if room is not None else 0
            name = room.name if room is not None else room_key
            counted = b.RoomCounted(room_key, name, self.node, count)
            field_ = b.count_field(room_key, self.node)
            effect = (
                Effect(b.SET, b.COUNTS, (field_, str(count)))
                if count
                else Effect(b.DELETE, b.COUNTS, (field_,))
            )
            effects = [effect]
            if count and room is not None:
                secret = RoomSetting.SECRET in room.settings
                value = json.dumps([room.name, room.topic, secret], ensure_ascii=False)
                effects.append(Effect(b.SET, b.ROOMS, (room_key, value)))
            self._publish(b.DIRECTORY, counted, self._token(), effects=effects)

    def heartbeat(self) -> None:
        """Every few seconds: conversations nobody speaks in are no longer read, and
        nodes found dead are removed by the first live node (in id order)."""
        now = self._monotonic()
        for stream, seen in list(self._private_seen.items()):
            if now - seen > PRIVATE_IDLE and not self.delivery.pending(stream):
                del self._private_seen[stream]
                self.bus.unfollow(stream)
                self._last.pop(stream, None)
        known = {str(user.door_state) for user in self.users.values()}
        for nodes in self.room_counts.values():
            known.update(nodes)
        known.discard(self.node)
        if not known:
            return

        def swept(live: frozenset[str] | None) -> None:
            if live is None or not live or min(live | {self.node}) != self.node:
                return
            for node in sorted(known - live):
                rooms = [(key, key) for key, nodes in self.room_counts.items() if node in nodes]
                rooms += [
                    (room.key, room.name)
                    for room in self.rooms.by_key.values()
                    if any(u.door_state == node for u in room.members if u.flags & REMOTE)
                ]
                counted = [key for key, _ in rooms]
                log.warning("node %s is gone; removing its users", node)
                # Its names first: whoever sees its users leave may take them at once.
                held = [u.key for u in self.users.values() if u.door_state == node]
                leave = functools.partial(self._leave, node, NODE_GONE, sorted(set(rooms)), counted)
                self.bus.release_for(node, held, leave)

        self.bus.live_nodes(swept)
