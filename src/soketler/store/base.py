"""The history store interface, shared by every backend.

Backends are plain synchronous objects. A backend on disk is never called on the event
loop's thread: `store.archive.ThreadedArchive` runs it on a writer thread, committing
every message that arrived during the previous commit in one transaction. The memory
backend answers at once through `ImmediateArchive`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, tzinfo

from soketler.core.archive import Page, Retention, Saved, Topic
from soketler.errors import SoketlerError
from soketler.protocols.events import ChatMessage
from soketler.protocols.query import SearchQuery

__all__ = ["PRUNE_SLICE", "HistoryStore", "Page", "Retention", "Saved", "StoreError", "Topic"]

# Messages one retention transaction deletes at most.
PRUNE_SLICE = 500


class StoreError(SoketlerError):
    """The history store cannot be used; the text says why, for people."""


class HistoryStore(ABC):
    @abstractmethod
    def load(self) -> Saved:
        """Reads what a restarted server resumes from. Raises StoreError."""

    @abstractmethod
    def write(self, messages: Sequence[ChatMessage], topics: Sequence[Topic]) -> None:
        """Stores all of them in one transaction, or none. Raises StoreError."""

    @abstractmethod
    def room_page(self, room_key: str, limit: int, before: int | None) -> Page:
        """The newest `limit` messages of a room with ids below `before`."""

    @abstractmethod
    def private_page(
        self, key_a: str, key_b: str, limit: int, before: int | None, after: int = 0
    ) -> Page:
        """The newest private messages between two nicknames (by name key) with ids
        below `before` and at or above `after`."""

    @abstractmethod
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
        """The newest `limit` messages matching `query` with ids below `before` that the
        viewer may read, oldest first: messages of the rooms in `rooms` (room keys; None:
        every room) and the viewer's own private conversations, from id `private_after`
        on (as private history pages: what was said to an earlier holder of the viewer's
        nickname is not the viewer's). Dates of the query are days in `tz`."""

    @abstractmethod
    def prune(self, retention: Retention, now: datetime, limit: int = PRUNE_SLICE) -> int:
        """Deletes at most `limit` messages that retention no longer keeps, in one
        transaction, and returns how many went. Fewer than `limit`: the pass is over.
        Small slices keep each transaction short, so commits are never kept waiting."""

    def writable(self) -> None:  # noqa: B027 - a store in memory is always writable
        """Raises StoreError unless a write would succeed now (after a failure)."""

    def close(self) -> None:  # noqa: B027 - a store without files has nothing to release
        """Releases files; harmless to call twice."""
