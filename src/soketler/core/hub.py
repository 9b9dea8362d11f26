"""The hub: every session, nickname and room of one server, and how events reach people.

Delivery is the hot path. An event is encoded once per (flavour, view) and the same
bytes are appended to each recipient's queue (`Peer.write`); there is no task and no
await per recipient, and the transport coalesces each client's writes per loop tick.
Costs grow with the people involved: a message costs O(members of its room), a join,
part, nick change or quit O(members of the rooms involved); nothing walks every user.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import cast

from soketler import __version__
from soketler.core import names, texts
from soketler.core.archive import Archive, Page, Saved, Topic
from soketler.core.commands import dispatch
from soketler.core.session import Peer, Room, Session
from soketler.protocols.events import (
    Bye,
    ChatMessage,
    ClientEvent,
    Codec,
    Error,
    HistoryEnd,
    Info,
    Joined,
    Members,
    NickChanged,
    Parted,
    Quit,
    RequestId,
    RoomInfo,
    RoomList,
    ServerEvent,
    TopicChanged,
    View,
    Welcome,
)

log = logging.getLogger("soketler.server")

Clock = Callable[[], datetime]
# Messages waiting for the store at once; past this, senders are told to wait. It
# bounds memory when the disk is slower than the people typing.
MAX_PENDING = 10_000
# Topics remembered for rooms that are empty now, to restore when someone returns.
MAX_SAVED_TOPICS = 10_000
MAX_PAGE = 200  # messages in one history reply
# Names listed to someone joining a big room; /who lists them all.
NAMES_ON_JOIN = 100
# Bytes of text one reply (a history page, a member list, the room list) may hold, so
# that no answer is bigger than a reader's SendQ: a bigger one is cut, and says so
# ("more" on a history page, the count of all members or rooms on the others).
REPLY_BUDGET = 256 * 1024
# Rooms one session may be in: rooms cost memory, and no one client may make it grow.
MAX_ROOMS_PER_USER = 100


class _Held:
    """A delivery waiting for the store; later deliveries queue behind it.

    Either `run` (any delivery) or a room message: `event` for `audience`, kept as data
    so that messages released together to the same audience go out together.
    """

    __slots__ = ("audience", "event", "ready", "room", "run")

    def __init__(self, run: Callable[[], None] | None = None) -> None:
        self.run = run
        self.ready = run is not None
        self.event: ChatMessage | None = None
        self.audience: tuple[Session, ...] = ()
        self.room: Room | None = None


def _utf8_size(text: str) -> int:
    # JSON escapes a quote or a backslash with one more byte.
    return len(text.encode("utf-8", "replace")) + text.count('"') + text.count("\\")


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        self.by_nick: dict[str, Session] = {}
        self.rooms: dict[str, Room] = {}
        self.archive = archive
        self.replay = replay
        # Joins, parts and quits are announced only in rooms up to this size (0: all).
        # Past it they are noise to people, and announcing each one to everyone makes
        # filling a room cost O(members²).
        self.announce_limit = announce_limit
        self.reply_budget = reply_budget
        saved = saved or Saved()
        self.next_id = saved.last_id + 1
        self.saved_topics: dict[str, Topic] = dict(saved.topics)
        self.pending = 0  # messages given to the archive and not yet stored
        # Deliveries in the order they were made. While a message waits for the store,
        # everything after it waits too, so everyone sees events in one order.
        self._held: deque[_Held] = deque()
        # How to run something once the current callback is over (the server sets
        # loop.call_soon). With it, everything a store commit releases is delivered in
        # one go, the messages of one room joined into one write per member; without
        # it (tests), each is delivered the moment it is stored.
        self.defer: Callable[[Callable[[], None]], object] | None = None
        self._drain_deferred = False

    def resume(self, archive: Archive, saved: Saved) -> None:
        """Attaches the history store and continues where the last run stopped."""
        self.archive = archive
        self.next_id = max(self.next_id, saved.last_id + 1)
        self.saved_topics.update(saved.topics)

    # --- connections -------------------------------------------------------------

    def open(self, peer: Peer, address: str = "") -> Session:
        """A client connected: greet it and ask for a nickname."""
        session = Session(peer, address)
        self.sessions.add(session)
        greeting = texts.GREETING.format(version=__version__, server=self.server_name)
        self.send(session, Info(greeting + "\n" + texts.CHOOSE_NICK))
        return session

    def handle(self, session: Session, event: ClientEvent) -> None:
        """One request from a client (see `commands.dispatch`)."""
        if not session.closed:
            dispatch(self, session, event)

    def close(self, session: Session, reason: str, *, tell: bool = True) -> None:
        """Ends a session: announces the quit, says goodbye, closes. Idempotent."""
        if session.closed:
            return
        session.closed = True
        self.sessions.discard(session)
        if session.registered:
            self.by_nick.pop(session.key, None)
            audience = self._audience(session, include_self=False, quiet_big=True)
            for room in session.rooms.values():
                self._remove_member(room, session)
            session.rooms.clear()
            session.current = None
            self.fanout(Quit(self.clock(), session.nick, reason), audience)
        if tell:
            self.send(session, Bye(reason))
        self._emit(lambda: session.peer.close(reason))

    def shutdown(self, reason: str = texts.SERVER_SHUTDOWN) -> None:
        """Tells everyone goodbye and closes every session (no quit announcements:
        everybody is leaving at once, and announcing would cost O(users²))."""
        bye = Bye(reason)
        for session in list(self.sessions):
            session.closed = True
            # At once, not behind messages waiting for the store: the peer closes now,
            # and what waits will never be delivered to a closed session anyway.
            self._send_now(session, bye)
            session.peer.close(reason)
        self.sessions.clear()
        self.by_nick.clear()
        self.rooms.clear()

    # --- sending -------------------------------------------------------------------

    def send(self, session: Session, event: ServerEvent, view: View = View.HERE) -> None:
        """Sends one event to one session, in order with everything else."""
        self._emit(lambda: self._send_now(session, event, view))

    @staticmethod
    def _send_now(session: Session, event: ServerEvent, view: View = View.HERE) -> None:
        session.peer.write(session.codec.encode(event, view))

    def error(self, session: Session, code: str, text: str, re: RequestId = None) -> None:
        self.send(session, Error(code, text, re))

    def fanout(
        self, event: ServerEvent, sessions: Iterable[Session], room: Room | None = None
    ) -> None:
        """Delivers one event to many sessions, encoding it once per (codec, view)."""
        if self._held:
            audience = list(sessions)  # who is there now, not when the queue moves
            self._emit(lambda: self._fanout(event, audience, room))
        else:
            self._fanout(event, sessions, room)

    def _fanout(self, event: ServerEvent, sessions: Iterable[Session], room: Room | None) -> None:
        self._fanout_many((event,), sessions, room)

    @staticmethod
    def _fanout_many(
        events: Sequence[ServerEvent], sessions: Iterable[Session], room: Room | None
    ) -> None:
        """Delivers events, in order, to many sessions: one write per session, and each
        event encoded once per (codec, view). The loop over recipients is the costly
        part of a big room, so several messages share one pass when they can."""
        here: dict[Codec, bytes] = {}
        elsewhere: dict[Codec, bytes] = {}
        for session in sessions:
            # (current is None for someone who has just quit: their last lines are theirs.)
            current = session.current
            cache = here if room is None or current is room or current is None else elsewhere
            codec = session.codec
            data = cache.get(codec)
            if data is None:
                view = View.HERE if cache is here else View.ELSEWHERE
                data = cache[codec] = b"".join([codec.encode(event, view) for event in events])
            session.peer.write(data)

    # --- keeping order while the store works ---------------------------------------------

    def _emit(self, run: Callable[[], None]) -> None:
        """Runs a delivery now, or after everything still waiting for the store."""
        if self._held:
            self._held.append(_Held(run))
        else:
            run()

    def _hold(self) -> _Held:
        held = _Held()
        self._held.append(held)
        return held

    def _release(self, held: _Held, run: Callable[[], None] | None = None) -> None:
        """The store has answered for `held`: deliver it (`run`, or its room message)
        once everything before it is delivered."""
        if run is not None:
            held.run = run
        held.ready = True
        if self.defer is None:
            self._drain()
        elif not self._drain_deferred:
            self._drain_deferred = True
            self.defer(self._drain)

    def _drain(self) -> None:
        self._drain_deferred = False
        queue = self._held
        while queue and queue[0].ready:
            first = queue.popleft()
            if first.run is not None:
                try:
                    first.run()
                except Exception:
                    # A delivery that fails must not stop the ones behind it: everyone
                    # else's messages wait in this queue.
                    log.exception("a delivery failed")
                continue
            # Room messages next in line for the same people go out in one pass.
            audience = first.audience
            events: list[ServerEvent] = [cast(ChatMessage, first.event)]
            while (
                queue and queue[0].ready and queue[0].run is None and queue[0].audience is audience
            ):
                events.append(cast(ChatMessage, queue.popleft().event))
            self._fanout_many(events, audience, first.room)

    def announces(self, room: Room) -> bool:
        """Whether joins, parts and quits are told to everyone in the room."""
        return self.announce_limit <= 0 or len(room.members) <= self.announce_limit

    def _audience(
        self, session: Session, include_self: bool, quiet_big: bool = False
    ) -> set[Session]:
        """Everyone who shares a room with `session`: O(members of its rooms)."""
        audience: set[Session] = set()
        for room in session.rooms.values():
            if not quiet_big or self.announces(room):
                audience.update(room.members)
        if include_self:
            audience.add(session)
        else:
            audience.discard(session)
        return audience

    # --- chat operations (called by the command handlers) -------------------------------

    def new_message_id(self) -> int:
        mid = self.next_id
        self.next_id += 1
        return mid

    def register(self, session: Session, nick: str, re: RequestId = None) -> bool:
        nick = names.normalize(nick)
        problem = self.nick_problem(session, nick)
        if problem is not None:
            code, text = problem
            self.send(session, Error(code, text, re, prompt=texts.CHOOSE_ANOTHER))
            return False
        self._take_nick(session, nick)
        self.send(session, Welcome(nick, names.LOBBY, __version__, re))
        self.join(session, names.LOBBY)
        return True

    def _take_nick(self, session: Session, nick: str) -> None:
        session.nick = nick
        session.key = names.key(nick)
        self.by_nick[session.key] = session
        # Private history is keyed by nickname: from now on, not before, what is said
        # to this nickname is this session's (an earlier holder's messages stay theirs).
        session.nick_since = self.next_id

    def nick_problem(self, session: Session, nick: str) -> tuple[str, str] | None:
        problem = names.nick_problem(nick)
        if problem is not None:
            return texts.NICK_INVALID, problem
        holder = self.by_nick.get(names.key(nick))
        if holder is not None and holder is not session:
            return texts.NICK_TAKEN, texts.NICK_TAKEN_TEXT.format(nick=nick)
        return None

    def rename(self, session: Session, nick: str, re: RequestId = None) -> None:
        nick = names.normalize(nick)
        if nick == session.nick:
            self.send(session, Info(texts.ALREADY_NICK_TEXT.format(nick=nick), re))
            return
        problem = self.nick_problem(session, nick)
        if problem is not None:
            self.error(session, *problem, re)
            return
        old = session.nick
        del self.by_nick[session.key]
        self._take_nick(session, nick)
        self.fanout(NickChanged(self.clock(), old, nick), self._audience(session, True))

    def join(self, session: Session, name: str, re: RequestId = None) -> None:
        name = names.room_name(name)
        problem = names.room_problem(name)
        if problem is not None:
            self.error(session, texts.ROOM_INVALID, problem, re)
            return
        key = names.key(name)
        room = session.rooms.get(key)
        if room is not None:
            session.current = room
            self.send(session, Info(texts.SWITCHED_TEXT.format(room=room.name), re))
            return
        if len(session.rooms) >= MAX_ROOMS_PER_USER:
            text = texts.TOO_MANY_ROOMS_TEXT.format(limit=MAX_ROOMS_PER_USER)
            self.error(session, texts.TOO_MANY_ROOMS, text, re)
            return
        room = self.rooms.get(key)
        if room is None:
            saved = self.saved_topics.get(key)
            if saved is None:
                room = self.rooms[key] = Room(name, key)
            else:
                # The room comes back as it was named, with its topic.
                room = self.rooms[key] = Room(saved.room, key)
                room.topic, room.topic_by = saved.text, saved.set_by
        room.add(session)
        session.rooms[key] = room
        session.current = room
        joined = Joined(self.clock(), room.name, session.nick)
        if self.announces(room):
            self.fanout(joined, room.members, room)
        else:
            self.send(session, joined)
        self.send(session, self.members(room, re, limit=NAMES_ON_JOIN))
        if self.archive is not None and self.replay > 0:
            self.room_history(session, room, self.replay, None, None)

    def part(self, session: Session, room: Room, reason: str, re: RequestId = None) -> None:
        if len(session.rooms) == 1:
            self.error(session, texts.LAST_ROOM, texts.LAST_ROOM_TEXT.format(room=room.name), re)
            return
        # Tell the room, the leaver included, before the leaver is gone from it.
        parted = Parted(self.clock(), room.name, session.nick, reason)
        if self.announces(room):
            self.fanout(parted, room.members, room)
        else:
            self.send(session, parted)
        del session.rooms[room.key]
        self._remove_member(room, session)
        if session.current is room:
            session.current = next(reversed(session.rooms.values()))
            self.send(session, Info(texts.SWITCHED_TEXT.format(room=session.current.name)))

    def _remove_member(self, room: Room, session: Session) -> None:
        room.remove(session)
        if not room.members:
            # An empty room is forgotten, so names cannot pile up without bound.
            self.rooms.pop(room.key, None)

    def say(
        self, session: Session, room: Room, text: str, action: bool = False, re: RequestId = None
    ) -> None:
        if self._refuse(session, re):
            return
        message = ChatMessage(
            self.new_message_id(), self.clock(), session.nick, text, room=room.name, action=action
        )
        if self.archive is None:
            self.fanout(message, room.members, room)
            return
        self._store_then(message, session, re, room=room)

    def private(self, session: Session, target: Session, text: str, re: RequestId = None) -> None:
        if self._refuse(session, re):
            return
        message = ChatMessage(
            self.new_message_id(), self.clock(), session.nick, text, to=target.nick
        )

        def deliver() -> None:
            self._send_now(target, message)
            if target is not session:
                self._send_now(session, message, View.OWN)

        if self.archive is None:
            self._emit(deliver)
        else:
            self._store_then(message, session, re, deliver)

    def _refuse(self, session: Session, re: RequestId) -> bool:
        """Whether a new message must be refused because the store cannot take it now.
        (A failing store answers each message with its failure, at once, until it can
        write again: see store.archive.ThreadedArchive.)"""
        if self.pending >= MAX_PENDING:
            self.error(session, texts.BUSY, texts.BUSY_TEXT, re)
            return True
        return False

    def _store_then(
        self,
        message: ChatMessage,
        sender: Session,
        re: RequestId,
        deliver: Callable[[], None] | None = None,
        room: Room | None = None,
    ) -> None:
        """Stores the message, then delivers it: `deliver`, or to the people in `room`
        when it was said. Nobody sees what was not stored."""
        assert self.archive is not None
        held = self._hold()
        if room is not None:
            held.event, held.room, held.audience = message, room, room.audience()
        self.pending += 1

        def stored(failure: str | None) -> None:
            self.pending -= 1
            if failure is None:
                self._release(held, deliver)
                return
            error = Error(texts.STORE_FAILED, texts.STORE_FAILED_TEXT.format(reason=failure), re)
            self._release(held, lambda: self._send_now(sender, error))

        self.archive.append(message, stored)

    # --- history -------------------------------------------------------------------------

    def _show_page(
        self, session: Session, page: Page | str, end: HistoryEnd, own: str | None = None
    ) -> None:
        """Sends a page of history to one session (own: the reader's nickname key)."""
        if isinstance(page, str):
            self._send_now(session, Error(texts.STORE_FAILED, page, end.re))
            return
        codec = session.codec
        encoded: list[bytes] = []
        size = 0
        # Newest first, so that a page cut to the budget keeps the newest messages and
        # "before" the oldest one shown continues without a gap.
        for message in reversed(page.messages):
            mine = own is not None and names.key(message.sender) == own
            data = codec.encode(message, View.OWN if mine else View.HERE)
            size += len(data)
            if size > self.reply_budget and encoded:
                break
            encoded.append(data)
        more = page.more or len(encoded) < len(page.messages)
        encoded.reverse()
        encoded.append(
            codec.encode(HistoryEnd(end.room, len(encoded), more, end.with_nick, end.re))
        )
        session.peer.write(b"".join(encoded))

    def room_history(
        self, session: Session, room: Room, limit: int, before: int | None, re: RequestId
    ) -> None:
        end = HistoryEnd(room.name, 0, False, re=re)
        if self.archive is None:
            self.send(session, end)
            return
        bound = self.next_id if before is None else before
        got = self._page_for(session, end)
        self.archive.room_page(room.key, min(limit, MAX_PAGE), bound, got)

    def private_history(
        self, session: Session, nick: str, limit: int, before: int | None, re: RequestId
    ) -> None:
        end = HistoryEnd(None, 0, False, with_nick=nick, re=re)
        if self.archive is None:
            self.send(session, end)
            return
        bound = self.next_id if before is None else before
        got = self._page_for(session, end, own=session.key)
        self.archive.private_page(
            session.key, names.key(nick), min(limit, MAX_PAGE), bound, session.nick_since, got
        )

    def _page_for(
        self, session: Session, end: HistoryEnd, own: str | None = None
    ) -> Callable[[Page | str], None]:
        """Holds later deliveries until the store answers; then shows its page."""
        held = self._hold()

        def got(page: Page | str) -> None:
            self._release(held, lambda: self._show_page(session, page, end, own))

        return got

    def set_topic(self, session: Session, room: Room, text: str) -> None:
        room.topic = text
        room.topic_by = session.nick
        now = self.clock()
        topic = Topic(room.key, room.name, text, session.nick, now)
        self.saved_topics.pop(room.key, None)
        self.saved_topics[room.key] = topic
        if len(self.saved_topics) > MAX_SAVED_TOPICS:
            del self.saved_topics[next(iter(self.saved_topics))]  # the longest unchanged
        if self.archive is not None:
            self.archive.save_topic(topic)
        self.fanout(TopicChanged(now, room.name, session.nick, text), room.members, room)

    def members(self, room: Room, re: RequestId = None, limit: int = 0) -> Members:
        """Who is in a room; with a limit, only the first `limit` names and the count.
        Past the reply budget the list is cut too (the count still tells all)."""
        nicks: list[str] = []
        size = _utf8_size(room.topic)
        for session in room.members:
            size += _utf8_size(session.nick) + 4  # and a separator
            if (limit and len(nicks) >= limit) or (size > self.reply_budget and nicks):
                return Members(room.name, room.topic, tuple(nicks), re, count=len(room.members))
            nicks.append(session.nick)
        return Members(room.name, room.topic, tuple(nicks), re)

    def room_list(self, re: RequestId = None) -> RoomList:
        """Rooms, the biggest first, as many as the reply budget holds."""
        rooms = sorted(self.rooms.values(), key=lambda r: (-len(r.members), r.key))
        listed: list[RoomInfo] = []
        size = 0
        for room in rooms:
            size += _utf8_size(room.name) + _utf8_size(room.topic) + 32  # and the JSON names
            if size > self.reply_budget and listed:
                break
            listed.append(RoomInfo(room.name, len(room.members), room.topic))
        return RoomList(tuple(listed), re, count=len(rooms))

    def any_room(self, session: Session, name: str, re: RequestId) -> Room | None:
        """A room of the server, by name; None (with an error sent) if it has nobody."""
        room = self.rooms.get(names.key(names.room_name(name)))
        if room is None:
            text = texts.NO_SUCH_ROOM_TEXT.format(room=names.room_name(name))
            self.error(session, texts.NO_SUCH_ROOM, text, re)
        return room

    def find_room(self, session: Session, name: str, re: RequestId) -> Room | None:
        """A room the session is in, by name; None (with an error sent) otherwise."""
        room = session.rooms.get(names.key(names.room_name(name)))
        if room is None:
            text = texts.NOT_IN_ROOM_TEXT.format(room=names.room_name(name))
            self.error(session, texts.NOT_IN_ROOM, text, re)
        return room
