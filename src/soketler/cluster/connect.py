"""Opening Redis: one URL, a single server or a Redis Cluster (found out by asking).

Clients are made without redis-py's own retries: a command retried behind our back
after a broken connection could add a stream entry twice. The publisher and the reader
retry themselves, in ways that cannot duplicate (see `publisher`, `reader`).
"""

from __future__ import annotations

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
