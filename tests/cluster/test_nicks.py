"""Nickname claims across nodes, against a real redis-server and a three-shard cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from soketler.cluster.bus import RedisBus
from soketler.cluster.connect import AsyncClient, connect
from soketler.cluster.keys import KeyLayout
from soketler.cluster.nicks import NickClaims
from tests.redisfix import RedisClusterServers

LAYOUT = KeyLayout()
Nodes = Callable[..., NickClaims]


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
    made: list[NickClaims] = []

    def make(name: str, **options: object) -> NickClaims:
        claims = NickClaims(client, name, **options)  # type: ignore[arg-type]
        made.append(claims)
        return claims

    yield make
    for claims in made:
        await claims.close()


async def expire(client: AsyncClient, nick_key: str) -> None:
    """Waits out the claim's TTL, as a dead node's claim runs out."""
    left = await client.pttl(LAYOUT.nick_claim(nick_key))
    await asyncio.sleep(max(left, 0) / 1000)
    for _ in range(50):  # Redis expires a key within a millisecond of its time
        if not await client.exists(LAYOUT.nick_claim(nick_key)):
            return
        await asyncio.sleep(0.002)
    raise AssertionError("the claim did not expire")


async def test_a_name_is_held_by_one_node_until_released(nodes: Nodes) -> None:
    a, b = nodes("node-a"), nodes("node-b")
    assert await a.claim("ayşe")
    assert await a.claim("ayşe")  # again by the holder: still held
    assert not await b.claim("ayşe")
    assert await b.holder("ayşe") == "node-a"
    await a.release("ayşe")
    assert await b.claim("ayşe") and await a.holder("ayşe") == "node-b"
    assert a.held == frozenset() and b.held == {"ayşe"}


async def test_of_many_nodes_claiming_at_once_exactly_one_wins(nodes: Nodes) -> None:
    claimants = [nodes(f"node-{n}") for n in range(20)]
    won = await asyncio.gather(*(c.claim("bora") for c in claimants))
    assert won.count(True) == 1
    winner = claimants[won.index(True)]
    assert await winner.holder("bora") == winner.node


async def test_a_dead_nodes_names_are_free_after_the_ttl(client: AsyncClient, nodes: Nodes) -> None:
    dead, alive = nodes("node-dead", ttl_ms=300), nodes("node-alive")
    assert await dead.claim("can")
    await dead.close(release=False)  # no heartbeat, nothing released: as if killed
    assert not await alive.claim("can")
    await expire(client, "can")
    assert await alive.claim("can")


async def test_the_heartbeat_keeps_names_past_the_ttl(client: AsyncClient, nodes: Nodes) -> None:
    holder, other = nodes("node-a", ttl_ms=300), nodes("node-b")
    assert await holder.claim("deniz")
    holder.start(interval=0.05)
    await asyncio.sleep(1.0)  # more than three TTLs
    assert not await other.claim("deniz")
    assert 0 < await client.pttl(LAYOUT.nick_claim("deniz")) <= 300


async def test_a_name_taken_while_the_claim_lapsed_is_reported_lost(
    client: AsyncClient, nodes: Nodes
) -> None:
    a, b = nodes("node-a", ttl_ms=300), nodes("node-b")
    assert await a.claim("ece") and await a.claim("fırat")
    await expire(client, "ece")  # both lapse, as during a long Redis outage
    assert await b.claim("ece")  # meanwhile another node's user took one
    assert await a.refresh() == ["ece"]
    assert await a.holder("fırat") == "node-a"  # the one nobody took is a's again
    assert a.held == {"fırat"}


async def test_a_late_release_leaves_another_nodes_claim(client: AsyncClient, nodes: Nodes) -> None:
    a, b = nodes("node-a", ttl_ms=300), nodes("node-b")
    assert await a.claim("ece")
    await expire(client, "ece")
    assert await b.claim("ece")
    await a.release("ece")
    assert await b.holder("ece") == "node-b"


async def test_the_heartbeat_calls_on_lost(client: AsyncClient, nodes: Nodes) -> None:
    lost: asyncio.Queue[str] = asyncio.Queue()
    a = nodes("node-a", ttl_ms=300, on_lost=lost.put_nowait)
    b = nodes("node-b")
    assert await a.claim("gül")
    await client.delete(LAYOUT.nick_claim("gül"))  # as if Redis restarted empty
    assert await b.claim("gül")
    a.start(interval=0.05)
    assert await asyncio.wait_for(lost.get(), 5) == "gül"


async def test_renaming_keeps_the_old_name_when_the_new_one_is_taken(nodes: Nodes) -> None:
    a, b = nodes("node-a"), nodes("node-b")
    assert await a.claim("hande") and await b.claim("ilker")
    assert not await a.rename("hande", "ilker")
    assert a.held == {"hande"}
    assert await a.rename("hande", "hülya")
    assert a.held == {"hülya"} and await b.claim("hande")


async def test_closing_releases_every_name(nodes: Nodes) -> None:
    a, b = nodes("node-a"), nodes("node-b")
    names = [f"user{n}" for n in range(50)]  # spread over the shards of a cluster
    assert all(await asyncio.gather(*(a.claim(n) for n in names)))
    assert await a.refresh() == []
    await a.close()
    assert all(await asyncio.gather(*(b.claim(n) for n in names)))


async def test_many_names_are_claimed_in_one_go(nodes: Nodes) -> None:
    one, two = nodes("node-1"), nodes("node-2")
    assert await two.claim("taken")
    names = [f"user{n}" for n in range(300)] + ["taken", "user7"]  # user7 asked twice
    got = await one.claim_many(names)
    assert got == [True] * 300 + [False, True]
    assert await two.holder("user299") == "node-1"
    assert await one.claim_many(["user1", "taken"]) == [True, False]  # held: no round trip


async def test_a_claim_storm_through_the_bus_is_one_pipeline(redis_url: str) -> None:
    bus = await RedisBus.open(redis_url, "node-1")
    try:
        answers: list[bool | None] = []
        finished = asyncio.Event()

        def done(answer: bool | None) -> None:
            answers.append(answer)
            if len(answers) == 2_001:
                finished.set()

        # More at once than redis-py's pool has connections (100).
        for n in range(2_000):
            bus.claim(f"storm{n}", done)
        bus.claim("storm5", done)  # the same name twice in one pass: the first has it
        await asyncio.wait_for(finished.wait(), 20)
        assert answers == [True] * 2_000 + [False]
    finally:
        await bus.close()
