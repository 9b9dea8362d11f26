"""What a client knows, kept up to date from events alone (no I/O).

`Membership` is who we are and where: the `ChatClient` keeps one to rejoin rooms after
a reconnect. `ChatState` adds what a person's screen needs: the room lines go to,
unread counts for the other rooms, and the names worth completing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from soketler.client.events import (
    ChatMessage,
    Event,
    Joined,
    Members,
    NickChanged,
    Parted,
    Quit,
    RoomList,
    Welcome,
)
from soketler.protocols.names import key

# Completion remembers at most this many nicknames and room names; the oldest go first.
MAX_REMEMBERED = 5000


class Membership:
    """Our nickname, our rooms in the order we joined them, and the current room."""

    def __init__(self, nick: str = "") -> None:
        self.nick = nick
        self.rooms: list[str] = []
        self.current: str | None = None

    def is_me(self, nick: str) -> bool:
        return key(nick) == key(self.nick)

    def room(self, name: str) -> str | None:
        """Our spelling of a room we are in (names ignore case), or None."""
        wanted = key(name)
        return next((room for room in self.rooms if key(room) == wanted), None)

    def apply(self, event: Event) -> None:
        match event:
            case Welcome(nick=nick, room=room):
                self.nick = nick
                self.rooms = [room]
                self.current = room
            case Joined(room=room, nick=nick) if self.is_me(nick):
                if self.room(room) is None:
                    self.rooms.append(room)
                # The server makes a room we join current; so do we.
                self.current = self.room(room)
            case Parted(room=room, nick=nick) if self.is_me(nick):
                ours = self.room(room)
                if ours is not None:
                    self.rooms.remove(ours)
                if self.current is None or ours == self.current:
                    self.current = self.rooms[-1] if self.rooms else None
            case NickChanged(old=old, new=new) if self.is_me(old):
                self.nick = new


class _Names:
    """Names in the order they were last seen, at most MAX_REMEMBERED of them."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def add(self, name: str) -> None:
        self._names.pop(key(name), None)
        self._names[key(name)] = name
        if len(self._names) > MAX_REMEMBERED:
            del self._names[next(iter(self._names))]

    def discard(self, name: str) -> None:
        self._names.pop(key(name), None)

    def __iter__(self) -> Iterator[str]:
        return iter(reversed(self._names.values()))


class ChatState:
    """A person's view: membership, the room typed lines go to, unread counts."""

    def __init__(self, nick: str = "") -> None:
        self.membership = Membership(nick)
        self.unread: dict[str, int] = {}
        # Set when the person has asked to leave: the goodbye is theirs, not news.
        self.leaving = False
        self._nicks = _Names()
        self._rooms = _Names()
        # Ids of messages already received, so a replay after a reconnect can be skipped.
        self._seen: deque[int] = deque(maxlen=MAX_REMEMBERED)
        self._seen_set: set[int] = set()

    def seen(self, message: ChatMessage) -> bool:
        """Whether this message has been received before (a replay of it, now)."""
        return message.id in self._seen_set

    def _remember(self, message_id: int) -> None:
        if message_id in self._seen_set:
            return
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(message_id)
        self._seen_set.add(message_id)

    @property
    def nick(self) -> str:
        return self.membership.nick

    @property
    def rooms(self) -> list[str]:
        return self.membership.rooms

    @property
    def current(self) -> str | None:
        return self.membership.current

    def unread_in(self, room: str) -> int:
        return self.unread.get(key(room), 0)

    def switch(self, name: str) -> str | None:
        """Makes a room we are in current; returns its name, or None if we are not in it."""
        room = self.membership.room(name)
        if room is not None:
            self.membership.current = room
            self.unread.pop(key(room), None)
        return room

    def switch_to_number(self, number: int) -> str | None:
        """Alt-1 is the first room joined, Alt-2 the second, ..."""
        if 1 <= number <= len(self.rooms):
            return self.switch(self.rooms[number - 1])
        return None

    def nicks(self) -> list[str]:
        """Nicknames seen, most recent first."""
        return list(self._nicks)

    def known_rooms(self) -> list[str]:
        """Our rooms first, then others seen in /rooms or messages."""
        ours = {key(room) for room in self.rooms}
        return self.rooms + [room for room in self._rooms if key(room) not in ours]

    def apply(self, event: Event) -> None:
        self.membership.apply(event)
        match event:
            case ChatMessage(id=message_id, sender=sender, room=room, history=replayed):
                self._remember(message_id)
                self._nicks.add(sender)
                if room is not None and not replayed and not self.membership.is_me(sender):
                    self._rooms.add(room)
                    if self.current is None or key(room) != key(self.current):
                        self.unread[key(room)] = self.unread_in(room) + 1
            case Joined(room=room, nick=nick):
                self._nicks.add(nick)
                self._rooms.add(room)
                if self.membership.is_me(nick):
                    self.unread.pop(key(room), None)
            case Parted(room=room, nick=nick) if self.membership.is_me(nick):
                self.unread.pop(key(room), None)
            case Members(users=users):
                for user in users:
                    self._nicks.add(user)
            case RoomList(rooms=rooms):
                for info in rooms:
                    self._rooms.add(info.name)
            case Quit(nick=nick):
                self._nicks.discard(nick)
            case NickChanged(old=old, new=new):
                self._nicks.discard(old)
                self._nicks.add(new)
