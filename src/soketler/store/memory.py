"""History in memory (`--db :memory:` and tests): gone when the server stops."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo

from soketler.protocols.events import ChatMessage
from soketler.protocols.names import key
from soketler.protocols.query import SearchQuery, scanner
from soketler.store.base import PRUNE_SLICE, HistoryStore, Page, Retention, Saved, Topic

# Memory is the one resource a store in memory cannot take from disk: every room and
# conversation keeps at most this many messages even when retention is unlimited.
MAX_PER_CONVERSATION = 10_000


def conversation(message: ChatMessage) -> str:
    """The key under which a message is kept: its room, or the pair of nicknames."""
    if message.room is not None:
        return key(message.room)
    return private_key(key(message.sender), key(message.to or ""))


def private_key(a: str, b: str) -> str:
    # A space cannot occur in a nickname, so this cannot collide with a room key.
    return " ".join(sorted((a, b)))


class MemoryStore(HistoryStore):
    def __init__(self, per_conversation: int = MAX_PER_CONVERSATION) -> None:
        self._per_conversation = per_conversation
        self._kept: dict[str, deque[ChatMessage]] = {}
        self._topics: dict[str, Topic] = {}
        self._last_id = 0

    def load(self) -> Saved:
        return Saved(self._last_id, dict(self._topics))

    def write(self, messages: Sequence[ChatMessage], topics: Sequence[Topic]) -> None:
        for message in messages:
            where = conversation(message)
            kept = self._kept.get(where)
            if kept is None:
                kept = self._kept[where] = deque(maxlen=self._per_conversation)
            kept.append(replace(message, history=True))
            self._last_id = max(self._last_id, message.id)
        for topic in topics:
            self._topics[topic.room_key] = topic

    def _page(self, where: str, limit: int, before: int | None, after: int = 0) -> Page:
        kept = self._kept.get(where, ())
        older = [m for m in kept if (before is None or m.id < before) and m.id >= after]
        return Page(older[-limit:] if limit > 0 else [], len(older) > limit)

    def room_page(self, room_key: str, limit: int, before: int | None) -> Page:
        return self._page(room_key, limit, before)

    def private_page(
        self, key_a: str, key_b: str, limit: int, before: int | None, after: int = 0
    ) -> Page:
        return self._page(private_key(key_a, key_b), limit, before, after)

    def search(
        self,
        query: SearchQuery,
        viewer_key: str,
        rooms: Collection[str] | None,
        limit: int,
        before: int | None,
        tz: tzinfo = UTC,
        private_after: int = 0,
    ) -> Page:
        # A scan of everything kept: the memory store serves tests and small servers.
        wanted = scanner(query, viewer_key, rooms, before, tz, private_after)
        found = [m for kept in self._kept.values() for m in kept if wanted(m)]
        found.sort(key=lambda m: m.id)
        return Page(found[-limit:] if limit > 0 else [], len(found) > limit)

    def prune(self, retention: Retention, now: datetime, limit: int = PRUNE_SLICE) -> int:
        removed = 0
        cutoff = now - timedelta(days=retention.days) if retention.days > 0 else None
        for where, kept in list(self._kept.items()):
            while (
                kept
                and removed < limit
                and (
                    (cutoff is not None and kept[0].time < cutoff)
                    or (retention.messages > 0 and len(kept) > retention.messages)
                )
            ):
                kept.popleft()
                removed += 1
            if not kept:
                del self._kept[where]
        return removed
