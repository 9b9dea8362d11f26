"""The writer thread: group commits, order, and failures reported back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from soketler.core.archive import Page, Topic
from soketler.protocols.events import ChatMessage
from soketler.store.archive import ThreadedArchive
from soketler.store.base import StoreError
from soketler.store.sqlite import SqliteStore

NOW = datetime(2026, 11, 23, tzinfo=UTC)


class CountingStore(SqliteStore):
    def __init__(self, path: str, fail: bool = False) -> None:
        super().__init__(path)
        self.transactions: list[int] = []
        self.fail = fail

    def write(self, messages: Sequence[ChatMessage], topics: Sequence[Topic]) -> None:
        if self.fail:
            raise StoreError("disk full")
        self.transactions.append(len(messages))
        super().write(messages, topics)


async def test_messages_arriving_during_a_commit_share_the_next_one(tmp_path: Path) -> None:
    store = CountingStore(str(tmp_path / "h.db"))
    store.load()
    archive = ThreadedArchive(store, asyncio.get_running_loop())
    stored: list[int] = []
    all_done = asyncio.Event()
    count = 2000

    def done_for(mid: int) -> object:
        def done(failure: str | None) -> None:
            assert failure is None
            stored.append(mid)
            if len(stored) == count:
                all_done.set()

        return done

    for mid in range(1, count + 1):
        archive.append(ChatMessage(mid, NOW, "a", f"m{mid}", room="#r"), done_for(mid))  # type: ignore[arg-type]
    await asyncio.wait_for(all_done.wait(), 30)
    assert stored == list(range(1, count + 1))  # callbacks in order
    assert sum(store.transactions) == count
    assert len(store.transactions) < count / 10  # grouped, not one commit per message
    pages: list[Page | str] = []
    got = asyncio.Event()
    archive.room_page("#r", 3, None, lambda page: (pages.append(page), got.set()))  # type: ignore[func-returns-value]
    await asyncio.wait_for(got.wait(), 10)
    [page] = pages
    assert isinstance(page, Page) and [m.id for m in page.messages] == [1998, 1999, 2000]
    await archive.close()


async def test_a_failed_commit_is_reported_to_every_message_in_it(tmp_path: Path) -> None:
    store = CountingStore(str(tmp_path / "h.db"), fail=True)
    store.load()
    archive = ThreadedArchive(store, asyncio.get_running_loop())
    results: list[str | None] = []
    finished = asyncio.Event()

    def done(failure: str | None) -> None:
        results.append(failure)
        if len(results) == 5:
            finished.set()

    for mid in range(5):
        archive.append(ChatMessage(mid, NOW, "a", "x", room="#r"), done)
    await asyncio.wait_for(finished.wait(), 10)
    assert results == ["disk full"] * 5
    await archive.close()
