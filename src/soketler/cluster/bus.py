"""The hub's bus (`core.bus.Bus`) over Redis: the publisher, the stream reader, the
nickname claims and the node's heartbeat, behind the hub's own stream names.

The hub names streams as it names rooms ("#lobby"), private conversations ("ayse
bora"), the directory and inboxes; here they become keys (`keys.KeyLayout`), events
become entries (`entries`), and what comes back is decoded once, on the loop, for the
hub. Redis failures never reach the hub as exceptions: a publish waits and is retried
(`publisher`), a read is made again from where it stopped (`reader`), and the hub hears
`on_bus_state(False)` / `(True)` when cross-node delivery stops and comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import redis

from soketler.cluster import cursors, entries
from soketler.cluster.connect import FAILED, AsyncClient, ClusterError, Shards, connect
from soketler.cluster.keys import KeyLayout, check_node_id
from soketler.cluster.nicks import NickClaims
from soketler.cluster.presence import Presence
from soketler.cluster.publisher import Publisher, PublishFailed, QueueFull
from soketler.cluster.reader import Entry as RawEntry
from soketler.cluster.reader import StreamReader, just_before
from soketler.cluster.scripts import SNAPSHOT
from soketler.core import bus as core
from soketler.core.bus import (
    COUNTS,
    DIRECTORY,
    MEMBERS,
    ROOMS,
    STATE,
    STATUS,
    TOKEN,
    USERS,
    BusError,
    BusUser,
    Busy,
    Effect,
    Entry,
    Snapshot,
)

log = logging.getLogger("soketler.cluster")

DEFAULT_TTL = 30.0  # seconds: a dead node's names and presence are gone after this
# Entries kept in streams that only carry news between nodes (each is also kept in a
# hash beside it, or read within moments): about this many, whatever the retention.
DIRECTORY_LENGTH = 100_000
INBOX_LENGTH = 10_000
# Redis calls of the bus's own (snapshots, claims, releases) under way at once: redis-py
# refuses a command past its pool's 100 connections rather than wait for one.
CONCURRENT_CALLS = 32


def new_node_id() -> str:
    """This process's id in the cluster: where it runs, and something no other
    process has had (a pid is used again after a restart; the random part is not)."""
    host = "".join(c if c.isalnum() or c in ".-_" else "-" for c in socket.gethostname())
    return check_node_id(f"{host[:60] or 'host'}:{os.getpid()}:{secrets.token_hex(3)}")


class RedisBus:
    def __init__(
        self,
        client: AsyncClient,
        node: str | None = None,
        layout: KeyLayout | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        max_len: int = 0,
    ) -> None:
        self.client = client
        self.node = check_node_id(node or new_node_id())
        self.layout = layout or KeyLayout()
        self.ttl = ttl
        self._user: BusUser | None = None
        self._names: dict[str, str] = {}  # Redis key -> the hub's stream name
        self._shards = Shards(client)
        self._publisher = Publisher(
            client, self.node, self.layout, max_len=max_len, on_state=self._publisher_state
        )
        self._reader = StreamReader(client, self._deliver, on_state=self._reader_state)
        ttl_ms = max(1000, int(ttl * 1000))
        self._claims = NickClaims(client, self.node, self.layout, ttl_ms=ttl_ms)
        self._claims.on_lost = self._nick_lost
        self._presence = Presence(client, self.node, self.layout, ttl_ms=ttl_ms)
        self._publishing_ok = True
        self._reading_ok = True
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._calls = asyncio.Semaphore(CONCURRENT_CALLS)
        # Claims asked for during one pass of the loop go together (one round trip).
        self._claims_due: list[tuple[str, Callable[[bool | None], None]]] = []

    @classmethod
    async def open(
        cls,
        url: str,
        node: str | None = None,
        layout: KeyLayout | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        max_len: int = 0,
    ) -> RedisBus:
        """Connects to Redis (a server or a cluster). Raises BusError with a sentence
        for people when it cannot be reached."""
        try:
            client = await connect(url)
        except ClusterError as exc:
            raise BusError(str(exc)) from exc
        return cls(client, node, layout, ttl=ttl, max_len=max_len)

    async def start(self) -> None:
        """Says this node is alive, starts the heartbeats, and reads its inbox."""
        try:
            await self._presence.heartbeat()
        except (*FAILED, ClusterError) as exc:
            raise BusError(f"cannot write to Redis: {exc}") from exc
        self._presence.start()
        self._claims.start()
        await self._reader.add_now(self._key(core.inbox(self.node)))

    async def close(self) -> None:
        """Publishes what waits (briefly), stops reading, gives the names back."""
        self._closed = True
        await self._publisher.close(timeout=2.0)
        await self._reader.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._claims.close()
        await self._presence.close()
        await self._shards.aclose()
        with contextlib.suppress(*FAILED):
            await self.client.aclose()

    # --- the hub's side ----------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self._publishing_ok and self._reading_ok

    @property
    def queued(self) -> int:
        return self._publisher.queued

    def attach(self, user: BusUser) -> None:
        self._user = user

    def publish(
        self,
        stream: str,
        event: object,
        token: str,
        *,
        meta: Mapping[str, str] | None = None,
        effects: Sequence[Effect] = (),
        done: Callable[[int | None], None] | None = None,
    ) -> None:
        target = self._key(stream)
        fields = entries.encode(event)
        fields[TOKEN] = token
        if meta:
            fields.update(meta)
        length: int | None = None
        if stream == DIRECTORY:
            length = DIRECTORY_LENGTH
        elif core.is_inbox(stream):
            length = INBOX_LENGTH
        try:
            future = self._publisher.publish(
                target, fields, [self._effect(stream, e) for e in effects], length
            )
        except QueueFull as exc:
            raise Busy(str(exc)) from exc
        except ClusterError as exc:  # closed: the node is stopping
            raise Busy(str(exc)) from exc
        if done is not None:
            future.add_done_callback(lambda f: done(self._published(f)))
        else:
            future.add_done_callback(_ignore)

    @staticmethod
    def _published(future: asyncio.Future[str]) -> int | None:
        if future.cancelled():
            return None
        failure = future.exception()
        if failure is not None:
            if isinstance(failure, PublishFailed):
                log.error("%s", failure)
            return None
        stream_id = future.result()
        return cursors.cursor(stream_id) if stream_id else None

    def follow(self, stream: str, after: str | None = None) -> None:
        target = self._key(stream)
        if after is not None:
            self._reader.add(target, after)
            return
        self._spawn(self._reader.add_now(target))

    def unfollow(self, stream: str) -> None:
        self._reader.remove(self._key(stream))

    def following(self, stream: str) -> bool:
        return self._reader.last(self._key(stream)) is not None

    def before(self, cursor: int) -> str:
        return just_before(cursors.stream_id(cursor))

    def snapshot(
        self, stream: str, targets: Sequence[str], done: Callable[[Snapshot | None], None]
    ) -> None:
        async def read() -> None:
            keys = [self._key(stream), *(self._target(stream, t) for t in targets)]
            try:
                # Every key has the stream's hash tag: one shard holds them all.
                reply = await self._shards.node(keys[0]).eval(SNAPSHOT, len(keys), *keys)
            except (redis.exceptions.MovedError, redis.exceptions.AskError):
                await self._shards.refresh()
                done(None)
                return
            except (*FAILED, ClusterError) as exc:
                log.warning("cannot read %s from Redis (%s)", stream, exc)
                done(None)
                return
            last, *hashes = cast(list[Any], reply)
            records = {
                target: _pairs(cast(list[str], flat))
                for target, flat in zip(targets, hashes, strict=True)
            }
            done(Snapshot(str(last), records))

        self._spawn(read())

    def claim(self, nick_key: str, done: Callable[[bool | None], None]) -> None:
        if not self._claims_due:
            asyncio.get_running_loop().call_soon(self._claim_due)
        self._claims_due.append((nick_key, done))

    def _claim_due(self) -> None:
        due, self._claims_due = self._claims_due, []
        self._spawn(self._claim_batch(due))

    async def _claim_batch(self, due: list[tuple[str, Callable[[bool | None], None]]]) -> None:
        try:
            got: list[bool | None] = list(await self._claims.claim_many([k for k, _ in due]))
        except (*FAILED, ClusterError) as exc:
            log.warning("cannot claim nicknames in Redis (%s)", exc)
            got = [None] * len(due)
        # Two people asking this node for one name in the same pass: the first has it.
        seen: set[str] = set()
        for (nick_key, done), answer in zip(due, got, strict=True):
            done(False if answer and nick_key in seen else answer)
            seen.add(nick_key)

    def release(self, nick_key: str) -> None:
        async def release() -> None:
            with contextlib.suppress(*FAILED, ClusterError):
                await self._claims.release(nick_key)

        self._spawn(release())

    def release_for(self, node: str, nick_keys: list[str], done: Callable[[], None]) -> None:
        async def release() -> None:
            try:
                await self._claims.release_for(node, nick_keys)
            except (*FAILED, ClusterError) as exc:
                log.warning("cannot free the names of node %s (%s)", node, exc)
            done()

        self._spawn(release())

    def live_nodes(self, done: Callable[[frozenset[str] | None], None]) -> None:
        async def look() -> None:
            try:
                nodes = await self._presence.live_nodes()
            except (*FAILED, ClusterError) as exc:
                log.warning("cannot read the live nodes from Redis (%s)", exc)
                done(None)
                return
            done(frozenset(nodes))

        self._spawn(look())

    def now_cursor(self) -> int:
        return cursors.at_time(int(time.time() * 1000))

    # --- names -------------------------------------------------------------------------

    def _key(self, stream: str) -> str:
        layout = self.layout
        if stream == DIRECTORY:
            found = layout.directory_stream
        elif core.is_inbox(stream):
            found = layout.inbox(stream[1:])
        elif core.is_private(stream):
            low, high = stream.split(" ", 1)
            found = layout.private_stream(low, high)
        else:
            found = layout.room_stream(stream)
        self._names[found] = stream
        return found

    def _target(self, stream: str, target: str) -> str:
        layout = self.layout
        if target == MEMBERS:
            return layout.room_records(stream)
        if target == STATE:
            return layout.room_state(stream)
        if target == USERS:
            return layout.directory_users
        if target == COUNTS:
            return layout.directory_counts
        if target == ROOMS:
            return layout.directory_rooms
        raise ValueError(f"no records called {target!r}")

    def _effect(self, stream: str, effect: Effect) -> tuple[str, str, Sequence[str]]:
        return effect.op, self._target(stream, effect.target), effect.args

    # --- what Redis says ---------------------------------------------------------------

    def _deliver(self, target: str, raw: list[RawEntry]) -> None:
        user, stream = self._user, self._names.get(target)
        if user is None or stream is None:
            return
        found: list[Entry] = []
        for entry_id, fields in raw:
            try:
                event = entries.decode(entry_id, fields)
                cursor = cursors.cursor(entry_id)
            except (entries.EntryError, cursors.CursorError) as exc:
                log.error("skipping an entry of %s: %s", stream, exc)
                continue
            if event is None:
                continue  # a newer server's event
            meta = {STATUS: fields[STATUS]} if STATUS in fields else {}
            found.append(Entry(cursor, event, fields.get(TOKEN, ""), meta))
        self._publisher.saw(target, raw[-1][0])
        if found:
            user.on_entries(stream, found)

    def _publisher_state(self, healthy: bool) -> None:
        self._publishing_ok = healthy
        self._tell_state()

    def _reader_state(self, healthy: bool) -> None:
        self._reading_ok = healthy
        self._tell_state()

    def _tell_state(self) -> None:
        if self._user is not None and not self._closed:
            self._user.on_bus_state(self.healthy)

    def _nick_lost(self, nick_key: str) -> None:
        if self._user is not None:
            self._user.on_nick_lost(nick_key)

    async def _bounded(self, work: Any) -> None:
        async with self._calls:
            await work

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._bounded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _ignore(future: asyncio.Future[str]) -> None:
    if not future.cancelled():
        future.exception()  # read, so asyncio does not log it as never retrieved
