"""History search, run against every backend, and the SQLite index kept in step."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soketler.core.archive import Retention
from soketler.protocols.events import ChatMessage
from soketler.protocols.query import parse_query
from soketler.store.base import HistoryStore
from soketler.store.memory import MemoryStore
from soketler.store.sqlite import MIGRATIONS, SqliteStore
from tests.store.test_contract import NOW, dm, make_store, room_msg, texts


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    backend = make_store(request, tmp_path)
    backend.load()
    yield backend
    backend.close()


def search(store: HistoryStore, text: str, viewer: str = "ayşe", **kw: object) -> list[str]:
    rooms = kw.pop("rooms", None)
    limit = kw.pop("limit", 50)
    before = kw.pop("before", None)
    page = store.search(parse_query(text), viewer, rooms, limit, before, **kw)  # type: ignore[arg-type]
    return texts(page.messages)


def test_words_ignore_case_and_accents_and_must_all_occur(store: HistoryStore) -> None:
    store.write(
        [
            room_msg(1, "Sürüm günü geldi"),
            room_msg(2, "surum notes are out"),
            room_msg(3, "günü kurtardık"),
        ],
        [],
    )
    assert search(store, "SURUM") == ["Sürüm günü geldi", "surum notes are out"]
    assert search(store, "sürüm günü") == ["Sürüm günü geldi"]
    assert search(store, '"günü geldi"') == ["Sürüm günü geldi"]
    assert search(store, '"geldi günü"') == []
    assert search(store, "gün*") == ["Sürüm günü geldi", "günü kurtardık"]
    assert search(store, "gün") == []


def test_filters_by_sender_room_and_dates(store: HistoryStore) -> None:
    day = timedelta(days=1)
    store.write(
        [
            room_msg(1, "deploy one", sender="Bora", time=NOW - 3 * day),
            room_msg(2, "deploy two", sender="Ayşe", room="#ops", time=NOW - day),
            room_msg(3, "deploy three", sender="BORA", room="#OPS", time=NOW),
        ],
        [],
    )
    assert search(store, "deploy from:bora") == ["deploy one", "deploy three"]
    assert search(store, "in:#ops") == ["deploy two", "deploy three"]
    assert search(store, "deploy in:ops from:Bora") == ["deploy three"]
    today = NOW.date()
    assert search(store, f"deploy before:{today}") == ["deploy one", "deploy two"]
    assert search(store, f"deploy after:{today - 2 * day}") == ["deploy two", "deploy three"]
    assert search(store, f"after:{today - 2 * day} before:{today}") == ["deploy two"]


def test_dates_are_days_in_the_zone_asked_for(store: HistoryStore) -> None:
    late = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # already the 24th in Istanbul
    store.write([room_msg(1, "gece yarısı", time=late)], [])
    assert search(store, "after:2026-11-23") == []
    assert search(store, "after:2026-11-23", tz=timezone(timedelta(hours=3))) == ["gece yarısı"]


def test_private_messages_are_found_only_by_their_two(store: HistoryStore) -> None:
    store.write(
        [dm(1, "Ayşe", "Bora", "gizli plan"), dm(2, "Can", "Bora", "gizli başka plan")],
        [],
    )
    assert search(store, "plan", viewer="ayşe") == ["gizli plan"]
    assert search(store, "plan", viewer="bora") == ["gizli plan", "gizli başka plan"]
    assert search(store, "plan", viewer="can") == ["gizli başka plan"]
    assert search(store, "plan", viewer="dilek") == []
    assert search(store, "plan in:#dev", viewer="bora") == []  # in: means a room only


def test_private_messages_said_before_the_viewer_took_its_nickname_are_not_found(
    store: HistoryStore,
) -> None:
    # An earlier holder of "bora" had private talks; whoever is "bora" from message 3 on
    # reads only what was said to it since, as its private history pages do.
    store.write(
        [
            dm(1, "Ayşe", "Bora", "şifre 1234"),
            dm(2, "Bora", "Can", "şifre mi, neyin şifresi"),
            room_msg(3, "şifre odada", room="#open", sender="Can"),
            dm(4, "Ayşe", "Bora", "yeni şifre"),
        ],
        [],
    )
    assert search(store, "şifre", viewer="bora") == [
        "şifre 1234",
        "şifre mi, neyin şifresi",
        "şifre odada",
        "yeni şifre",
    ]
    assert search(store, "şifre", viewer="bora", private_after=3) == ["şifre odada", "yeni şifre"]
    assert search(store, "şifre from:ayşe", viewer="bora", private_after=4) == ["yeni şifre"]
    assert search(store, "şifre", viewer="bora", private_after=5) == ["şifre odada"]
    # Room messages are the room's, whoever reads them: the bound is for private ones.
    assert search(store, "odada", viewer="bora", private_after=99) == ["şifre odada"]


def test_rooms_the_viewer_may_not_read_are_left_out(store: HistoryStore) -> None:
    store.write([room_msg(1, "x", room="#open"), room_msg(2, "x", room="#secret")], [])
    assert search(store, "x", rooms={"#open"}) == ["x"]
    assert search(store, "x", rooms=set()) == []
    assert search(store, "x in:#secret", rooms={"#open"}) == []
    assert len(search(store, "x")) == 2


def test_results_page_back_from_the_newest(store: HistoryStore) -> None:
    store.write([room_msg(i, f"match {i}" if i % 2 else f"other {i}") for i in range(1, 31)], [])
    query = parse_query("match")
    first = store.search(query, "ayşe", None, 5, None)
    assert texts(first.messages) == [f"match {i}" for i in (21, 23, 25, 27, 29)] and first.more
    second = store.search(query, "ayşe", None, 10, first.messages[0].id)
    assert texts(second.messages) == [f"match {i}" for i in (1, 3, 5, 7, 9, 11, 13, 15, 17, 19)]
    assert not second.more
    assert all(m.history for m in first.messages)


def test_pruned_messages_are_no_longer_found(store: HistoryStore) -> None:
    store.write([room_msg(i, f"eski {i}") for i in range(1, 6)], [])
    store.prune(Retention(messages=2), NOW)
    assert search(store, "eski") == ["eski 4", "eski 5"]


def test_search_text_is_never_fts_syntax(store: HistoryStore) -> None:
    # Words such as NOT, OR, NEAR and a column filter mean nothing special to a search.
    store.write([room_msg(1, "NOT text: OR NEAR(a b)"), room_msg(2, "text only")], [])
    assert search(store, "NOT OR") == ["NOT text: OR NEAR(a b)"]
    assert search(store, "text:") == ["NOT text: OR NEAR(a b)", "text only"]
    assert search(store, "near* a") == ["NOT text: OR NEAR(a b)"]


# --- the SQLite index ----------------------------------------------------------------


def test_an_older_database_gets_its_messages_indexed(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(MIGRATIONS[0] + MIGRATIONS[1])
    db.execute("PRAGMA user_version = 2")
    db.execute(
        "INSERT INTO messages (id, time_ms, room_key, room, sender, sender_key, text) "
        "VALUES (5, 1700000000000, '#dev', '#dev', 'eski', 'eski', 'sürüm notları')"
    )
    db.close()
    store = SqliteStore(str(path))
    store.load()
    assert search(store, "surum") == ["sürüm notları"]
    store.close()


def test_an_edited_message_is_found_by_its_new_text(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "h.db"))
    store.load()
    store.write([room_msg(1, "yanlış")], [])
    store.close()
    db = sqlite3.connect(tmp_path / "h.db", isolation_level=None)
    db.execute("UPDATE messages SET text = 'doğru' WHERE id = 1")
    db.close()
    store = SqliteStore(str(tmp_path / "h.db"))
    assert search(store, "yanlış") == [] and search(store, "dogru") == ["doğru"]
    store.close()


# Memory and SQLite must agree on any conversation and any query over an alphabet of
# Latin letters with the accents Turkish, French and German use.
letters = "abcçegğiıosşuüéAÇEĞİOŞÜ"
text_st = st.text(st.sampled_from(letters + " .,-"), max_size=30)
word_st = st.text(st.sampled_from(letters), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=st.lists(
        st.tuples(st.sampled_from(["#a", "#B", None]), st.sampled_from(["ali", "Veli"]), text_st),
        max_size=25,
    ),
    words=st.lists(word_st, min_size=1, max_size=2),
    prefix=st.booleans(),
    sender=st.sampled_from(["", " from:ali", " from:VELI"]),
)
def test_memory_and_sqlite_find_the_same(
    tmp_path_factory: pytest.TempPathFactory,
    messages: list[tuple[str | None, str, str]],
    words: list[str],
    prefix: bool,
    sender: str,
) -> None:
    batch = []
    for mid, (room, who, text) in enumerate(messages, start=1):
        other = "veli" if who == "ali" else "ali"
        batch.append(ChatMessage(mid, NOW, who, text, room=room, to=None if room else other))
    text = " ".join(words) + ("*" if prefix else "") + sender
    query = parse_query(text)
    found = []
    for backend in (MemoryStore(), SqliteStore(str(tmp_path_factory.mktemp("s") / "h.db"))):
        backend.load()
        backend.write(batch, [])
        found.append([m.id for m in backend.search(query, "ali", None, 100, None).messages])
        backend.close()
    assert found[0] == found[1]
