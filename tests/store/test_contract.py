"""The store interface, run against every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from soketler.core.archive import Retention, Topic
from soketler.protocols.events import ChatMessage
from soketler.store.base import HistoryStore
from soketler.store.memory import MemoryStore
from soketler.store.redis import RedisStore
from soketler.store.sqlite import SqliteStore
from tests.redisfix import RedisClusterServers

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> HistoryStore:
    if request.param == "memory":
        return MemoryStore()
    if request.param == "sqlite":
        return SqliteStore(str(tmp_path / "h.db"))
    if request.param == "redis":
        return RedisStore(request.getfixturevalue("redis_url"))
    cluster: RedisClusterServers = request.getfixturevalue("redis_cluster")
    return RedisStore(cluster.url)


@pytest.fixture(params=["memory", "sqlite", "redis", "redis-cluster"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    backend = make_store(request, tmp_path)
    backend.load()
    yield backend
    backend.close()


def room_msg(
    mid: int, text: str, room: str = "#Dev", sender: str = "Ayşe", **kw: object
) -> ChatMessage:
    return ChatMessage(mid, kw.pop("time", NOW), sender, text, room=room, **kw)  # type: ignore[arg-type]


def dm(mid: int, sender: str, to: str, text: str) -> ChatMessage:
    return ChatMessage(mid, NOW, sender, text, to=to)


def texts(messages: list[ChatMessage]) -> list[str]:
    return [m.text for m in messages]


def test_pages_come_oldest_first_marked_as_history(store: HistoryStore) -> None:
    store.write([room_msg(i, f"m{i}") for i in range(1, 31)], [])
    page = store.room_page("#dev", 20, None)
    assert texts(page.messages) == [f"m{i}" for i in range(11, 31)]
    assert page.more and all(m.history for m in page.messages)
    older = store.room_page("#dev", 20, page.messages[0].id)
    assert texts(older.messages) == [f"m{i}" for i in range(1, 11)] and not older.more


def test_messages_keep_every_field(store: HistoryStore) -> None:
    original = room_msg(7, "dalga geçiyor", sender="민준", action=True)
    store.write([original], [])
    [back] = store.room_page("#dev", 5, None).messages
    assert back == ChatMessage(
        7, NOW, "민준", "dalga geçiyor", room="#Dev", action=True, history=True
    )


def test_rooms_are_kept_apart_and_found_ignoring_case(store: HistoryStore) -> None:
    store.write([room_msg(1, "a", room="#One"), room_msg(2, "b", room="#TWO")], [])
    assert texts(store.room_page("#one", 10, None).messages) == ["a"]
    assert texts(store.room_page("#two", 10, None).messages) == ["b"]


def test_private_messages_are_visible_only_to_their_two(store: HistoryStore) -> None:
    store.write(
        [dm(1, "Ali", "Veli", "selam"), dm(2, "veli", "ali", "aleyküm"), dm(3, "Ali", "Can", "x")],
        [],
    )
    assert texts(store.private_page("ali", "veli", 10, None).messages) == ["selam", "aleyküm"]
    assert texts(store.private_page("veli", "ali", 10, None).messages) == ["selam", "aleyküm"]
    assert texts(store.private_page("can", "veli", 10, None).messages) == []
    assert store.room_page("ali", 10, None).messages == []


def test_load_resumes_the_last_id_and_topics(store: HistoryStore) -> None:
    topic = Topic("#dev", "#Dev", "sürüm günü", "Ayşe", NOW)
    store.write([room_msg(41, "x"), dm(42, "a", "b", "y")], [topic])
    saved = store.load()
    assert saved.last_id == 42
    assert saved.topics == {"#dev": topic}


def test_retention_by_count_keeps_the_newest_per_room(store: HistoryStore) -> None:
    store.write([room_msg(i, f"d{i}") for i in range(1, 11)], [])
    store.write([room_msg(i, f"o{i}", room="#ops") for i in range(11, 14)], [])
    removed = store.prune(Retention(messages=4), NOW)
    assert removed == 6
    assert texts(store.room_page("#dev", 50, None).messages) == ["d7", "d8", "d9", "d10"]
    assert len(store.room_page("#ops", 50, None).messages) == 3


def test_retention_by_age(store: HistoryStore) -> None:
    old = NOW - timedelta(days=10)
    store.write([room_msg(1, "old", time=old), room_msg(2, "new")], [])
    assert store.prune(Retention(days=7), NOW) == 1
    assert texts(store.room_page("#dev", 50, None).messages) == ["new"]


@pytest.mark.parametrize("count", [1, 7, 300, 513])
def test_a_large_group_is_written_whole_and_in_order(store: HistoryStore, count: int) -> None:
    # Sizes that are not powers of two: the SQLite store writes a group in statements
    # of 256, 128, ... rows.
    group = [
        room_msg(i, f"m{i}") if i % 3 else dm(i, "Ayşe", "Bora", f"m{i}")
        for i in range(1, count + 1)
    ]
    store.write(group, [])
    rooms = store.room_page("#dev", 200, None)
    private = store.private_page("ayşe", "bora", 200, None)
    expected_room = [f"m{i}" for i in range(1, count + 1) if i % 3]
    expected_private = [f"m{i}" for i in range(1, count + 1) if not i % 3]
    assert texts(rooms.messages) == expected_room[-200:]
    assert texts(private.messages) == expected_private[-200:]
    assert store.load().last_id == count


def test_private_pages_start_where_the_reader_took_the_nickname(store: HistoryStore) -> None:
    store.write([dm(n, "ali", "veli", f"d{n}") for n in range(1, 7)], [])
    page = store.private_page("veli", "ali", 10, None, after=4)
    assert texts(page.messages) == ["d4", "d5", "d6"] and not page.more
    assert texts(store.private_page("veli", "ali", 2, None, after=2).messages) == ["d5", "d6"]
    assert store.private_page("veli", "ali", 10, None, after=7).messages == []
