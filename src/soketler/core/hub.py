"""The hub: every session, nickname and room of one server, and how events reach people.

Delivery is the hot path. An event is encoded once per (flavour, view) and the same
bytes are appended to each recipient's queue (`Peer.write`); there is no task and no
await per recipient, and the transport coalesces each client's writes per loop tick.
Costs grow with the people involved: a message costs O(members of its room), a join,
part, nick change or quit O(members of the rooms involved); nothing walks every user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from soketler import __version__
from soketler.core import names, texts
from soketler.core.commands import dispatch
from soketler.core.session import Peer, Room, Session
from soketler.protocols.events import (
    Bye,
    ChatMessage,
    ClientEvent,
    Codec,
    Error,
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

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Hub:
    def __init__(self, server_name: str = "soketler", clock: Clock = utc_now) -> None:
        self.server_name = server_name
        self.clock = clock
        self.sessions: set[Session] = set()
        self.by_nick: dict[str, Session] = {}
        self.rooms: dict[str, Room] = {}
        self.next_id = 1

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
            audience = self._audience(session, include_self=False)
            for room in session.rooms.values():
                self._remove_member(room, session)
            session.rooms.clear()
            session.current = None
            self.fanout(Quit(self.clock(), session.nick, reason), audience)
        if tell:
            self.send(session, Bye(reason))
        session.peer.close(reason)

    def shutdown(self, reason: str = texts.SERVER_SHUTDOWN) -> None:
        """Tells everyone goodbye and closes every session (no quit announcements:
        everybody is leaving at once, and announcing would cost O(users²))."""
        bye = Bye(reason)
        for session in list(self.sessions):
            session.closed = True
            self.send(session, bye)
            session.peer.close(reason)
        self.sessions.clear()
        self.by_nick.clear()
        self.rooms.clear()

    # --- sending -------------------------------------------------------------------

    def send(self, session: Session, event: ServerEvent, view: View = View.HERE) -> None:
        session.peer.write(session.codec.encode(event, view))

    def error(self, session: Session, code: str, text: str, re: RequestId = None) -> None:
        self.send(session, Error(code, text, re))

    def fanout(
        self, event: ServerEvent, sessions: Iterable[Session], room: Room | None = None
    ) -> None:
        """Delivers one event to many sessions, encoding it once per (codec, view)."""
        here: dict[Codec, bytes] = {}
        elsewhere: dict[Codec, bytes] = {}
        for session in sessions:
            cache = here if room is None or session.current is room else elsewhere
            codec = session.codec
            data = cache.get(codec)
            if data is None:
                view = View.HERE if cache is here else View.ELSEWHERE
                data = cache[codec] = codec.encode(event, view)
            session.peer.write(data)

    def _audience(self, session: Session, include_self: bool) -> set[Session]:
        """Everyone who shares a room with `session`: O(members of its rooms)."""
        audience: set[Session] = set()
        for room in session.rooms.values():
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
            self.error(session, code, text + texts.CHOOSE_ANOTHER, re)
            return False
        session.nick = nick
        session.key = names.key(nick)
        self.by_nick[session.key] = session
        self.send(session, Welcome(nick, names.LOBBY, __version__, re))
        self.join(session, names.LOBBY)
        return True

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
        session.nick = nick
        session.key = names.key(nick)
        self.by_nick[session.key] = session
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
        room = self.rooms.get(key)
        if room is None:
            room = self.rooms[key] = Room(name, key)
        room.members[session] = None
        session.rooms[key] = room
        session.current = room
        self.fanout(Joined(self.clock(), room.name, session.nick), room.members, room)
        self.send(session, self.members(room, re))

    def part(self, session: Session, room: Room, reason: str, re: RequestId = None) -> None:
        if len(session.rooms) == 1:
            self.error(session, texts.LAST_ROOM, texts.LAST_ROOM_TEXT.format(room=room.name), re)
            return
        # Tell the room, the leaver included, before the leaver is gone from it.
        self.fanout(Parted(self.clock(), room.name, session.nick, reason), room.members, room)
        del session.rooms[room.key]
        self._remove_member(room, session)
        if session.current is room:
            session.current = next(reversed(session.rooms.values()))
            self.send(session, Info(texts.SWITCHED_TEXT.format(room=session.current.name)))

    def _remove_member(self, room: Room, session: Session) -> None:
        room.members.pop(session, None)
        if not room.members:
            # An empty room is forgotten, so names cannot pile up without bound.
            self.rooms.pop(room.key, None)

    def say(self, session: Session, room: Room, text: str, action: bool = False) -> None:
        message = ChatMessage(
            self.new_message_id(), self.clock(), session.nick, text, room=room.name, action=action
        )
        self.fanout(message, room.members, room)

    def private(self, session: Session, target: Session, text: str) -> None:
        message = ChatMessage(
            self.new_message_id(), self.clock(), session.nick, text, to=target.nick
        )
        self.send(target, message)
        if target is not session:
            self.send(session, message, View.OWN)

    def set_topic(self, session: Session, room: Room, text: str) -> None:
        room.topic = text
        room.topic_by = session.nick
        self.fanout(TopicChanged(self.clock(), room.name, session.nick, text), room.members, room)

    def members(self, room: Room, re: RequestId = None) -> Members:
        return Members(room.name, room.topic, tuple(s.nick for s in room.members), re)

    def room_list(self, re: RequestId = None) -> RoomList:
        rooms = sorted(self.rooms.values(), key=lambda r: (-len(r.members), r.key))
        return RoomList(tuple(RoomInfo(r.name, len(r.members), r.topic) for r in rooms), re)

    def find_room(self, session: Session, name: str, re: RequestId) -> Room | None:
        """A room the session is in, by name; None (with an error sent) otherwise."""
        room = session.rooms.get(names.key(names.room_name(name)))
        if room is None:
            text = texts.NOT_IN_ROOM_TEXT.format(room=names.room_name(name))
            self.error(session, texts.NOT_IN_ROOM, text, re)
        return room
