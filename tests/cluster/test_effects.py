"""What an event changes beside its stream, in the same step (scripts.PUBLISH's
effects), and reading those records with the stream's position (SNAPSHOT), against a
real redis-server: a single one and a three-shard cluster."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from soketler.cluster.bus import RedisBus
from soketler.cluster.connect import AsyncClient, connect
from soketler.cluster.keys import KeyLayout
from soketler.cluster.publisher import Publisher
from soketler.core import bus as b
from soketler.core.bus import Effect, MemberRecord, Snapshot
from soketler.protocols.events import Joined
from tests.cluster.support import LosingProxy
from tests.redisfix import RedisClusterServers, RedisServer

LAYOUT = KeyLayout()
ROOM = "#dev"
STREAM, MEMBERS, STATE = (
    LAYOUT.room_stream(ROOM),
    LAYOUT.room_records(ROOM),
    LAYOUT.room_state(ROOM),
)


def member(nick: str, node: str, status: str = "") -> str:
    return MemberRecord(nick, nick, "host", status, node).encode()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[AsyncClient]:
    opened = await connect(redis_url)
    yield opened
    await opened.aclose()


async def records(client: AsyncClient) -> dict[str, list[str]]:
    found = await client.hgetall(MEMBERS)
    return {key: json.loads(text) for key, text in found.items()}


async def test_the_first_to_join_an_empty_room_is_its_operator(client: AsyncClient) -> None:
    publisher = Publisher(client, "n1")
    try:
        for nick in ("ayse", "bora"):
            join = ("join", MEMBERS, [nick, member(nick, "n1")])
            await publisher.publish(STREAM, {"_e": "joined", "nick": nick}, [join])
    finally:
        await publisher.close()
    entries = await client.xrange(STREAM)
    assert [fields.get("status") for _, fields in entries] == ["@", None]
    assert {k: v[3] for k, v in (await records(client)).items()} == {"ayse": "@", "bora": ""}


async def test_status_rename_and_delete_change_the_records(client: AsyncClient) -> None:
    publisher = Publisher(client, "n1")
    try:
        for nick in ("ayse", "bora", "cem"):
            join = ("join", MEMBERS, [nick, member(nick, "n1")])
            await publisher.publish(STREAM, {"_e": "joined", "nick": nick}, [join])
        await publisher.publish(STREAM, {"_e": "mode"}, [("status", MEMBERS, ["bora", "+"])])
        await publisher.publish(
            STREAM, {"_e": "nick"}, [("rename", MEMBERS, ["bora", "börek", "Börek"])]
        )
        await publisher.publish(STREAM, {"_e": "parted"}, [("delete", MEMBERS, ["cem"])])
        await publisher.publish(STREAM, {"_e": "topic"}, [("set", STATE, ["topic", "t"])])
    finally:
        await publisher.close()
    found = await records(client)
    assert set(found) == {"ayse", "börek"}
    assert found["börek"] == ["Börek", "bora", "host", "+", "n1"]
    assert await client.hget(STATE, "topic") == "t"


async def test_an_event_that_requires_a_record_is_left_out_without_it(
    client: AsyncClient,
) -> None:
    publisher = Publisher(client, "n1")
    try:
        join = ("join", MEMBERS, ["ayse", member("ayse", "n2")])
        await publisher.publish(STREAM, {"_e": "joined"}, [join])
        # On behalf of node n2 (found dead), by whichever node sees it first: once.
        for node, expected in (("n9", ""), ("n2", "added"), ("n2", "")):
            effects = [("require", MEMBERS, ["ayse", node]), ("delete", MEMBERS, ["ayse"])]
            got = await publisher.publish(STREAM, {"_e": "quit"}, effects)
            assert bool(got) == (expected == "added")
    finally:
        await publisher.close()
    assert [fields["_e"] for _, fields in await client.xrange(STREAM)] == ["joined", "quit"]
    assert await records(client) == {}


async def test_dropping_a_node_removes_only_its_records(client: AsyncClient) -> None:
    publisher = Publisher(client, "n1")
    try:
        for nick, node in (("ayse", "n1"), ("bora", "n2"), ("cem", "n2")):
            join = ("join", MEMBERS, [nick, member(nick, node)])
            await publisher.publish(STREAM, {"_e": "joined"}, [join])
        await publisher.publish(STREAM, {"_e": "node-left"}, [("drop-node", MEMBERS, ["n2"])])
    finally:
        await publisher.close()
    assert set(await records(client)) == {"ayse"}


async def test_a_retried_publish_does_not_change_the_records_twice(
    redis_server: RedisServer,
) -> None:
    await asyncio.to_thread(redis_server.client().flushall)
    async with LosingProxy(redis_server.port).running() as proxy:
        client = await connect(proxy.url)
        publisher = Publisher(client, "n1")
        try:
            proxy.lose_next_reply()  # the join is made; its answer never comes
            join = ("join", MEMBERS, ["ayse", member("ayse", "n1")])
            await asyncio.wait_for(publisher.publish(STREAM, {"_e": "joined"}, [join]), 10)
        finally:
            await publisher.close()
            await client.aclose()
    assert proxy.replies_lost == 1
    check = await connect(redis_server.url)
    try:
        assert len(await check.xrange(STREAM)) == 1
        # A second run of the join would have found the room not empty: status "".
        assert (await records(check))["ayse"][3] == "@"
    finally:
        await check.aclose()


async def snapshot(bus: RedisBus, stream: str, targets: tuple[str, ...]) -> Snapshot:
    done: asyncio.Future[Snapshot | None] = asyncio.get_running_loop().create_future()
    bus.snapshot(stream, targets, done.set_result)
    found = await asyncio.wait_for(done, 10)
    assert found is not None
    return found


async def published(bus: RedisBus, stream: str, event: object, effects: list[Effect]) -> int:
    done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
    bus.publish(stream, event, f"{bus.node}:x", effects=effects, done=done.set_result)
    cursor = await asyncio.wait_for(done, 10)
    assert cursor is not None
    return cursor


@pytest.mark.parametrize("where", ["single", "cluster"])
async def test_a_snapshot_is_the_records_with_the_stream_position(
    where: str, redis_url: str, redis_cluster: RedisClusterServers
) -> None:
    url = redis_url if where == "single" else redis_cluster.url
    bus = await RedisBus.open(url, "n1")
    try:
        empty = await snapshot(bus, ROOM, (b.MEMBERS, b.STATE))
        assert empty.position == "0-0" and empty.records == {b.MEMBERS: {}, b.STATE: {}}
        joined = Joined(datetime.now(UTC), ROOM, "ayse", "ayse", "h")
        record = MemberRecord("ayse", "ayse", "h", "", "n1").encode()
        cursor = await published(bus, ROOM, joined, [Effect(b.JOIN, b.MEMBERS, ("ayse", record))])
        found = await snapshot(bus, ROOM, (b.MEMBERS, b.STATE))
        assert found.position == bus.before(cursor + 1)  # the join is at the position
        assert MemberRecord.decode(found.records[b.MEMBERS]["ayse"]).status == "@"
    finally:
        await bus.close()
