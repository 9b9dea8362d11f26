"""Pages of a Redis history jump over runs of events without a message that earlier
pages read: the same messages as reading everything, at a fraction of the reads."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soketler.cluster import cursors, entries
from soketler.cluster.keys import KeyLayout
from soketler.protocols.events import Joined
from soketler.store.redis import RedisStore
from tests.store.test_redis import NOW, msg

LAYOUT = KeyLayout()
ROOMS = itertools.count()


class Counted:
    """The store's client, counting the entries its XREVRANGE calls return."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.entries = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def xrevrange(self, *args: Any, **kwargs: Any) -> Any:
        found = self.client.xrevrange(*args, **kwargs)
        self.entries += len(found)
        return found


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def store(redis_url: str) -> Iterator[RedisStore]:
    backend = RedisStore(redis_url)
    backend.load()
    yield backend
    backend.close()


def counted(store: RedisStore) -> Counted:
    client = Counted(store._open())
    store._client = client  # type: ignore[assignment]
    return client


def add_joins(raw: redis.Redis, stream: str, room: str, count: int) -> None:
    pipe = raw.pipeline(transaction=False)
    for n in range(count):
        pipe.xadd(stream, entries.encode(Joined(NOW, room, f"user{n}")))
    pipe.execute()


def test_newcomers_to_a_room_many_joined_read_the_joins_once(
    store: RedisStore, raw: redis.Redis
) -> None:
    stream = LAYOUT.room_stream("#big")
    raw.xadd(stream, entries.encode(msg(0, "before everyone came", room="#big")))
    add_joins(raw, stream, "#big", 3_000)
    client = counted(store)
    first = store.room_page("#big", 20, None)
    assert [m.text for m in first.messages] == ["before everyone came"]
    assert client.entries >= 3_000  # the first page reads them all
    for newcomer in range(50):
        add_joins(raw, stream, "#big", 1)
        client.entries = 0
        page = store.room_page("#big", 20, None)
        assert [m.text for m in page.messages] == ["before everyone came"], newcomer
        assert client.entries <= 3  # the new join, and the message under the run
    # A message said now; joins after it; a page of two reaches back under the run.
    raw.xadd(stream, entries.encode(msg(0, "hello all", room="#big")))
    add_joins(raw, stream, "#big", 500)
    client.entries = 0
    page = store.room_page("#big", 2, None)
    assert [m.text for m in page.messages] == ["before everyone came", "hello all"]
    client.entries = 0
    again = store.room_page("#big", 2, None)
    assert again.messages == page.messages
    assert client.entries <= 4


# One room's life: messages, runs of joins, and pages read between them.
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("say"), st.integers(1, 3)),
        st.tuples(st.just("join"), st.integers(1, 60)),
        st.tuples(st.just("page"), st.integers(1, 6), st.booleans(), st.integers(0, 50)),
    ),
    max_size=25,
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS)
def test_pages_with_runs_remembered_are_the_pages_of_a_full_read(
    store: RedisStore, raw: redis.Redis, steps: list[tuple[int | str, ...]]
) -> None:
    room = f"#r{next(ROOMS)}"
    stream = LAYOUT.room_stream(room)
    said: list[tuple[int, str]] = []  # (cursor, text), oldest first
    for step in steps:
        if step[0] == "say":
            for _ in range(int(step[1])):
                text = f"m{len(said)}"
                entry_id = raw.xadd(stream, entries.encode(msg(0, text, room=room)))
                said.append((cursors.cursor(entry_id), text))
        elif step[0] == "join":
            add_joins(raw, stream, room, int(step[1]))
        else:
            limit, newest, where = int(step[1]), bool(step[2]), int(step[3])
            # From the newest, or before one of the messages (by position).
            before = None if newest or not said else said[where % len(said)][0]
            page = store.room_page(room, limit, before)
            older = [t for c, t in said if before is None or c < before]
            assert [m.text for m in page.messages] == older[-limit:]
            assert page.more == (len(older) > limit)
