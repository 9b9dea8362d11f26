"""The publisher against a real redis-server: order, one entry per event even when a
reply is lost, millisecond overflow, refusals, and a full queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from soketler.cluster import cursors
from soketler.cluster.connect import AsyncClient, ClusterError, connect
from soketler.cluster.entries import ORIGIN
from soketler.cluster.keys import KeyLayout
from soketler.cluster.publisher import Publisher, PublishFailed, QueueFull
from tests.cluster.support import LosingProxy, States
from tests.redisfix import RedisServer, free_port

LAYOUT = KeyLayout()
A, B = LAYOUT.room_stream("#a"), LAYOUT.room_stream("#b")


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[AsyncClient]:
    opened = await connect(redis_url)
    yield opened
    await opened.aclose()


async def texts(client: AsyncClient, stream: str) -> list[str]:
    return [fields["text"] for _, fields in await client.xrange(stream)]


async def test_events_land_in_the_order_they_were_published(client: AsyncClient) -> None:
    publisher = Publisher(client, "node-1")
    try:
        futures = [publisher.publish(A if i % 3 else B, {"text": str(i)}) for i in range(2_500)]
        ids = await asyncio.wait_for(asyncio.gather(*futures), 20)
    finally:
        await publisher.close()
    assert await texts(client, A) == [str(i) for i in range(2_500) if i % 3]
    assert await texts(client, B) == [str(i) for i in range(2_500) if not i % 3]
    a_ids = [ids[i] for i in range(2_500) if i % 3]
    assert [cursors.cursor(i) for i in a_ids] == sorted(cursors.cursor(i) for i in a_ids)
    entries = await client.xrange(A, count=2)
    assert [fields[ORIGIN] for _, fields in entries] == ["node-1:2", "node-1:3"]
    assert await client.smembers(LAYOUT.streams) == {A, B}  # registered for retention


async def test_a_lost_reply_does_not_add_the_event_twice(redis_server: RedisServer) -> None:
    await asyncio.to_thread(redis_server.client().flushall)
    states = States()
    async with LosingProxy(redis_server.port).running() as proxy:
        client = await connect(proxy.url)
        publisher = Publisher(client, "node-1", on_state=states)
        try:
            await publisher.publish(A, {"text": "first"})
            proxy.lose_next_reply()
            second = await asyncio.wait_for(publisher.publish(A, {"text": "second"}), 10)
            third = await asyncio.wait_for(publisher.publish(A, {"text": "third"}), 10)
        finally:
            await publisher.close()
            await client.aclose()
    assert proxy.replies_lost == 1
    assert states.seen == [False, True]
    direct = await connect(redis_server.url)
    try:
        entries = await direct.xrange(A)
    finally:
        await direct.aclose()
    assert [fields["text"] for _, fields in entries] == ["first", "second", "third"]
    assert [entry_id for entry_id, _ in entries[1:]] == [second, third]


async def test_an_entry_beyond_the_millisecond_limit_moves_to_the_next_millisecond(
    client: AsyncClient,
) -> None:
    # A stream whose last id is in the future makes Redis number the next entry in
    # that millisecond: as if 1,024 entries had come within one.
    future_ms = int(time.time() * 1000) + 10_000_000
    await client.xadd(A, {"text": "x"}, id=f"{future_ms}-{cursors.SEQ_LIMIT - 1}")
    publisher = Publisher(client, "node-1")
    try:
        moved = await publisher.publish(A, {"text": "y"})
        after = await publisher.publish(A, {"text": "z"})
    finally:
        await publisher.close()
    assert moved == f"{future_ms + 1}-0" and after == f"{future_ms + 1}-1"
    assert await client.xlen(A) == 3 and await texts(client, A) == ["x", "y", "z"]
    assert cursors.cursor(moved) < cursors.cursor(after)


async def test_an_event_redis_refuses_fails_alone(client: AsyncClient) -> None:
    await client.set(B, "not a stream")
    publisher = Publisher(client, "node-1")
    try:
        good = publisher.publish(A, {"text": "fine"})
        bad = publisher.publish(B, {"text": "refused"})
        assert await good
        with pytest.raises(PublishFailed, match="WRONGTYPE"):
            await bad
    finally:
        await publisher.close()


async def test_a_full_queue_refuses_at_once(redis_server: RedisServer) -> None:
    # Connected once, then pointed at nothing: publishes wait in the queue.
    async with LosingProxy(redis_server.port).running() as proxy:
        client = await connect(proxy.url)
    publisher = Publisher(client, "node-1", max_queued=3)
    try:
        waiting = [publisher.publish(A, {"text": str(i)}) for i in range(3)]
        with pytest.raises(QueueFull):
            publisher.publish(A, {"text": "one too many"})
    finally:
        await publisher.close(timeout=0.2)
        await client.aclose()
    for future in waiting:
        with pytest.raises(ClusterError, match="not published"):
            await future


async def test_an_unreachable_redis_is_a_clear_error() -> None:
    with pytest.raises(ClusterError, match="cannot reach Redis at redis://127"):
        await connect(f"redis://127.0.0.1:{free_port()}")
