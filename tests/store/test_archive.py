"""The writer thread: group commits, order, and failures reported back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from soketler.core.archive import Page, Retention, Topic
from soketler.protocols.events import ChatMessage
from soketler.store import archive as archive_module
from soketler.store.archive import ThreadedArchive
from soketler.store.base import PRUNE_SLICE, StoreError
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
    watched: list[tuple[int, bool, str]] = []

    def watch(seconds: float, messages: int, failed: bool) -> None:
        watched.append((messages, failed, threading.current_thread().name))

    archive = ThreadedArchive(store, asyncio.get_running_loop(), watch)
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
    # The metrics are told of each failed group, on the writer thread.
    assert sum(count for count, _, _ in watched) == 5
    assert all(failed and thread == "soketler-history" for _, failed, thread in watched)
    await archive.close()


class ExplodingStore(SqliteStore):
    """A store with a bug of ours: anything but a StoreError, from every call."""

    def write(self, messages: Sequence[ChatMessage], topics: Sequence[Topic]) -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    def room_page(self, room_key: str, limit: int, before: int | None) -> Page:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")


async def test_the_writer_thread_outlives_any_exception(tmp_path: Path) -> None:
    store = ExplodingStore(str(tmp_path / "h.db"))
    store.load()
    archive = ThreadedArchive(store, asyncio.get_running_loop())
    loop = asyncio.get_running_loop()
    for _ in range(2):  # a second round proves the thread is still there
        stored: asyncio.Future[str | None] = loop.create_future()
        paged: asyncio.Future[Page | str] = loop.create_future()
        archive.append(ChatMessage(1, NOW, "a", "x", room="#r"), stored.set_result)
        archive.room_page("#r", 5, None, paged.set_result)
        assert await asyncio.wait_for(stored, 10) == archive_module.INTERNAL_FAILURE
        assert await asyncio.wait_for(paged, 10) == archive_module.INTERNAL_FAILURE
    await archive.close()


class FlakyStore(SqliteStore):
    """Fails every write (the disk is full) until `heal` is set."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.healed = False
        self.attempts = 0

    def write(self, messages: Sequence[ChatMessage], topics: Sequence[Topic]) -> None:
        self.attempts += 1
        if not self.healed:
            raise StoreError("database or disk is full")
        super().write(messages, topics)

    def writable(self) -> None:
        if not self.healed:
            raise StoreError("database or disk is full")
        super().writable()


async def append_and_wait(archive: ThreadedArchive, mid: int) -> str | None:
    loop = asyncio.get_running_loop()
    result: asyncio.Future[str | None] = loop.create_future()
    archive.append(ChatMessage(mid, NOW, "a", f"m{mid}", room="#r"), result.set_result)
    return await asyncio.wait_for(result, 10)


async def test_a_failing_disk_is_retried_then_probed_and_writes_resume_when_it_heals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_module, "FIRST_PROBE_PAUSE", 0.05)
    store = FlakyStore(str(tmp_path / "h.db"))
    store.load()
    archive = ThreadedArchive(store, asyncio.get_running_loop())
    assert await append_and_wait(archive, 1) == "database or disk is full"
    tries = store.attempts
    assert tries == 1 + len(archive_module.RETRY_PAUSES)  # tried again before giving up
    # Failed now: the next message is answered at once, without touching the disk.
    assert await append_and_wait(archive, 2) == "database or disk is full"
    assert store.attempts == tries
    store.healed = True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (failure := await append_and_wait(archive, 3)) is not None:
        assert loop.time() < deadline, failure  # the probe finds it writable soon
        await asyncio.sleep(0.05)
    assert await append_and_wait(archive, 4) is None
    await archive.close()
    check = SqliteStore(str(tmp_path / "h.db"))
    assert [m.id for m in check.room_page("#r", 10, None).messages] == [3, 4]
    check.close()


class SlicedPruneStore(SqliteStore):
    """Records the order of writes and retention slices on the writer thread."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.calls: list[str] = []
        self.on_first_slice: Callable[[], None] | None = None
        self.pass_over = threading.Event()

    def write(self, messages: Sequence[ChatMessage], topics: Sequence[Topic]) -> None:
        self.calls.append("write")
        super().write(messages, topics)

    def prune(self, retention: Retention, now: datetime, limit: int = PRUNE_SLICE) -> int:
        removed = super().prune(retention, now, limit)
        self.calls.append(f"prune {removed}")
        if self.on_first_slice is not None:
            hook, self.on_first_slice = self.on_first_slice, None
            hook()
        if removed < limit:
            self.pass_over.set()
        return removed


async def test_retention_runs_in_slices_between_commit_groups(tmp_path: Path) -> None:
    store = SlicedPruneStore(str(tmp_path / "h.db"))
    store.load()
    old = datetime(2020, 1, 1, tzinfo=UTC)
    store.write([ChatMessage(n, old, "a", "old", room="#r") for n in range(1, 1301)], [])
    store.calls.clear()
    archive = ThreadedArchive(store, asyncio.get_running_loop())
    written = asyncio.Event()
    # A message given while the pass is under way is committed before its next slice.
    store.on_first_slice = lambda: archive.append(
        ChatMessage(2000, NOW, "a", "new", room="#r"),
        lambda failure: asyncio.get_running_loop().call_soon(written.set),
    )
    archive.prune(Retention(days=30))
    await asyncio.wait_for(written.wait(), 10)
    assert await asyncio.to_thread(store.pass_over.wait, 10)
    await archive.close()
    assert store.calls == ["prune 500", "write", "prune 500", "prune 300"]
    check = SqliteStore(str(tmp_path / "h.db"))
    assert [m.text for m in check.room_page("#r", 10, None).messages] == ["new"]
    check.close()


async def test_a_search_runs_on_the_writer_thread_after_what_was_given_before_it(
    tmp_path: Path,
) -> None:
    from soketler.protocols.query import parse_query

    store = SqliteStore(str(tmp_path / "h.db"))
    store.load()
    archive = ThreadedArchive(store, asyncio.get_running_loop())
    threads: list[str] = []

    real_search = store.search

    def search(*args: object, **kwargs: object) -> Page:
        threads.append(threading.current_thread().name)
        return real_search(*args, **kwargs)  # type: ignore[arg-type]

    store.search = search  # type: ignore[method-assign]
    written = [
        ChatMessage(1, NOW, "a", "gizli eski", to="b"),
        ChatMessage(2, NOW, "a", "gizli yeni", to="b"),
        ChatMessage(3, NOW, "c", "gizli oda", room="#r"),
    ]
    for message in written:  # not awaited: the search is given after them, and sees them
        archive.append(message, lambda failure: None)
    pages: list[Page | str] = []
    got = asyncio.Event()
    archive.search(
        parse_query("gizli"), "b", {"#r"}, 10, None, 2, UTC,
        lambda page: (pages.append(page), got.set()),  # type: ignore[func-returns-value]
    )  # fmt: skip
    await asyncio.wait_for(got.wait(), 10)
    [page] = pages
    assert isinstance(page, Page) and [m.text for m in page.messages] == ["gizli yeni", "gizli oda"]
    assert threads == ["soketler-history"]
    await archive.close()
