"""Search through the hub and the lines door, without sockets: what a session may find,
how each flavour words it, and what is refused."""

from __future__ import annotations

import pytest

from soketler.core.hub import Hub
from soketler.store.archive import ImmediateArchive
from soketler.store.memory import MemoryStore
from tests.core.fakes import HHMM, Person, fixed_clock

DAY = fixed_clock().astimezone().strftime("%Y-%m-%d")


@pytest.fixture
def hub() -> Hub:
    hub = Hub("test", clock=fixed_clock, replay=0)
    store = MemoryStore()
    hub.resume(ImmediateArchive(store), store.load())
    return hub


def test_a_search_finds_messages_of_ones_rooms_in_order_with_their_room(hub: Hub) -> None:
    ayse, bora = Person(hub, "ayşe"), Person(hub, "bora")
    bora.type("/join #ops")
    bora.type("deploy tonight")
    ayse.type("deploy done in the lobby")
    bora.type("/join #lobby")
    bora.type("deploy?")
    bora.take()
    bora.type("/search deploy")
    assert bora.lines() == [
        f"{DAY} {HHMM} [#ops] <bora> deploy tonight",
        f"{DAY} {HHMM} [#lobby] <ayşe> deploy done in the lobby",
        f"{DAY} {HHMM} [#lobby] <bora> deploy?",
        '-- 3 messages found for "deploy".',
    ]
    # #ops is not ayşe's room: its messages are not hers to find.
    ayse.take()
    ayse.type("/search deploy")
    assert ayse.lines()[-1] == '-- 2 messages found for "deploy".'


def test_older_matches_are_one_command_away(hub: Hub) -> None:
    ayse = Person(hub, "ayşe")
    for n in range(25):
        ayse.type(f"release {n}")
    ayse.take()
    ayse.type("/search release")
    lines = ayse.lines()
    assert len(lines) == 21 and lines[0].endswith("<ayşe> release 5")
    assert lines[-1] == '-- 20 messages found for "release". Older: /search before 6 release.'
    ayse.type("/search before 6 release")
    lines = ayse.lines()
    assert [line.rsplit(" ", 1)[1] for line in lines[:-1]] == [str(n) for n in range(5)]
    assert lines[-1] == '-- 5 messages found for "release".'
    ayse.type("/search before the release")  # "before" followed by words is searched for
    assert ayse.lines() == ['-- No messages found for "before the release".']


def test_a_guest_does_not_find_what_was_said_privately_to_an_earlier_holder(hub: Hub) -> None:
    ayse, bora = Person(hub, "ayşe"), Person(hub, "bora")
    ayse.type("/msg bora şifre 1234")
    bora.type("/quit")
    guest = Person(hub, "bora")  # someone else takes the nickname
    ayse.type("/msg bora yeni şifre")
    ayse.take()
    guest.take()
    guest.type("/search şifre")
    lines = guest.lines()
    assert lines == [f"{DAY} {HHMM} *ayşe* yeni şifre", '-- 1 message found for "şifre".']
    # The one who said both finds both, her own shown as sent.
    ayse.type("/search şifre")
    assert ayse.lines() == [
        f"{DAY} {HHMM} -> *bora* şifre 1234",
        f"{DAY} {HHMM} -> *bora* yeni şifre",
        '-- 2 messages found for "şifre".',
    ]


def test_json_search_gives_found_messages_then_the_end(hub: Hub) -> None:
    ayse = Person(hub, "ayşe", json_lines=True)
    for text in ("kahve?", "çay", "KAHVE var"):
        ayse.send({"type": "message", "text": text})
    ids = [o["id"] for o in ayse.objects()]
    ayse.send({"type": "search", "q": "kahve", "limit": 1, "id": 9})
    *found, end = ayse.objects()
    assert [(m["text"], m["history"], m["search"], m["re"]) for m in found] == [
        ("KAHVE var", True, True, 9)
    ]
    assert end == {
        "type": "search",
        "count": 1,
        "more": True,
        "q": "kahve",
        "oldest": ids[2],
        "re": 9,
    }
    ayse.send({"type": "search", "q": "kahve", "before": ids[2], "id": 10})
    *found, end = ayse.objects()
    assert [m["text"] for m in found] == ["kahve?"] and end["more"] is False


def test_dates_are_days_in_the_zone_a_program_gives(hub: Hub) -> None:
    # The fixed clock says 20:15 UTC: already the next day at UTC+4.
    ayse = Person(hub, "ayşe", json_lines=True)
    ayse.send({"type": "message", "text": "gece"})
    day = "2026-11-23"
    ayse.objects()
    ayse.send({"type": "search", "q": f"gece after:{day}"})
    assert ayse.objects()[-1]["count"] == 0
    ayse.send({"type": "search", "q": f"gece after:{day}", "tz": 240})
    assert ayse.objects()[-1]["count"] == 1
    ayse.send({"type": "search", "q": "gece", "tz": 5000, "id": 3})
    error = ayse.objects()[-1]
    assert error["code"] == "bad-request" and "minutes east of UTC" in error["text"]


def test_a_search_that_cannot_be_run_says_why(hub: Hub) -> None:
    ayse = Person(hub, "ayşe", json_lines=True)
    ayse.send({"type": "search", "q": "from:a from:b", "id": 1})
    assert ayse.objects() == [
        {
            "type": "error",
            "code": "bad-query",
            "text": "Cannot search: from: may appear once in a search.",
            "re": 1,
        }
    ]
    ayse.send({"type": "search", "q": "x in:#elsewhere", "id": 2})
    assert ayse.objects()[0]["code"] == "not-in-room"
    ayse.send({"type": "search", "id": 3})
    assert ayse.objects()[0]["code"] == "bad-request"
    plain = Person(hub, "bora")
    plain.type("/search")
    assert plain.lines() == ["!! Usage: /search [before ID] text"]
    plain.type('/search "unclosed')
    assert plain.lines() == ["!! Cannot search: A quoted phrase is missing its closing quote."]


def test_a_search_comes_after_what_was_said_before_it_and_sees_it(hub: Hub) -> None:
    """The archive's answer is the hub's reply: the page lists what was stored when
    asked, and arrives after it (a search is about no stream, so it waits for all the
    reader's streams)."""
    ayse = Person(hub, "ayşe")
    ayse.type("önce")
    ayse.take()
    ayse.type("/search önce")
    lines = ayse.lines()
    assert lines == [f"{DAY} {HHMM} [#lobby] <ayşe> önce", '-- 1 message found for "önce".']


def test_the_hub_caps_a_page_and_bounds_it_by_the_newest_id() -> None:
    asked: list[tuple[int, int | None, int]] = []

    class Recording(ImmediateArchive):
        def search(self, query, viewer_key, rooms, limit, before, private_after, tz, done):  # type: ignore[no-untyped-def]
            asked.append((limit, before, private_after))
            super().search(query, viewer_key, rooms, limit, before, private_after, tz, done)

    hub = Hub("test", clock=fixed_clock)
    store = MemoryStore()
    hub.resume(Recording(store), store.load())
    ayse = Person(hub, "ayşe")
    ayse.type("bir")
    ayse.session.nick_since = 1
    hub.search(ayse.session, "bir", 5000, before=10**9)
    hub.search(ayse.session, "bir", 0)
    assert asked == [(100, hub.next_id, 1), (1, hub.next_id, 1)]
