"""Adapters from a synchronous `HistoryStore` to the hub's callback `Archive`."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TypeVar

from soketler.core.archive import Page, Paged, Retention, Stored, Topic
from soketler.protocols.events import ChatMessage
from soketler.protocols.query import SearchQuery
from soketler.store.base import PRUNE_SLICE, HistoryStore, StoreError

log = logging.getLogger("soketler.store")
T = TypeVar("T")

# What a client is told when the store failed in a way that is our bug, not the disk's.
INTERNAL_FAILURE = "internal error"
# Pauses before trying a failed commit again, in seconds; then the store counts as
# failed, and is probed with pauses doubling from the first to the longest.
RETRY_PAUSES = (0.05, 0.25)
FIRST_PROBE_PAUSE = 1.0
MAX_PROBE_PAUSE = 30.0

# Told of each group commit: its seconds (retries included), its messages, and whether
# it failed. Called on the writer thread: it must only count.
CommitWatch = Callable[[float, int, bool], None]


class ImmediateArchive:
    """Calls the store directly: for the memory backend, which never waits."""

    def __init__(self, store: HistoryStore, watch: CommitWatch | None = None) -> None:
        self.store = store
        self._topics: list[Topic] = []
        self._watch = watch

    def append(self, message: ChatMessage, done: Stored) -> None:
        topics, self._topics = self._topics, []
        started = time.perf_counter()
        try:
            self.store.write([message], topics)
        except StoreError as exc:
            if self._watch is not None:
                self._watch(time.perf_counter() - started, 1, True)
            done(str(exc))
        else:
            if self._watch is not None:
                self._watch(time.perf_counter() - started, 1, False)
            done(None)

    def save_topic(self, topic: Topic) -> None:
        self._topics.append(topic)
        if len(self._topics) > 100:  # topics alone must not pile up between messages
            self._flush_topics()

    def _flush_topics(self) -> None:
        topics, self._topics = self._topics, []
        try:
            self.store.write([], topics)
        except StoreError as exc:
            log.error("%s", exc)

    def room_page(self, room_key: str, limit: int, before: int | None, done: Paged) -> None:
        done(self.store.room_page(room_key, limit, before))

    def private_page(
        self, key_a: str, key_b: str, limit: int, before: int | None, after: int, done: Paged
    ) -> None:
        done(self.store.private_page(key_a, key_b, limit, before, after))

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
        done(self.store.search(query, viewer_key, rooms, limit, before, tz, private_after))

    def prune(self, retention: Retention) -> None:
        self._flush_topics()
        now = datetime.now(UTC)
        while self.store.prune(retention, now) >= PRUNE_SLICE:
            pass

    async def close(self) -> None:
        self._flush_topics()
        self.store.close()


@dataclass(slots=True)
class _Write:
    message: ChatMessage
    done: Stored


@dataclass(slots=True)
class _Read:
    query: Callable[[HistoryStore], Page]
    done: Paged


@dataclass(slots=True)
class _Prune:
    retention: Retention


_STOP = object()
Job = _Write | _Read | _Prune | Topic | object


class ThreadedArchive:
    """Runs a store on a writer thread, committing messages in groups.

    Every message that arrives while a commit runs waits for the next one, so a
    commit's cost (an fsync) is shared by all of them: one transaction per group, never
    one per message, and the event loop never waits for the disk. Callbacks come back
    on the loop's thread, in the order the jobs were given.
    """

    def __init__(
        self,
        store: HistoryStore,
        loop: asyncio.AbstractEventLoop,
        watch: CommitWatch | None = None,
    ) -> None:
        self.store = store
        self._loop = loop
        self._watch = watch
        self._jobs: list[Job] = []
        self._ready = threading.Condition()
        # Set while the store is failing: the reason, and when to try it again.
        self._failed: str | None = None
        self._probe_at = 0.0
        self._backoff = 0.0
        # The retention pass under way, and what it has removed so far.
        self._pruning: Retention | None = None
        self._pruned = 0
        self._thread = threading.Thread(target=self._run, name="soketler-history", daemon=True)
        self._thread.start()

    def _submit(self, job: Job) -> None:
        with self._ready:
            self._jobs.append(job)
            self._ready.notify()

    def append(self, message: ChatMessage, done: Stored) -> None:
        self._submit(_Write(message, done))

    def save_topic(self, topic: Topic) -> None:
        self._submit(topic)

    def room_page(self, room_key: str, limit: int, before: int | None, done: Paged) -> None:
        self._submit(_Read(lambda store: store.room_page(room_key, limit, before), done))

    def private_page(
        self, key_a: str, key_b: str, limit: int, before: int | None, after: int, done: Paged
    ) -> None:
        self._submit(
            _Read(lambda store: store.private_page(key_a, key_b, limit, before, after), done)
        )

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
        """On the writer thread, like every read, between commit groups."""

        def read(store: HistoryStore) -> Page:
            return store.search(query, viewer_key, rooms, limit, before, tz, private_after)

        self._submit(_Read(read, done))

    def prune(self, retention: Retention) -> None:
        self._submit(_Prune(retention))

    async def close(self) -> None:
        """Finishes every job given so far, then stops the thread."""
        self._submit(_STOP)
        await asyncio.to_thread(self._thread.join)
        self.store.close()

    # --- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._jobs and self._pruning is None:
                    self._ready.wait()
                jobs, self._jobs = self._jobs, []
            if not jobs:
                # Nothing else waits: one slice of the retention pass, then look again.
                self._prune_slice()
                continue
            try:
                replies = self._work(jobs)
            except Exception:  # a bug of ours: the thread must outlive it
                log.exception("the history writer failed on a group of %d jobs", len(jobs))
                replies = [
                    _bind(job.done, INTERNAL_FAILURE)
                    for job in jobs
                    if isinstance(job, _Write | _Read)
                ]
            if replies:
                try:
                    self._loop.call_soon_threadsafe(_deliver, replies)
                except RuntimeError:
                    return  # the loop is closed: nobody is waiting for replies
            if any(job is _STOP for job in jobs):
                return

    def _work(self, jobs: list[Job]) -> list[Callable[[], None]]:
        writes = [job for job in jobs if isinstance(job, _Write)]
        topics = [job for job in jobs if isinstance(job, Topic)]
        replies: list[Callable[[], None]] = []
        if writes or topics:
            started = time.perf_counter()
            failure = self._write([w.message for w in writes], topics)
            if self._watch is not None:
                self._watch(time.perf_counter() - started, len(writes), failure is not None)
            replies += [_bind(w.done, failure) for w in writes]
        for job in jobs:
            if isinstance(job, _Read):
                try:
                    page: Page | str = job.query(self.store)
                except StoreError as exc:
                    page = str(exc)
                except Exception:
                    log.exception("a history read failed")
                    page = INTERNAL_FAILURE
                replies.append(_bind(job.done, page))
            elif isinstance(job, _Prune):
                self._pruning = job.retention  # its slices run when nothing else waits
        return replies

    def _write(self, messages: list[ChatMessage], topics: list[Topic]) -> str | None:
        """Commits one group; None, or why it could not be stored.

        A failed commit is tried again a few times (a lock or a full disk often clears
        in a moment). After that the store counts as failed: later groups fail at once,
        without touching the disk, until a probe, tried with growing pauses, finds it
        writable again; then messages are accepted as before.
        """
        if self._failed is not None:
            if time.monotonic() < self._probe_at:
                return self._failed
            try:
                self.store.writable()
            except StoreError as exc:
                self._schedule_probe(str(exc))
                return self._failed
            log.warning("the history store is writable again")
            self._failed, self._backoff = None, 0.0
        for pause in (*RETRY_PAUSES, None):
            try:
                self.store.write(messages, topics)
                return None
            except StoreError as exc:
                failure = str(exc)
            except Exception:
                log.exception("storing a group of %d messages failed", len(messages))
                failure = INTERNAL_FAILURE
            if pause is not None:
                time.sleep(pause)
        self._schedule_probe(failure)
        return failure

    def _schedule_probe(self, failure: str) -> None:
        if self._failed is None:
            log.error("%s; messages are refused until it is writable again", failure)
        self._failed = failure
        self._backoff = min(MAX_PROBE_PAUSE, self._backoff * 2 or FIRST_PROBE_PAUSE)
        self._probe_at = time.monotonic() + self._backoff

    def _prune_slice(self) -> None:
        retention = self._pruning
        if retention is None:
            return
        try:
            removed = self.store.prune(retention, datetime.now(UTC))
        except StoreError as exc:
            log.error("%s", exc)
            removed = 0
        except Exception:
            log.exception("retention failed")
            removed = 0
        self._pruned += removed
        if removed < PRUNE_SLICE:
            if self._pruned:
                log.info("retention removed %d old messages", self._pruned)
            self._pruning, self._pruned = None, 0


def _bind(done: Callable[[T], None], value: T) -> Callable[[], None]:
    return lambda: done(value)


def _deliver(replies: list[Callable[[], None]]) -> None:
    for reply in replies:
        reply()
