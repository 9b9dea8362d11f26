"""What the hub needs of a history store, and the records that cross that line.

The hub calls an `Archive` and gets answers through callbacks, so the same hub code
runs with a store that answers at once (in memory, tests) and with one that answers
from a writer thread after a group commit (SQLite).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Protocol

from soketler.protocols.events import ChatMessage
from soketler.protocols.query import SearchQuery


@dataclass(frozen=True, slots=True)
class Topic:
    room_key: str
    room: str
    text: str
    set_by: str | None
    time: datetime


@dataclass(frozen=True, slots=True)
class Saved:
    """What a server resumes from when it starts."""

    last_id: int = 0
    topics: dict[str, Topic] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    messages: list[ChatMessage]  # oldest first, each marked history=True
    more: bool  # older messages exist before the first one


@dataclass(frozen=True, slots=True)
class Retention:
    days: float = 0.0  # 0: keep forever
    messages: int = 0  # per room and per private conversation; 0: no limit


# A callback gets None (stored) or the reason it could not be stored.
Stored = Callable[[str | None], None]
# A callback gets the page, or the reason it could not be read.
Paged = Callable[[Page | str], None]


class Archive(Protocol):
    def append(self, message: ChatMessage, done: Stored) -> None:
        """Makes the message durable, then calls `done` on the event loop's thread.
        Calls come back in the order the messages were given."""

    def save_topic(self, topic: Topic) -> None:
        """Stores a topic with the next group of messages."""

    def room_page(self, room_key: str, limit: int, before: int | None, done: Paged) -> None: ...

    def private_page(
        self, key_a: str, key_b: str, limit: int, before: int | None, after: int, done: Paged
    ) -> None:
        """Private messages of two nicknames, with ids from `after` (the reader took
        the nickname then: what was said to an earlier holder of it is not theirs)."""

    def search(
        self,
        query: SearchQuery,
        viewer_key: str,
        rooms: Collection[str] | None,
        limit: int,
        before: int | None,
        private_after: int,
        tz: tzinfo,
        done: Paged,
    ) -> None:
        """The newest `limit` matches below `before` that the viewer may read: messages
        of `rooms` (room keys), and its own private messages from id `private_after`
        on, as for its private history pages (store.base.HistoryStore.search)."""
