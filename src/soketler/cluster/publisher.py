"""Adding events to streams (XADD), in order, once each, through Redis outages.

A node publishes an event and delivers nothing itself: every node, this one too,
delivers it when the stream reader brings it back, so every node delivers a stream's
events in the stream's order. The publisher's job is to get each event into its stream
exactly once, and a node's events for one stream in the order they were given.

- Order: one batch is in flight at a time, one pipeline per shard, so what one node
  publishes to a stream lands in the order `publish` was called. Publishes made while
  a batch is in flight form the next batch (one round trip for many events).
- Once: every entry carries an origin token (node id and a counter). A batch whose
  reply was lost (Redis died, the connection broke) may or may not have been written;
  it is sent again with the id below which it cannot be, and the script looks for the
  token above that id before adding it (`scripts.PUBLISH`).
- Outage: publishes wait in the queue (up to `max_queued`) while the publisher retries
  with backoff; `on_state(False)` says cross-node delivery has stopped, `on_state(True)`
  that it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import redis
from redis.backoff import ExponentialWithJitterBackoff

from soketler.cluster.connect import FAILED, LOST, AsyncClient, ClusterError, Shards
from soketler.cluster.entries import ORIGIN
from soketler.cluster.keys import KeyLayout, check_node_id
from soketler.cluster.scripts import PUBLISH

PUBLISH_SHA = hashlib.sha1(PUBLISH.encode()).hexdigest()  # the name Redis gives the script

log = logging.getLogger("soketler.cluster")

MAX_QUEUED = 10_000  # events waiting for Redis; past this, publish refuses (the hub: busy)
MAX_BATCH = 1_000  # events in one round trip
# Refusals after which nothing was written and the batch can simply go again.
NOT_DONE = (
    redis.exceptions.MovedError,
    redis.exceptions.AskError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
)


class QueueFull(ClusterError):
    """Too many events are waiting for Redis."""


class PublishFailed(ClusterError):
    """Redis refused an event (not a lost connection: an error reply)."""


# An effect as the script takes it: its name, the key it changes, its arguments.
Effect = tuple[str, str, Sequence[str]]


@dataclass(slots=True)
class _Event:
    stream: str
    fields: list[str]  # name, value, name, value, ...
    token: str
    done: asyncio.Future[str]
    max_len: int
    keys: list[str]  # the stream, then the keys its effects change
    effects: list[str | int]  # as PUBLISH takes them, key indexes into `keys`
    # Set when a first attempt may have been written: '-' (anywhere) or the stream id
    # known before the first attempt was sent, above which the script looks for it.
    floor: str | None = None
    known: str | None = None  # the newest id known in the stream at the first attempt


class Publisher:
    def __init__(
        self,
        client: AsyncClient,
        node: str,
        layout: KeyLayout | None = None,
        *,
        max_len: int = 0,
        max_queued: int = MAX_QUEUED,
        on_state: Callable[[bool], None] | None = None,
        backoff: ExponentialWithJitterBackoff | None = None,
    ) -> None:
        self.node = check_node_id(node)
        self.layout = layout or KeyLayout()
        self.max_len = max_len
        self.max_queued = max_queued
        self.on_state = on_state
        self._shards = Shards(client)
        self._backoff = backoff or ExponentialWithJitterBackoff(base=0.05, cap=2.0)
        self._counter = itertools.count(1)
        self._queue: deque[_Event] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._last: dict[str, str] = {}  # the newest id known in each stream
        self._registered: set[str] = set()
        self._healthy = True
        self._closing = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def queued(self) -> int:
        return len(self._queue)

    def publish(
        self,
        stream: str,
        fields: Mapping[str, str],
        effects: Sequence[Effect] = (),
        max_len: int | None = None,
    ) -> asyncio.Future[str]:
        """Queues an event (entry fields, see `entries.encode`); the future gets its
        stream id once it is in the stream ('' when a 'require' effect left it out), or
        PublishFailed / ClusterError (give it a done callback: nobody may be awaiting
        it). `effects` change records beside the stream in the same step (keys of the
        stream's hash tag; see `scripts.PUBLISH`); `max_len` overrides the publisher's
        for this stream. Raises QueueFull at once."""
        if self._closing:
            raise ClusterError("the publisher is closed")
        if len(self._queue) >= self.max_queued:
            raise QueueFull(f"{len(self._queue)} events are waiting for Redis")
        token = f"{self.node}:{next(self._counter)}"
        flat = [ORIGIN, token]
        for name, value in fields.items():
            if name != ORIGIN:
                flat += (name, value)
        keys = [stream]
        flat_effects: list[str | int] = []
        for op, key, args in effects:
            if key not in keys:
                keys.append(key)
            flat_effects += [op, keys.index(key) + 1, len(args), *args]  # Lua counts from 1
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        length = self.max_len if max_len is None else max_len
        self._queue.append(_Event(stream, flat, token, done, length, keys, flat_effects))
        self._idle.clear()
        self._wake.set()
        return done

    def saw(self, stream: str, entry_id: str) -> None:
        """The reader delivered `entry_id`: a retry need not look below it."""
        self._last[stream] = entry_id

    async def close(self, timeout: float = 5.0) -> None:
        """Publishes what is queued (for up to `timeout` seconds), then stops; what is
        still waiting then fails with ClusterError."""
        self._closing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        while self._queue:
            event = self._queue.popleft()
            if not event.done.done():
                event.done.set_exception(ClusterError("Redis was not reachable; not published"))
        await self._shards.aclose()

    # --- sending -------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            self._idle.clear()
            batch = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
            try:
                again = await self._send(batch)
            except LOST as exc:
                # Any of them may have been written: from now on they look first.
                for event in batch:
                    if event.floor is None:
                        event.floor = event.known or "-"
                again = [event for event in batch if not event.done.done()]
                self._set_healthy(False, exc)
            except (*FAILED, ClusterError) as exc:
                # E.g. no node for a slot while the cluster reshards: nothing written.
                again = [event for event in batch if not event.done.done()]
                self._set_healthy(False, exc)
            else:
                self._set_healthy(True)
            if again:
                self._queue.extendleft(reversed(again))  # before anything newer
                failures += 1
                await asyncio.sleep(self._backoff.compute(failures))
            else:
                failures = 0

    def _set_healthy(self, healthy: bool, why: Exception | None = None) -> None:
        if healthy == self._healthy:
            return
        self._healthy = healthy
        if healthy:
            log.warning("Redis is reachable again; cross-node delivery resumes")
        else:
            log.warning("cannot publish to Redis (%s); retrying", why)
        if self.on_state is not None:
            self.on_state(healthy)

    async def _send(self, batch: list[_Event]) -> list[_Event]:
        """Sends a batch, one pipeline per shard; returns what must go again."""
        by_node: dict[int, tuple[redis.asyncio.Redis, list[_Event]]] = {}
        for event in batch:
            node = self._shards.node(event.stream)
            by_node.setdefault(id(node), (node, []))[1].append(event)
            if event.known is None:
                event.known = self._last.get(event.stream)
        unregistered = {event.stream for event in batch} - self._registered
        if unregistered:
            # The register lists every stream for retention (`store.redis`).
            await self._shards.client.sadd(self.layout.streams, *unregistered)
            self._registered |= unregistered
        sent = await asyncio.gather(
            *(self._send_to(node, events) for node, events in by_node.values()),
            return_exceptions=True,
        )
        again: list[_Event] = []
        for result in sent:
            if isinstance(result, BaseException):
                raise result  # the caller retries the whole batch, written or not
            again += result
        return again

    async def _send_to(self, node: redis.asyncio.Redis, events: list[_Event]) -> list[_Event]:
        pipe = node.pipeline(transaction=False)
        # Loading the script first in the same pipeline costs one command per batch and
        # means no EVALSHA in it can find the script missing (after a Redis restart),
        # which would leave a gap in the middle of a node's events for a stream.
        pipe.script_load(PUBLISH)
        for event in events:
            floor = event.floor or ""
            pipe.evalsha(
                PUBLISH_SHA,
                len(event.keys),
                *event.keys,
                event.max_len,
                event.token,
                floor,
                len(event.fields),
                *event.fields,
                *event.effects,
            )
        sha, *results = await pipe.execute(raise_on_error=False)
        if isinstance(sha, BaseException):
            raise sha
        again: list[_Event] = []
        moved = False
        for event, result in zip(events, results, strict=True):
            if isinstance(result, str):
                if not event.done.done():
                    event.done.set_result(result)
                if not result:
                    continue  # left out: nothing was added
                last = self._last.get(event.stream)
                if last is None or _order(result) > _order(last):
                    self._last[event.stream] = result
            elif isinstance(result, NOT_DONE):
                # Nothing was written (the slot moved, the cluster is busy): go again.
                # Every event of a stream gets the same answer, so order is kept.
                again.append(event)
                moved = moved or isinstance(result, redis.exceptions.MovedError)
            elif not event.done.done():
                error = PublishFailed(f"Redis refused an event for {event.stream}: {result}")
                event.done.set_exception(error)
        if moved:
            await self._shards.refresh()
        return again


def _order(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq)
