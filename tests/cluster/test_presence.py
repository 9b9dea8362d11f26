"""Who is where across nodes, against a real redis-server and a three-shard cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio

from soketler.cluster.connect import AsyncClient, connect
from soketler.cluster.keys import KeyLayout
from soketler.cluster.presence import Member, Presence, RoomCount
from tests.redisfix import RedisClusterServers, RedisServer

LAYOUT = KeyLayout()
Nodes = Callable[..., Presence]


@pytest.fixture(params=["single", "cluster"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[AsyncClient]:
    if request.param == "single":
        url = request.getfixturevalue("redis_url")
    else:
        cluster: RedisClusterServers = request.getfixturevalue("redis_cluster")
        url = cluster.url
    opened = await connect(url)
    yield opened
    await opened.aclose()


@pytest.fixture
async def nodes(client: AsyncClient) -> AsyncIterator[Nodes]:
    made: list[Presence] = []

    def make(name: str, **options: object) -> Presence:
        presence = Presence(client, name, **options)  # type: ignore[arg-type]
        made.append(presence)
        return presence

    yield make
    for presence in made:
        await presence.close()


def nicks(members: list[Member]) -> list[str]:
    return sorted(m.nick for m in members)


async def test_members_and_rooms_are_seen_from_every_node(nodes: Nodes) -> None:
    a, b = nodes("node-a"), nodes("node-b")
    await a.heartbeat()
    await b.heartbeat()
    await a.join("#dev", "#Dev", "ayşe", Member("Ayşe", "ayse", "10.0.0.1", "@"))
    await a.join("#dev", "#Dev", "bora", Member("Bora"))
    await b.join("#dev", "#Dev", "can", Member("Can", away="lunch"))
    await b.join("#ops", "#ops", "can", Member("Can", away="lunch"))
    for reader in (a, b):
        members = await reader.members("#dev")
        assert nicks(members) == ["Ayşe", "Bora", "Can"]
        assert Member("Ayşe", "ayse", "10.0.0.1", "@") in members
        assert await reader.rooms() == [RoomCount("#dev", "#Dev", 3), RoomCount("#ops", "#ops", 1)]
    await b.part("#ops", "can")
    await a.part("#dev", "bora")
    assert nicks(await b.members("#dev")) == ["Ayşe", "Can"]
    assert await b.rooms() == [RoomCount("#dev", "#Dev", 2)]
    assert await a.live_nodes() == ["node-a", "node-b"]


async def test_a_dead_nodes_members_vanish_after_the_ttl(client: AsyncClient, nodes: Nodes) -> None:
    a, dead = nodes("node-a"), nodes("node-dead", ttl_ms=300)
    await a.heartbeat()
    await dead.heartbeat()
    await a.join("#dev", "#dev", "ayşe", Member("Ayşe"))
    await dead.join("#dev", "#dev", "bora", Member("Bora"))
    assert nicks(await a.members("#dev")) == ["Ayşe", "Bora"]
    # No more heartbeats from it, nothing removed: as if the process were killed.
    left = await client.pttl(LAYOUT.node_alive("node-dead"))
    await asyncio.sleep(max(left, 0) / 1000 + 0.05)
    assert nicks(await a.members("#dev")) == ["Ayşe"]
    assert await client.smembers(LAYOUT.room_nodes("#dev")) == {"node-a"}  # swept
    assert await a.rooms() == [RoomCount("#dev", "#dev", 1)]
    assert await a.live_nodes() == ["node-a"]
    assert await client.smembers(LAYOUT.nodes) == {"node-a"}


async def test_the_heartbeat_keeps_a_node_past_the_ttl(client: AsyncClient, nodes: Nodes) -> None:
    a, b = nodes("node-a"), nodes("node-b", ttl_ms=300)
    await b.join("#dev", "#dev", "bora", Member("Bora"))
    b.start(interval=0.05)
    await asyncio.sleep(1.0)  # more than three TTLs
    assert nicks(await a.members("#dev")) == ["Bora"]
    assert 0 < await client.pttl(LAYOUT.room_members("#dev", "node-b")) <= 300


async def test_redis_emptied_is_filled_again_by_the_next_heartbeat(
    client: AsyncClient, nodes: Nodes
) -> None:
    a = nodes("node-a")
    await a.heartbeat()
    await a.join("#dev", "#dev", "ayşe", Member("Ayşe"))
    await a.register("ayşe", Member("Ayşe"))
    await flush(client)
    assert await a.members("#dev") == []
    await a.heartbeat()
    assert nicks(await a.members("#dev")) == ["Ayşe"]
    assert await a.lookup("node-a", "ayşe") == Member("Ayşe")
    assert await a.rooms() == [RoomCount("#dev", "#dev", 1)]


async def flush(client: AsyncClient) -> None:
    if isinstance(client, redis.asyncio.RedisCluster):
        await client.flushall(target_nodes=redis.asyncio.RedisCluster.ALL_NODES)
    else:
        await client.flushall()


async def test_changes_renames_and_lookups(nodes: Nodes) -> None:
    a, b = nodes("node-a"), nodes("node-b")
    await a.heartbeat()
    await a.register("ayşe", Member("Ayşe"))
    await a.join("#dev", "#dev", "ayşe", Member("Ayşe"))
    await a.join("#ops", "#ops", "ayşe", Member("Ayşe"))
    await a.update("ayşe", Member("Ayşe", away="toplantıda"))
    assert await b.members("#ops") == [Member("Ayşe", away="toplantıda")]
    await a.rename("ayşe", "ayse", Member("Ayse"))
    assert await b.members("#dev") == [Member("Ayse")]
    assert await b.lookup("node-a", "ayse") == Member("Ayse")
    assert await b.lookup("node-a", "ayşe") is None
    await a.unregister("ayse")
    assert await b.lookup("node-a", "ayse") is None


async def test_closing_removes_the_nodes_part(client: AsyncClient, nodes: Nodes) -> None:
    a, b = nodes("node-a"), nodes("node-b")
    await a.heartbeat()
    await b.heartbeat()
    await a.join("#dev", "#dev", "ayşe", Member("Ayşe"))
    await b.join("#dev", "#dev", "bora", Member("Bora"))
    await a.close()
    assert nicks(await b.members("#dev")) == ["Bora"]
    assert await b.live_nodes() == ["node-b"]
    assert not await client.exists(LAYOUT.node_rooms("node-a"))


async def test_what_changed_while_redis_was_away_is_written_when_it_returns(
    persistent_redis: RedisServer,
) -> None:
    client = await connect(persistent_redis.url)
    a = Presence(client, "node-a")
    try:
        await a.heartbeat()
        await a.join("#dev", "#dev", "ayşe", Member("Ayşe"))
        await a.join("#ops", "#ops", "ayşe", Member("Ayşe"))
        persistent_redis.kill()
        await a.part("#ops", "ayşe")  # cannot be written now
        await a.join("#new", "#new", "ayşe", Member("Ayşe"))
        await asyncio.to_thread(persistent_redis.start)
        assert nicks(await a.members("#ops")) == ["Ayşe"]  # Redis kept the old state
        await a.heartbeat()
        assert await a.members("#ops") == []
        assert nicks(await a.members("#new")) == ["Ayşe"]
        assert [r.key for r in await a.rooms()] == ["#dev", "#new"]
    finally:
        await a.close()
        await client.aclose()
