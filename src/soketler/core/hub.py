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

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from soketler.core.archive import Archive, Page, Saved, Topic
from soketler.core.counts import Counts
from soketler.core.delivery import Delivery, Run, private_stream, room_stream
from soketler.core.nicks import Nicks
from soketler.core.rooms import Rooms
from soketler.core.session import Peer, Room, Session, SessionState
from soketler.core.texts import SERVER_SHUTDOWN
from soketler.protocols import codes, names
from soketler.protocols.events import (
    Bye,
    ChatMessage,
    Codec,
    Error,
    HistoryEnd,
    HistoryPage,
    Joined,
    Member,
    Members,
    NickChanged,
    Parted,
    Quit,
    RequestId,
    RoomInfo,
    RoomList,
    SearchEnd,
    SearchPage,
    ServerEvent,
    TopicChanged,
    TopicReply,
    View,
)
from soketler.protocols.plain import PLAIN
from soketler.protocols.query import QueryError, parse_query

Clock = Callable[[], datetime]
# Messages waiting for the store at once; past this, senders are told to wait. It
# bounds memory when the disk is slower than the people typing.
MAX_PENDING = 10_000
MAX_PAGE = 200  # messages in one history reply
MAX_SEARCH = 100  # messages in one search reply
# Names listed to someone joining a big room; /who lists them all.
NAMES_ON_JOIN = 100
# Bytes of text one reply (a history page, a member list, the room list) may hold, so
# that no answer is bigger than a reader's SendQ: a bigger one is cut, and says so
# ("more" on a history page, the count of all members or rooms on the others).
REPLY_BUDGET = 256 * 1024
# Rooms one session may be in: rooms cost memory, and no one client may make it grow.
MAX_ROOMS_PER_USER = 100


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
            quit_ = Quit(self.clock(), session.nick, reason, session.user, session.host)
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

    def error(
        self,
        session: Session,
        code: str,
        re: RequestId = None,
        subject: str = "",
        detail: str = "",
    ) -> None:
        self.send(session, Error(code, re=re, subject=subject, detail=detail))

    # --- nicknames -----------------------------------------------------------------------

    def register(self, session: Session, nick: str, re: RequestId = None) -> bool:
        """Gives a registering session its nickname; on refusal, says why (as a prompt
        to choose again)."""
        nick = names.normalize(nick)
        problem = self.nicks.problem(session, nick)
        if problem is not None:
            code, detail = problem
            self.send(session, Error(code, re=re, subject=nick, detail=detail, prompt=True))
            return False
        self._take_nick(session, nick)
        if not session.user:
            session.user = nick
        session.state = SessionState.REGISTERED
        return True

    def rename(self, session: Session, nick: str, re: RequestId = None) -> bool:
        """Changes a registered session's nickname, telling everyone who shares a room
        with it (and itself)."""
        nick = names.normalize(nick)
        problem = self.nicks.problem(session, nick)
        if problem is not None:
            code, detail = problem
            self.error(session, code, re, nick, detail)
            return False
        old = session.nick
        self._take_nick(session, nick)
        changed = NickChanged(self.clock(), old, nick, session.user, session.host)
        self._tell_rooms_once(session, changed, include_self=True)
        return True

    def _take_nick(self, session: Session, nick: str) -> None:
        self.nicks.take(session, nick)
        # Private history is keyed by nickname: from now on, not before, what is said
        # to this nickname is this session's (an earlier holder's messages stay theirs).
        session.nick_since = self.next_id

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
    ) -> Room | None:
        """Puts the session in a room (made if needed); the room hears of it, the joiner
        gets the member list and, with `replay`, the room's last messages. A room the
        session is in already is returned as it is; None (with an error) if refused."""
        name = names.room_name(name)
        problem = names.room_problem(name)
        if problem is not None:
            self.error(session, codes.ROOM_INVALID, re, name, problem)
            return None
        room = session.rooms.get(names.key(name))
        if room is not None:
            return room
        if len(session.rooms) >= MAX_ROOMS_PER_USER:
            self.error(session, codes.TOO_MANY_ROOMS, re, name, str(MAX_ROOMS_PER_USER))
            return None
        room = self.rooms.enter(session, name)
        stream = room_stream(room)
        joined = Joined(self.clock(), room.name, session.nick, session.user, session.host)
        if self.announces(room):
            self.delivery.fanout(stream, joined, room.members, room)
        else:
            self.send(session, joined, stream=stream)
        members = self.members(room, re, limit=NAMES_ON_JOIN, joining=True)
        self.send(session, members, stream=stream)
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

    def set_topic(self, session: Session, room: Room, text: str) -> None:
        now = self.clock()
        room.topic, room.topic_by, room.topic_time = text, session.nick, now.timestamp()
        topic = Topic(room.key, room.name, text, session.nick, now)
        self.rooms.save_topic(topic)
        if self.archive is not None:
            self.archive.save_topic(topic)
        changed = TopicChanged(now, room.name, session.nick, text)
        self.delivery.fanout(room_stream(room), changed, room.members, room)

    def topic(self, session: Session, room: Room, re: RequestId = None) -> None:
        reply = TopicReply(room.name, room.topic, room.topic_by, re)
        self.send(session, reply, stream=room_stream(room))

    def members(
        self, room: Room, re: RequestId = None, limit: int = 0, joining: bool = False
    ) -> Members:
        """Who is in a room; with a limit, only the first `limit` and the count. Past
        the reply budget the list is cut too (the count still tells all)."""
        listed: list[Member] = []
        size = _utf8_size(room.topic)
        count = -1
        for session, status in room.members.items():
            size += _utf8_size(session.nick) + 4  # and a separator
            if (limit and len(listed) >= limit) or (size > self.reply_budget and listed):
                count = len(room.members)
                break
            away = session.away is not None
            listed.append(Member(session.nick, status, session.user, session.host, away))
        users = tuple(m.nick for m in listed)
        return Members(room.name, room.topic, users, re, count, tuple(listed), joining)

    def room_list(self, re: RequestId = None) -> RoomList:
        """Rooms, the biggest first, as many as the reply budget holds."""
        rooms = sorted(self.rooms.by_key.values(), key=lambda r: (-len(r.members), r.key))
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
        """A message to a room: stored, then delivered to the people in the room when
        it was said, the sender too."""
        if self._refuse(session, re):
            return
        self.counts.room_messages += 1
        message = ChatMessage(
            self.new_message_id(),
            self.clock(),
            session.nick,
            text,
            room=room.name,
            action=action,
            user=session.user,
            host=session.host,
            notice=notice,
        )
        if self.archive is None:
            self.delivery.fanout(room_stream(room), message, room.members, room)
            return
        held = self.delivery.hold_message(message, room)
        self._store_then(message, session, re, held)

    def private(
        self,
        session: Session,
        target: Session,
        text: str,
        re: RequestId = None,
        action: bool = False,
        notice: bool = False,
    ) -> None:
        """A private message: stored, then delivered to the recipient and echoed to the
        sender (marked as its own)."""
        if self._refuse(session, re):
            return
        self.counts.private_messages += 1
        message = ChatMessage(
            self.new_message_id(),
            self.clock(),
            session.nick,
            text,
            to=target.nick,
            action=action,
            user=session.user,
            host=session.host,
            notice=notice,
        )

        def deliver() -> None:
            Delivery.write(target, message)
            if target is not session:
                Delivery.write(session, message, View.OWN)
            self.delivery.delivered += 1 if target is session else 2

        stream = private_stream(session.key, target.key)
        if self.archive is None:
            self.delivery.emit(stream, deliver)
            return
        held = self.delivery.hold(stream)
        self._store_then(message, session, re, held, deliver)

    def _refuse(self, session: Session, re: RequestId) -> bool:
        """Whether a new message must be refused because the store cannot take it now.
        (A failing store answers each message with its failure, at once, until it can
        write again: see store.archive.ThreadedArchive.)"""
        if self.pending >= MAX_PENDING:
            self.counts.busy += 1
            self.error(session, codes.BUSY, re)
            return True
        return False

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
        bound = self.next_id if before is None else before
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
        bound = self.next_id if before is None else before
        got = self._page_for(session, end, stream, own=session.key)
        self.archive.private_page(
            session.key, names.key(nick), min(limit, MAX_PAGE), bound, session.nick_since, got
        )

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
        bound = self.next_id if before is None else min(before, self.next_id)

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
