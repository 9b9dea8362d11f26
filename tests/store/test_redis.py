"""What the Redis store does beyond the contract: cursors from stream ids, whole
groups, events that are not messages, retention over many entries, failures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from soketler.cluster import cursors, entries
from soketler.cluster.keys import KeyLayout
from soketler.core.archive import Retention
from soketler.protocols.events import ChatMessage, Joined
from soketler.store.base import StoreError
from soketler.store.redis import RedisStore
from tests.redisfix import RedisServer, free_port

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LAYOUT = KeyLayout()


def msg(mid: int, text: str, room: str = "#dev", time: datetime = NOW) -> ChatMessage:
    return ChatMessage(mid, time, "Ayşe", text, room=room)


@pytest.fixture
def store(redis_url: str) -> Iterator[RedisStore]:
    backend = RedisStore(redis_url)
    backend.load()
    yield backend
    backend.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def texts(page_messages: list[ChatMessage]) -> list[str]:
    return [m.text for m in page_messages]


def test_a_group_with_an_id_out_of_order_stores_nothing(store: RedisStore) -> None:
    store.write([msg(5, "five")], [])
    with pytest.raises(StoreError, match="not after the last one"):
        store.write([msg(6, "six", room="#ops"), msg(7, "seven"), msg(3, "three")], [])
    assert texts(store.room_page("#dev", 10, None).messages) == ["five"]
    assert store.room_page("#ops", 10, None).messages == []


def test_writing_a_group_again_adds_nothing_twice(store: RedisStore) -> None:
    # The writer thread may retry a group whose reply was lost with the connection.
    group = [msg(1, "a"), msg(2, "b"), ChatMessage(3, NOW, "Ali", "c", to="Veli")]
    store.write(group, [])
    store.write(group, [])
    assert texts(store.room_page("#dev", 10, None).messages) == ["a", "b"]
    assert texts(store.private_page("ali", "veli", 10, None).messages) == ["c"]


def test_messages_added_by_the_cluster_are_read_with_their_stream_ids_as_ids(
    store: RedisStore, raw: redis.Redis
) -> None:
    stream = LAYOUT.room_stream("#dev")
    added = [raw.xadd(stream, entries.encode(msg(0, f"m{i}"))) for i in range(5)]
    page = store.room_page("#dev", 3, None)
    assert [m.id for m in page.messages] == [cursors.cursor(i) for i in added[2:]]
    assert texts(page.messages) == ["m2", "m3", "m4"] and page.more
    older = store.room_page("#dev", 3, page.messages[0].id)
    assert texts(older.messages) == ["m0", "m1"] and not older.more


def test_pages_step_over_events_that_are_not_messages(store: RedisStore, raw: redis.Redis) -> None:
    stream = LAYOUT.room_stream("#dev")
    for i in range(40):
        raw.xadd(stream, entries.encode(Joined(NOW, "#dev", f"user{i}")))
        if i % 10 == 0:
            raw.xadd(stream, entries.encode(msg(0, f"m{i}")))
    page = store.room_page("#dev", 3, None)
    assert texts(page.messages) == ["m10", "m20", "m30"] and page.more
    rest = store.room_page("#dev", 3, page.messages[0].id)
    assert texts(rest.messages) == ["m0"] and not rest.more


def test_the_last_id_outlives_retention_removing_every_message(store: RedisStore) -> None:
    store.write([msg(i, "old", time=NOW - timedelta(days=30)) for i in (10, 11)], [])
    assert store.prune(Retention(days=7), NOW) == 2
    assert store.room_page("#dev", 10, None).messages == []
    assert store.load().last_id == 11  # so the next id is never one given before


def test_retention_scans_past_one_batch(store: RedisStore) -> None:
    old, new = NOW - timedelta(days=9), NOW - timedelta(days=1)
    group = [msg(i, f"m{i}", time=old if i <= 2_500 else new) for i in range(1, 2_601)]
    store.write(group, [])
    assert store.prune(Retention(days=7), NOW) == 2_500
    assert store.prune(Retention(messages=30), NOW) == 70
    page = store.room_page("#dev", 100, None)
    assert texts(page.messages) == [f"m{i}" for i in range(2_571, 2_601)] and not page.more


def test_retention_by_count_counts_only_messages(store: RedisStore, raw: redis.Redis) -> None:
    stream = LAYOUT.room_stream("#dev")
    raw.sadd(LAYOUT.streams, stream)  # as the publisher registers a stream it adds to
    for i in range(6):
        raw.xadd(stream, entries.encode(msg(0, f"m{i}")))
        raw.xadd(stream, entries.encode(Joined(NOW, "#dev", f"user{i}")))
    store.prune(Retention(messages=2), NOW)
    assert texts(store.room_page("#dev", 10, None).messages) == ["m4", "m5"]


def test_streams_are_trimmed_as_they_grow_with_max_len(redis_url: str, raw: redis.Redis) -> None:
    store = RedisStore(redis_url, max_len=100)
    store.load()
    for start in range(1, 1_001, 100):
        store.write([msg(i, f"m{i}") for i in range(start, start + 100)], [])
    # Approximate trimming removes whole blocks of entries: never below the bound,
    # never far above it.
    assert 100 <= raw.xlen(LAYOUT.room_stream("#dev")) <= 300
    store.close()


def test_an_id_beyond_a_cursor_is_refused(store: RedisStore) -> None:
    with pytest.raises(StoreError, match="cannot store message"):
        store.write([msg(cursors.MAX_CURSOR + 1, "x")], [])


def test_an_unreachable_redis_is_a_clear_error() -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match=r"cannot reach Redis at redis://127\.0\.0\.1:"):
        store.load()


def test_acknowledged_writes_survive_redis_killed(persistent_redis: RedisServer) -> None:
    store = RedisStore(persistent_redis.url)
    store.load()
    store.write([msg(1, "before the crash")], [])
    persistent_redis.kill()
    with pytest.raises(StoreError):
        store.room_page("#dev", 10, None)
    persistent_redis.start()
    with contextlib.closing(store):
        assert texts(store.room_page("#dev", 10, None).messages) == ["before the crash"]
        store.write([msg(2, "after")], [])
        assert store.load().last_id == 2
