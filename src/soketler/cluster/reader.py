"""Reading the streams of the rooms a node has members in (XREAD BLOCK), in order.

The reader keeps, for each stream, the id of the last entry it delivered. Every read
asks for what comes after those ids, so a read that fails (Redis restarted, the network
broke) is simply made again on a new connection once Redis is back: the entries
added meanwhile come in that read, none is missed and none is delivered twice.

Redis Cluster allows one XREAD over several streams only when they share a hash slot,
so the reader keeps one blocking connection per slot in use (on a single Redis, one in
all). When a stream is added while that connection waits, the wait is cut short with
CLIENT UNBLOCK, so the new stream is read at once rather than at the next timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import redis
from redis.backoff import ExponentialWithJitterBackoff

from soketler.cluster.connect import (
    FAILED,
    LOST,
    AsyncClient,
    ClusterError,
    Shards,
    single_node,
    slot,
)

log = logging.getLogger("soketler.cluster")

Entry = tuple[str, dict[str, str]]  # stream id, fields
Deliver = Callable[[str, list[Entry]], None]

BLOCK_MS = 10_000  # longest wait of one read; a read also ends when entries arrive
READ_COUNT = 1_000  # entries per stream in one read
MAX_SEQ = 18_446_744_073_709_551_615  # the largest sequence part of a stream id
# Attempts to cut a wait short: a CLIENT UNBLOCK can reach Redis just before the read
# it is meant for, and then it is tried again a moment later.
UNBLOCK_ATTEMPTS = 20


def just_before(stream_id: str) -> str:
    """The greatest stream id below `stream_id`: reading after it starts at it."""
    ms, _, seq = stream_id.partition("-")
    if int(seq) > 0:
        return f"{ms}-{int(seq) - 1}"
    if int(ms) == 0:
        return "0-0"
    return f"{int(ms) - 1}-{MAX_SEQ}"


@dataclass(eq=False)
class _Group:
    """The streams read by one blocking connection (one slot of a cluster)."""

    key: int
    streams: dict[str, str] = field(default_factory=dict)  # stream -> last id delivered
    generation: int = 0  # bumped when a stream is added
    reading: int | None = None  # the generation of the read in flight, if any
    client_id: int | None = None
    address: tuple[str, int] | None = None  # of the server the group is read from
    task: asyncio.Task[None] | None = None


class StreamReader:
    def __init__(
        self,
        client: AsyncClient,
        deliver: Deliver,
        *,
        block_ms: int = BLOCK_MS,
        count: int = READ_COUNT,
        on_state: Callable[[bool], None] | None = None,
        backoff: ExponentialWithJitterBackoff | None = None,
    ) -> None:
        """`deliver(stream, entries)` gets each stream's entries in order, on the loop.
        `on_state(False)` when a read fails (Redis lost), `on_state(True)` when every
        stream is read again."""
        self._shards = Shards(client)
        self.deliver = deliver
        self.block_ms = block_ms
        self.count = count
        self.on_state = on_state
        self._backoff = backoff or ExponentialWithJitterBackoff(base=0.05, cap=2.0)
        self._groups: dict[int, _Group] = {}
        self._failing: set[int] = set()
        self._closed = False
        self._pokes: set[asyncio.Task[None]] = set()

    # --- which streams ---------------------------------------------------------------

    def add(self, stream: str, after: str) -> None:
        """Reads `stream` from the entry after `after` on (`just_before(id)` to start
        at `id`). Adding a stream already read changes nothing."""
        group = self._group_of(stream)
        if stream in group.streams:
            return
        group.streams[stream] = after
        group.generation += 1
        if group.task is None:
            group.task = asyncio.get_running_loop().create_task(self._read_group(group))
        else:
            self._poke(group)

    async def add_now(self, stream: str) -> str:
        """Reads `stream` from its next entry on; returns the id read after."""
        newest = cast(list[Entry], await self._shards.client.xrevrange(stream, "+", "-", count=1))
        after = newest[0][0] if newest else "0-0"
        self.add(stream, after)
        return self.last(stream) or after

    def remove(self, stream: str) -> None:
        group = self._groups.get(self._group_key(stream))
        if group is None or group.streams.pop(stream, None) is None:
            return
        if not group.streams:
            self._poke(group)  # its connection can go now

    def last(self, stream: str) -> str | None:
        """The id of the last entry delivered from `stream` (or where it starts)."""
        group = self._groups.get(self._group_key(stream))
        return None if group is None else group.streams.get(stream)

    @property
    def streams(self) -> list[str]:
        return [stream for group in self._groups.values() for stream in group.streams]

    async def close(self) -> None:
        """Stops reading. A read waiting in Redis is ended with CLIENT UNBLOCK: redis-py
        can miss a cancellation that lands while a blocking command is being sent, and
        then waits out the whole block (redis/redis-py#2028)."""
        self._closed = True
        for task in list(self._pokes):
            task.cancel()
        groups = list(self._groups.values())
        tasks = {g.task for g in groups if g.task is not None}
        unblocks = [
            self._shards.at(g.address).client_unblock(g.client_id)
            for g in groups
            if g.reading is not None and g.address is not None and g.client_id is not None
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*unblocks, return_exceptions=True), 2.0)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=2.0)
            for task in late:  # Redis is not answering: in a backoff wait, or connecting
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._groups.clear()
        await self._shards.aclose()

    # --- reading -----------------------------------------------------------------------

    def _group_key(self, stream: str) -> int:
        return slot(stream) if self._shards.clustered else 0

    def _group_of(self, stream: str) -> _Group:
        key = self._group_key(stream)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(key)
        return group

    async def _read_group(self, group: _Group) -> None:
        failures = 0
        while True:
            # No await between this check and the end: a stream added after it finds
            # no group and starts a new one.
            if not group.streams or self._closed:
                self._groups.pop(group.key, None)
                self._set_failing(group.key, False)
                return
            connection: redis.asyncio.Redis | None = None
            try:
                host, port = self._shards.address(next(iter(group.streams)))
                # A blocking read must not time out on our side before Redis answers.
                timeout = self.block_ms / 1000 + 10
                connection = single_node(host, port, timeout, one_connection=True)
                group.client_id = await connection.client_id()
                group.address = (host, port)
                await self._read_on(connection, group)
                failures = 0
            except LOST as exc:
                failures += 1
                self._set_failing(group.key, True, exc)
                await asyncio.sleep(self._backoff.compute(failures))
            except (redis.exceptions.MovedError, redis.exceptions.AskError):
                await self._shards.refresh()  # the slot moved to another shard
            except (*FAILED, ClusterError) as exc:
                failures += 1
                self._set_failing(group.key, True, exc)
                await asyncio.sleep(self._backoff.compute(failures))
            finally:
                group.reading = None
                group.client_id = None
                if connection is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        await connection.aclose()

    async def _read_on(self, connection: redis.asyncio.Redis, group: _Group) -> None:
        while group.streams and not self._closed:
            asked = dict(group.streams)
            group.reading = group.generation
            reply = cast(
                list[tuple[str, list[Entry]]] | None,
                await connection.xread(asked, count=self.count, block=self.block_ms),  # type: ignore[arg-type]
            )
            group.reading = None
            self._set_failing(group.key, False)
            for stream, entries in reply or ():
                # A stream removed (or removed and added again) during the read: what
                # came for it follows an id that is no longer where it stands.
                if not entries or group.streams.get(stream) != asked[stream]:
                    continue
                group.streams[stream] = entries[-1][0]
                try:
                    self.deliver(stream, entries)
                except Exception:
                    log.exception("delivering entries of %s failed", stream)

    # --- cutting a wait short ---------------------------------------------------------

    def _poke(self, group: _Group) -> None:
        if group.reading is None:
            return  # between reads: the next one asks for every stream
        task = asyncio.get_running_loop().create_task(self._unblock(group))
        self._pokes.add(task)
        task.add_done_callback(self._pokes.discard)

    def _stale(self, group: _Group) -> bool:
        return group.reading is not None and (group.reading < group.generation or not group.streams)

    async def _unblock(self, group: _Group) -> None:
        for attempt in range(UNBLOCK_ATTEMPTS):
            if not self._stale(group) or group.client_id is None or group.address is None:
                return
            try:
                if await self._shards.at(group.address).client_unblock(group.client_id):
                    return
            except (redis.RedisError, OSError):
                return  # the read fails too, and is made again with every stream
            await asyncio.sleep(0.001 * (attempt + 1))

    def _set_failing(self, key: int, failing: bool, why: Exception | None = None) -> None:
        before = bool(self._failing)
        if failing:
            if key not in self._failing:
                log.warning("reading streams from Redis failed (%s); retrying", why)
            self._failing.add(key)
        else:
            self._failing.discard(key)
        after = bool(self._failing)
        if before != after and self.on_state is not None:
            self.on_state(not after)
