"""Cluster nodes when Redis goes away and comes back: people are told, each node keeps
delivering what is said on it, and when Redis is back every message reaches everyone
once, none lost (Redis keeps what it acknowledged: appendfsync always)."""

from __future__ import annotations

import asyncio

from soketler.cluster import cursors
from soketler.core import bus as b
from soketler.core.bus import Entry
from soketler.protocols import names
from tests.cluster.nodes import cluster
from tests.redisfix import RedisServer

DEGRADED = "Cross-server delivery is degraded"
RESTORED = "Cross-server delivery is restored"


async def test_a_redis_outage_keeps_local_delivery_and_loses_nothing(
    persistent_redis: RedisServer,
) -> None:
    async with cluster(persistent_redis.url, 2) as (one, two):
        ayse = await one.enter("ayse")
        cem = await one.enter("cem")
        bora = await two.enter("bora")
        await ayse.wait_for("bora joined #lobby")
        ayse.type("before the outage")
        await bora.wait_for("<ayse> before the outage")

        await asyncio.to_thread(persistent_redis.kill)
        for person in (ayse, cem, bora):
            await person.wait_for(DEGRADED)
        for n in range(3):
            ayse.type(f"said during the outage {n}")
        bora.type("bora alone meanwhile")
        # Said here, read here at once.
        await cem.wait_for("<ayse> said during the outage 2")
        await ayse.wait_for("<ayse> said during the outage 2")
        await bora.wait_for("<bora> bora alone meanwhile")

        await asyncio.to_thread(persistent_redis.start)
        # What the others said meanwhile comes, and the notice (in either order).
        await bora.wait_all(RESTORED, "<ayse> said during the outage 2", timeout=20)
        await ayse.wait_all(RESTORED, "<bora> bora alone meanwhile", timeout=20)
        await cem.wait_all(RESTORED, "<bora> bora alone meanwhile", timeout=20)
        ayse.type("after the outage")
        for person in (ayse, cem, bora):
            await person.wait_for("<ayse> after the outage")
        for person in (ayse, cem, bora):
            for n in range(3):
                assert person.text.count(f"said during the outage {n}") == 1, person.text
            assert person.text.count("bora alone meanwhile") == 1, person.text
        # And the history has each once, in the stream's order.
        bora.type("/history 10")
        found = await bora.wait_for(r"(?s)before the outage.*End of history of #lobby")
        page = found.group(0)
        for n in range(3):
            assert page.count(f"said during the outage {n}") == 1


async def test_people_wait_for_redis_to_join_while_it_is_away(
    persistent_redis: RedisServer,
) -> None:
    async with cluster(persistent_redis.url, 2) as (one, two):
        ayse = await one.enter("ayse")
        await asyncio.to_thread(persistent_redis.kill)
        await ayse.wait_for(DEGRADED)
        bora = two.person("bora")
        bora.type("bora")  # registered here; the claim and the join wait for Redis
        assert "#lobby (" not in await bora.quiet(0.3)
        await asyncio.to_thread(persistent_redis.start)
        await bora.wait_for(r"-- #lobby \(2\): ayse, bora", timeout=20)
        await ayse.wait_for("bora joined #lobby")


async def test_a_gone_nodes_names_are_free_as_soon_as_one_of_its_rooms_says_so(
    redis_url: str,
) -> None:
    # A room's stream and the directory are read apart: the room may say a node is gone
    # before the directory does. Someone who takes a name on seeing its holder quit
    # (the name is free in Redis by then) must not be told it is taken.
    async with cluster(redis_url, 2) as (one, two):
        await one.enter("ayse")
        bora = await two.enter("bora")
        assert two.hub.users["ayse"].door_state == one.hub.node
        gone = b.NodeLeft(one.hub.node, "Server gone")
        lobby = names.key("#lobby")
        two.hub.on_entries(lobby, [Entry(cursors.MAX_CURSOR - 2, gone)])
        await bora.wait_for(r"ayse quit \(Server gone\)")
        assert two.hub.nicks.by_key.get("ayse") is None  # free here now
        assert two.hub.users["ayse"].door_state == one.hub.node  # known until the directory
        two.hub.on_entries(b.DIRECTORY, [Entry(cursors.MAX_CURSOR - 1, gone)])
        assert "ayse" not in two.hub.users
        assert bora.text.count("ayse quit") == 1
