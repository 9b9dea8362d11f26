"""Cluster nodes in one event loop, for tests of the cluster hub against a real Redis:
each a `ClusterHub` with its own `RedisBus` and the history in Redis, and people who
type lines through the real lines door (as tests/core/fakes.py, but waiting for what
arrives, since answers now come back from Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from soketler.cluster.bus import RedisBus
from soketler.cluster.keys import KeyLayout
from soketler.core.cluster_hub import ClusterHub
from soketler.doors import lines
from soketler.protocols.connection import ServerConnection
from soketler.store.archive import ThreadedArchive
from soketler.store.redis import RedisStore

WAIT = 10.0  # seconds for something to arrive; far more than it takes


class WatchedPeer:
    """Keeps what the hub writes, and wakes whoever waits for more."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed: str | None = None
        self.changed = asyncio.Event()

    def write(self, data: bytes) -> None:
        if self.closed is None:
            self.data += data
            self.changed.set()

    def close(self, reason: str) -> None:
        self.closed = reason
        self.changed.set()


class Person:
    """A client of one node's hub, typing through the real line parser."""

    def __init__(self, node: Node, nick: str | None = None, *, json_lines: bool = False) -> None:
        self.node = node
        self.peer = WatchedPeer()
        self.conn = ServerConnection()
        self.session = lines.open_session(node.hub, self.peer, "127.0.0.1")
        self.seen = 0  # how much of the output has been looked at
        self.nick = nick
        self.json_lines = json_lines

    async def enter(self) -> Person:
        """Registers (and so joins #lobby); waits for the lobby's member list."""
        assert self.nick is not None
        if self.json_lines:
            self.send({"type": "hello", "nick": self.nick})
            await self.wait_object(lambda o: o.get("type") == "who")
        else:
            self.type(self.nick)
            await self.wait_for(r"-- #lobby \(\d+\)")
        return self

    def type(self, line: str) -> None:
        self.conn.receive_data(line.encode() + b"\r\n")
        self.session.codec = self.conn.codec
        for event in self.conn.events_received():
            lines.handle(self.node.hub, self.session, event)

    def send(self, obj: dict[str, Any]) -> None:
        self.type(json.dumps(obj))

    @property
    def text(self) -> str:
        return self.peer.data.decode("utf-8", "replace")

    async def wait_for(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        """Waits until what arrived after the last match matches; moves past it."""
        regex = re.compile(pattern)

        async def wait() -> re.Match[str]:
            while True:
                found = regex.search(self.text, self.seen)
                if found is not None:
                    self.seen = found.end()
                    return found
                self.peer.changed.clear()
                await self.peer.changed.wait()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            rest = self.text[self.seen :]
            why = f"{self.nick} never got {pattern!r}; after that:\n{rest}"
            raise AssertionError(why) from None

    async def wait_all(self, *patterns: str, timeout: float = WAIT) -> None:
        """Waits until each pattern has matched after the last match, in any order
        (things that come by different ways, such as a notice and a stream's messages);
        moves past the last of them."""
        start, end = self.seen, self.seen
        for pattern in patterns:
            self.seen = start
            found = await self.wait_for(pattern, timeout)
            end = max(end, found.end())
        self.seen = end

    def objects(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    async def wait_object(self, wanted: Any, timeout: float = WAIT) -> dict[str, Any]:
        """The first JSON object after the last one waited for that `wanted` accepts."""

        async def wait() -> dict[str, Any]:
            while True:
                found = self.objects()
                for index in range(self.seen, len(found)):
                    if wanted(found[index]):
                        self.seen = index + 1
                        return found[index]
                self.peer.changed.clear()
                await self.peer.changed.wait()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.nick} never got it; got {self.objects()}") from None

    async def quiet(self, seconds: float = 0.3) -> str:
        """What arrives in the next moment (to show that something does not)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), seconds)
        return self.text[self.seen :]


class Node:
    def __init__(self, hub: ClusterHub, bus: RedisBus, archive: ThreadedArchive) -> None:
        self.hub = hub
        self.bus = bus
        self.archive = archive
        self.stopped = False

    @classmethod
    async def start(cls, url: str, *, ttl: float = 30.0, prefix: str = "soketler") -> Node:
        loop = asyncio.get_running_loop()
        layout = KeyLayout(prefix)
        bus = await RedisBus.open(url, layout=layout, ttl=ttl)
        hub = ClusterHub(bus, server_name="node")
        hub.defer = loop.call_soon
        hub.later = loop.call_later
        await bus.start()
        ready: asyncio.Future[bool] = loop.create_future()
        hub.start(ready.set_result)
        assert await asyncio.wait_for(ready, WAIT)
        store = RedisStore(url, layout)
        saved = await asyncio.to_thread(store.load)
        archive = ThreadedArchive(store, loop)
        hub.resume(archive, saved)
        return cls(hub, bus, archive)

    def person(self, nick: str, *, json_lines: bool = False) -> Person:
        return Person(self, nick, json_lines=json_lines)

    async def enter(self, nick: str, *, json_lines: bool = False) -> Person:
        return await self.person(nick, json_lines=json_lines).enter()

    async def stop(self) -> None:
        """As `soketler serve` stops: goodbyes, then the others hear the node left."""
        if self.stopped:
            return
        self.stopped = True
        self.hub.shutdown()
        await self.bus.close()
        await self.archive.close()


@contextlib.asynccontextmanager
async def cluster(url: str, count: int, *, ttl: float = 30.0) -> AsyncIterator[list[Node]]:
    nodes = [await Node.start(url, ttl=ttl) for _ in range(count)]
    try:
        yield nodes
    finally:
        for node in nodes:
            await node.stop()
