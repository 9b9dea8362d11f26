"""The rooms of a server: made when someone joins, forgotten when the last one leaves,
their topics remembered for a while so that a room comes back as it was."""

from __future__ import annotations

from soketler.core.archive import Topic
from soketler.core.session import OPERATOR, Room, Session
from soketler.protocols import names

# Topics remembered for rooms that are empty now, to restore when someone returns.
MAX_SAVED_TOPICS = 10_000


class Rooms:
    def __init__(self) -> None:
        self.by_key: dict[str, Room] = {}
        self.saved_topics: dict[str, Topic] = {}

    def get(self, name: str) -> Room | None:
        """A room by name as typed ("dev" is "#dev")."""
        return self.by_key.get(names.key(names.room_name(name)))

    def enter(self, session: Session, name: str, now: float = 0.0) -> Room:
        """Puts `session` in the room `name` (valid), making the room if needed (at
        `now`, seconds since the epoch); whoever makes a room is its first operator."""
        key = names.key(name)
        room = self.by_key.get(key)
        status = ""
        if room is None:
            saved = self.saved_topics.get(key)
            if saved is None:
                room = Room(name, key, now)
            else:
                # The room comes back as it was named, with its topic.
                room = Room(saved.room, key, now)
                room.topic, room.topic_by = saved.text, saved.set_by
                room.topic_time = saved.time.timestamp()
            self.by_key[key] = room
            status = OPERATOR
        room.add(session, status)
        session.rooms[key] = room
        return room

    def leave(self, session: Session, room: Room) -> None:
        session.rooms.pop(room.key, None)
        room.remove(session)
        if session.current is room:
            session.current = None
        if not room.members:
            # An empty room is forgotten, so names cannot pile up without bound.
            self.by_key.pop(room.key, None)

    def save_topic(self, topic: Topic) -> None:
        self.saved_topics.pop(topic.room_key, None)
        self.saved_topics[topic.room_key] = topic
        if len(self.saved_topics) > MAX_SAVED_TOPICS:
            del self.saved_topics[next(iter(self.saved_topics))]  # the longest unchanged

    def clear(self) -> None:
        self.by_key.clear()

    def __len__(self) -> int:
        return len(self.by_key)
