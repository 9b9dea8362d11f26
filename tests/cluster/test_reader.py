"""The stream reader against a real redis-server: order, streams coming and going,
Redis restarted under it, and a three-shard cluster."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from soketler.cluster.connect import AsyncClient, connect, slot
from soketler.cluster.keys import KeyLayout
from soketler.cluster.publisher import Publisher
from soketler.cluster.reader import StreamReader, just_before
from tests.cluster.support import Collected, States
from tests.redisfix import RedisClusterServers, RedisServer

LAYOUT = KeyLayout()
A, B = LAYOUT.room_stream("#a"), LAYOUT.room_stream("#b")


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[AsyncClient]:
    opened = await connect(redis_url)
    yield opened
    await opened.aclose()


@contextlib.asynccontextmanager
async def reading(
    client: AsyncClient, **options: object
) -> AsyncIterator[tuple[StreamReader, Collected]]:
    got = Collected()
    reader = StreamReader(client, got, **options)  # type: ignore[arg-type]
    try:
        yield reader, got
    finally:
        await reader.close()


async def add(client: AsyncClient, stream: str, text: str) -> str:
    entry_id: str = await client.xadd(stream, {"text": text})
    return entry_id


async def test_entries_come_in_stream_order_from_where_each_stream_was_added(
    client: AsyncClient,
) -> None:
    await add(client, A, "old")
    async with reading(client) as (reader, got):
        await reader.add_now(A)
        first_b = await add(client, B, "b0")
        reader.add(B, just_before(first_b))  # from b0 on, though it is already there
        for i in range(1, 200):
            await add(client, A if i % 2 else B, f"{'a' if i % 2 else 'b'}{i}")
        await got.until(lambda: got.total == 200)
        assert got.texts(A) == [f"a{i}" for i in range(1, 200, 2)]
        assert got.texts(B) == ["b0"] + [f"b{i}" for i in range(2, 200, 2)]
        assert reader.last(A) == got.by_stream[A][-1][0]


async def test_a_stream_added_during_a_long_wait_is_read_at_once(client: AsyncClient) -> None:
    # The read waits up to a minute: only CLIENT UNBLOCK can make B's entry arrive
    # within the test's few seconds.
    async with reading(client, block_ms=60_000) as (reader, got):
        await reader.add_now(A)
        await add(client, A, "a1")
        await got.until(lambda: got.total == 1)
        for n in range(5):  # several times, to meet the read at different moments
            stream = LAYOUT.room_stream(f"#new{n}")
            reader.add(stream, "0-0")
            await add(client, stream, f"new{n}")
            expected = [f"new{n}"]
            await got.until(lambda s=stream, e=expected: got.texts(s) == e, 5)  # type: ignore[misc]


async def test_a_removed_stream_is_no_longer_delivered(client: AsyncClient) -> None:
    async with reading(client) as (reader, got):
        await reader.add_now(A)
        await reader.add_now(B)
        reader.remove(B)
        await add(client, B, "unseen")
        await add(client, A, "seen")
        await got.until(lambda: got.total == 1)
        assert got.texts(A) == ["seen"] and got.texts(B) == []
        assert reader.streams == [A]
        reader.remove(A)
        assert reader.streams == []
        last_b = await add(client, B, "again")
        reader.add(B, just_before(last_b))
        await got.until(lambda: got.texts(B) == ["again"])


async def test_a_failing_callback_does_not_stop_the_reader(client: AsyncClient) -> None:
    got = Collected()

    def deliver(stream: str, entries: list[tuple[str, dict[str, str]]]) -> None:
        got(stream, entries)
        if any(fields["text"] == "boom" for _, fields in entries):
            raise RuntimeError("a bug in the consumer")

    reader = StreamReader(client, deliver)
    try:
        await reader.add_now(A)
        await add(client, A, "boom")
        await got.until(lambda: got.total == 1)
        await add(client, A, "after")
        await got.until(lambda: got.total == 2)
    finally:
        await reader.close()


async def test_redis_restarted_mid_stream_loses_and_repeats_nothing(
    persistent_redis: RedisServer,
) -> None:
    total, kill_at = 400, 100
    reader_states, publisher_states = States(), States()
    client = await connect(persistent_redis.url)
    publisher = Publisher(client, "node-1", on_state=publisher_states)
    got = Collected()
    reader = StreamReader(client, got, on_state=reader_states)
    try:
        await reader.add_now(A)
        published: list[asyncio.Future[str]] = []

        async def send() -> None:
            for i in range(total):
                published.append(publisher.publish(A, {"text": str(i)}))
                await asyncio.sleep(0.002)

        sender = asyncio.create_task(send())
        await got.until(lambda: got.total >= kill_at)
        persistent_redis.kill()
        await reader_states.until([False])
        await asyncio.to_thread(persistent_redis.start)
        await sender
        ids = await asyncio.wait_for(asyncio.gather(*published), 30)
        await got.until(lambda: got.total >= total, 30)
        assert got.texts(A) == [str(i) for i in range(total)]  # in order, once each
        assert [entry_id for entry_id, _ in got.by_stream[A]] == ids
        assert await client.xlen(A) == total
        await reader_states.until([False, True])
        assert reader_states.seen == [False, True]
        assert publisher_states.seen == [False, True]  # it published through the outage
    finally:
        await reader.close()
        await publisher.close()
        await client.aclose()


async def test_streams_on_three_shards_are_all_read(redis_cluster: RedisClusterServers) -> None:
    client = await connect(redis_cluster.url)
    assert isinstance(client, redis.asyncio.RedisCluster)
    rooms: dict[tuple[str, int], str] = {}
    for n in range(100):  # one room on each shard
        stream = LAYOUT.room_stream(f"#room{n}")
        node = client.get_node_from_key(stream)
        assert node is not None
        rooms.setdefault((node.host, int(node.port)), stream)
    assert len(rooms) == 3
    streams = list(rooms.values())
    publisher = Publisher(client, "node-1")
    try:
        async with reading(client) as (reader, got):
            for stream in streams:
                await reader.add_now(stream)
            sent = [
                publisher.publish(stream, {"text": f"{i}"})
                for i in range(300)
                for stream in streams
            ]
            await asyncio.gather(*sent)
            await got.until(lambda: got.total == 900)
            for stream in streams:
                assert got.texts(stream) == [str(i) for i in range(300)]
            assert len({slot(s) for s in streams}) == 3
    finally:
        await publisher.close()
        await client.aclose()


async def test_closing_ends_a_long_read_at_once(client: AsyncClient) -> None:
    async with reading(client, block_ms=60_000) as (reader, got):
        await reader.add_now(A)
        await add(client, A, "a1")
        await got.until(lambda: got.total == 1)  # the next read is on its way
        await asyncio.wait_for(reader.close(), 5)
        assert reader.streams == []


async def test_three_nodes_see_one_room_in_one_order(redis_cluster: RedisClusterServers) -> None:
    # Three nodes publish into one room at once and each reads it back: every node
    # gets the same entries in the same order, and each node's own in the order it
    # published them.
    nodes = [await connect(redis_cluster.url) for _ in range(3)]
    publishers = [Publisher(c, f"node-{n}") for n, c in enumerate(nodes)]
    readers: list[tuple[StreamReader, Collected]] = []
    room = LAYOUT.room_stream("#lobby")
    try:
        for client in nodes:
            got = Collected()
            reader = StreamReader(client, got)
            await reader.add_now(room)
            readers.append((reader, got))

        async def chat(n: int) -> None:
            for i in range(200):
                publishers[n].publish(room, {"text": f"{n}:{i}"})
                if i % 20 == 0:
                    await asyncio.sleep(0)  # let the others in between

        await asyncio.gather(*(chat(n) for n in range(3)))
        for _, got in readers:
            await got.until(lambda g=got: g.total == 600)  # type: ignore[misc]
        orders = [got.by_stream[room] for _, got in readers]
        assert orders[0] == orders[1] == orders[2]
        texts = [fields["text"] for _, fields in orders[0]]
        for n in range(3):
            assert [t for t in texts if t.startswith(f"{n}:")] == [f"{n}:{i}" for i in range(200)]
        assert texts != sorted(texts, key=lambda t: t.split(":")[0])  # really interleaved
    finally:
        for reader, _ in readers:
            await reader.close()
        for publisher in publishers:
            await publisher.close()
        for client in nodes:
            await client.aclose()
