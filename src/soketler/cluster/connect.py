"""Opening Redis: one URL, a single server or a Redis Cluster (found out by asking).

Clients are made without redis-py's own retries: a command retried behind our back
after a broken connection could add a stream entry twice. The publisher and the reader
retry themselves, in ways that cannot duplicate (see `publisher`, `reader`).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.retry import Retry

from soketler.errors import SoketlerError

AsyncClient = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster
SyncClient = redis.Redis | redis.cluster.RedisCluster

CONNECT_TIMEOUT = 5.0  # seconds to open a TCP connection to Redis
COMMAND_TIMEOUT = 10.0  # seconds for a reply; blocking reads set their own


class ClusterError(SoketlerError):
    """Redis cannot be used; the text says why, for people."""


def _options(timeout: float) -> dict[str, Any]:
    return {
        "decode_responses": True,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
    }


def _cluster_enabled(info: dict[str, object]) -> bool:
    return str(info.get("cluster_enabled", "0")) == "1"


async def connect(url: str, timeout: float = COMMAND_TIMEOUT) -> AsyncClient:
    """An asyncio client for the server or cluster at `url`. Raises ClusterError."""
    single = redis.asyncio.Redis.from_url(url, **_options(timeout))
    try:
        info = await single.info("cluster")
    except redis.RedisError as exc:
        await single.aclose()
        raise ClusterError(f"cannot reach Redis at {url}: {exc}") from exc
    if not _cluster_enabled(info):
        return single
    await single.aclose()
    cluster = redis.asyncio.cluster.RedisCluster.from_url(url, **_options(timeout))
    try:
        await cluster.initialize()
    except redis.RedisError as exc:
        await cluster.aclose()
        raise ClusterError(f"cannot use the Redis Cluster at {url}: {exc}") from exc
    return cluster


def connect_sync(url: str, timeout: float = COMMAND_TIMEOUT) -> SyncClient:
    """A blocking client, for the history store's writer thread. Raises ClusterError."""
    single = redis.Redis.from_url(url, **_options(timeout))
    try:
        info = single.info("cluster")
    except redis.RedisError as exc:
        single.close()
        raise ClusterError(f"cannot reach Redis at {url}: {exc}") from exc
    if not _cluster_enabled(info):
        return single
    single.close()
    try:
        return redis.cluster.RedisCluster.from_url(url, **_options(timeout))
    except redis.RedisError as exc:
        raise ClusterError(f"cannot use the Redis Cluster at {url}: {exc}") from exc


def is_cluster(client: AsyncClient | SyncClient) -> bool:
    return isinstance(client, redis.asyncio.cluster.RedisCluster | redis.cluster.RedisCluster)


def slot(key: str) -> int:
    """The Redis Cluster slot of a key (by its hash tag, if it has one)."""
    return key_slot(key.encode())


# Errors after which a command may or may not have been carried out.
LOST = (redis.ConnectionError, redis.TimeoutError, OSError)
# Any failure of Redis or of finding the right cluster node: worth trying again later.
FAILED = (redis.RedisError, redis.exceptions.RedisClusterException, OSError)


def single_node(
    host: str, port: int, timeout: float, *, one_connection: bool = False
) -> redis.asyncio.Redis:
    """A client of one server (one shard of a cluster), with no retries of its own.
    `one_connection`: every command on the same connection (for CLIENT ID)."""
    return redis.asyncio.Redis(
        host=host, port=port, single_connection_client=one_connection, **_options(timeout)
    )


class Shards:
    """Reaches the server that holds a key: the server itself, or its cluster shard.

    redis-py refuses scripts in a cluster pipeline, and a pipeline is what keeps one
    node's publishes to a stream in order (one connection, one batch). So commands
    are sent in one pipeline per shard, on a client of that shard alone; a MOVED reply
    (the cluster was resharded) sends the caller to `refresh` and to try again.
    """

    def __init__(self, client: AsyncClient, timeout: float = COMMAND_TIMEOUT) -> None:
        self.client = client
        self.timeout = timeout
        self._nodes: dict[str, redis.asyncio.Redis] = {}

    @property
    def clustered(self) -> bool:
        return isinstance(self.client, redis.asyncio.cluster.RedisCluster)

    def address(self, key: str) -> tuple[str, int]:
        """Where the key lives now, as far as the client knows."""
        if isinstance(self.client, redis.asyncio.cluster.RedisCluster):
            node = self.client.get_node_from_key(key)
            if node is None:
                raise ClusterError(f"no Redis Cluster node serves the slot of {key}")
            return node.host, int(node.port)
        kwargs = self.client.connection_pool.connection_kwargs
        return str(kwargs.get("host", "localhost")), int(kwargs.get("port", 6379))

    def node(self, key: str) -> redis.asyncio.Redis:
        """A client of the server or shard that holds `key`."""
        return self.at(self.address(key))

    def at(self, address: tuple[str, int]) -> redis.asyncio.Redis:
        """A client of the server or shard at `address`."""
        if isinstance(self.client, redis.asyncio.Redis):
            return self.client
        host, port = address
        name = f"{host}:{port}"
        client = self._nodes.get(name)
        if client is None:
            client = self._nodes[name] = single_node(host, port, self.timeout)
        return client

    async def run(
        self, calls: list[tuple[str, tuple[object, ...]]], prelude: tuple[object, ...] = ()
    ) -> list[object]:
        """Runs each (key, command) on the shard that holds the key, one pipeline per
        shard (after `prelude`, if given, on each); the results (or the error of each
        command) come back in the order of `calls`."""
        by_node: dict[int, tuple[redis.asyncio.Redis, list[int]]] = {}
        for index, (key, _) in enumerate(calls):
            node = self.node(key)
            by_node.setdefault(id(node), (node, []))[1].append(index)
        results: list[object] = [None] * len(calls)

        async def run(node: redis.asyncio.Redis, indexes: list[int]) -> None:
            pipe = node.pipeline(transaction=False)
            if prelude:
                pipe.execute_command(*prelude)
            for index in indexes:
                pipe.execute_command(*calls[index][1])
            replies = await pipe.execute(raise_on_error=False)
            if prelude:
                first, *replies = replies
                if isinstance(first, Exception):
                    raise first
            for index, reply in zip(indexes, replies, strict=True):
                results[index] = reply

        await asyncio.gather(*(run(node, indexes) for node, indexes in by_node.values()))
        return results

    async def run_script(self, body: str, calls: list[tuple[str, list[str | int]]]) -> list[object]:
        """Runs a one-key script for each (key, args), loading the script first on each
        shard (Redis may have restarted without it)."""
        sha = hashlib.sha1(body.encode()).hexdigest()
        commands: list[tuple[str, tuple[object, ...]]] = [
            (key, ("EVALSHA", sha, 1, key, *args)) for key, args in calls
        ]
        return await self.run(commands, prelude=("SCRIPT", "LOAD", body))

    async def refresh(self) -> None:
        """Asks the cluster again which shard holds which slots."""
        if isinstance(self.client, redis.asyncio.cluster.RedisCluster):
            await self.client.nodes_manager.initialize()

    async def aclose(self) -> None:
        nodes, self._nodes = list(self._nodes.values()), {}
        for client in nodes:
            await client.aclose()
