"""A server's place in a cluster: its bus to the other nodes (Redis), the heartbeat
that keeps its names and presence alive and finds nodes that died, and the history
store in the same Redis. Imported only in cluster mode (it brings redis-py)."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit, urlunsplit

from soketler.cluster.bus import RedisBus
from soketler.cluster.keys import KeyLayout
from soketler.core.bus import BusError
from soketler.core.cluster_hub import ClusterHub
from soketler.core.config import ServerConfig
from soketler.store.redis import RedisStore

log = logging.getLogger("soketler.cluster")

READY_TIMEOUT = 30.0  # seconds to read the directory at start


def shown_url(url: str) -> str:
    """A Redis URL as it may be logged: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class Cluster:
    def __init__(self, hub: ClusterHub, bus: RedisBus, config: ServerConfig) -> None:
        self.hub = hub
        self.bus = bus
        self.config = config
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    async def join(cls, hub: ClusterHub, config: ServerConfig) -> Cluster:
        """Connects to Redis and learns who is where. Raises BusError (with a sentence
        for the person running the server) when Redis cannot be used."""
        layout = KeyLayout(config.redis_prefix)
        bus = await RedisBus.open(
            config.redis, layout=layout, ttl=config.cluster_ttl, max_len=config.retention.messages
        )
        loop = asyncio.get_running_loop()
        hub.attach(bus)
        hub.later = loop.call_later
        try:
            await bus.start()
            ready: asyncio.Future[bool] = loop.create_future()
            hub.start(ready.set_result)
            if not await asyncio.wait_for(ready, READY_TIMEOUT):
                raise BusError(f"cannot read the cluster's directory in Redis at {config.redis}")
        except BaseException:
            await bus.close()
            raise
        cluster = cls(hub, bus, config)
        cluster._schedule()
        log.info("cluster node %s, through Redis at %s", bus.node, shown_url(config.redis))
        return cluster

    def history_store(self) -> RedisStore:
        layout = KeyLayout(self.config.redis_prefix)
        return RedisStore(self.config.redis, layout, max_len=self.config.retention.messages)

    def _schedule(self) -> None:
        # Three beats per TTL: a node found dead is removed at most a TTL and a third
        # after its last sign of life.
        self._timer = self._loop.call_later(self.config.cluster_ttl / 3, self._beat)

    def _beat(self) -> None:
        try:
            self.hub.heartbeat()
        finally:
            self._schedule()

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self.bus.close()
