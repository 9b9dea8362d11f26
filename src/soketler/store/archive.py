"""Adapters from a synchronous `HistoryStore` to the hub's callback `Archive`."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from soketler.core.archive import Page, Paged, Retention, Stored, Topic
from soketler.protocols.events import ChatMessage
from soketler.store.base import HistoryStore, StoreError

log = logging.getLogger("soketler.store")
T = TypeVar("T")


class ImmediateArchive:
    """Calls the store directly: for the memory backend, which never waits."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self._topics: list[Topic] = []

    def append(self, message: ChatMessage, done: Stored) -> None:
        topics, self._topics = self._topics, []
        try:
            self.store.write([message], topics)
        except StoreError as exc:
            done(str(exc))
        else:
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
        self, key_a: str, key_b: str, limit: int, before: int | None, done: Paged
    ) -> None:
        done(self.store.private_page(key_a, key_b, limit, before))

    def prune(self, retention: Retention) -> None:
        self._flush_topics()
        self.store.prune(retention, datetime.now(UTC))

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

    def __init__(self, store: HistoryStore, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self._loop = loop
        self._jobs: list[Job] = []
        self._ready = threading.Condition()
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
        self, key_a: str, key_b: str, limit: int, before: int | None, done: Paged
    ) -> None:
        self._submit(_Read(lambda store: store.private_page(key_a, key_b, limit, before), done))

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
                while not self._jobs:
                    self._ready.wait()
                jobs, self._jobs = self._jobs, []
            replies = self._work(jobs)
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
            try:
                self.store.write([w.message for w in writes], topics)
                failure = None
            except StoreError as exc:
                failure = str(exc)
            replies += [_bind(w.done, failure) for w in writes]
        for job in jobs:
            if isinstance(job, _Read):
                try:
                    page: Page | str = job.query(self.store)
                except StoreError as exc:
                    page = str(exc)
                replies.append(_bind(job.done, page))
            elif isinstance(job, _Prune):
                try:
                    removed = self.store.prune(job.retention, datetime.now(UTC))
                    if removed:
                        log.info("retention removed %d old messages", removed)
                except StoreError as exc:
                    log.error("%s", exc)
        return replies


def _bind(done: Callable[[T], None], value: T) -> Callable[[], None]:
    return lambda: done(value)


def _deliver(replies: list[Callable[[], None]]) -> None:
    for reply in replies:
        reply()
