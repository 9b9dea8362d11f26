"""History in the hub: replay, paging, privacy, order, and refusing what cannot be stored."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from soketler.core.archive import Page, Paged, Stored, Topic
from soketler.core.hub import Hub
from soketler.protocols.events import ChatMessage
from soketler.store.archive import ImmediateArchive
from soketler.store.memory import MemoryStore
from tests.core.fakes import HHMM, Person, fixed_clock

DAY = fixed_clock().astimezone().strftime("%Y-%m-%d")


@pytest.fixture
def hub() -> Hub:
    hub = Hub("test", clock=fixed_clock, replay=3)
    store = MemoryStore()
    hub.resume(ImmediateArchive(store), store.load())
    return hub


def test_joining_replays_the_last_messages_marked_as_history(hub: Hub) -> None:
    a = Person(hub, "a")
    for n in range(5):
        a.type(f"mesaj {n}")
    b = Person(hub)
    b.type("b")
    lines = b.lines()
    assert lines[-4:] == [
        f"{DAY} {HHMM} <a> mesaj 2",
        f"{DAY} {HHMM} <a> mesaj 3",
        f"{DAY} {HHMM} <a> mesaj 4",
        "-- End of history of #lobby (3 messages). Older: /history #lobby before 3.",
    ]


def test_history_pages_backwards_in_json(hub: Hub) -> None:
    a = Person(hub, "a", json_lines=True)
    for n in range(6):
        a.send({"type": "message", "text": f"m{n}"})
    ids = [o["id"] for o in a.objects()]
    a.send({"type": "history", "limit": 2, "before": ids[3], "id": "h"})
    *messages, end = a.objects()
    assert [m["text"] for m in messages] == ["m1", "m2"]
    assert all(m["history"] for m in messages)
    assert end == {
        "type": "history",
        "count": 2,
        "more": True,
        "room": "#lobby",
        "re": "h",
        "oldest": ids[1],
    }


def test_plain_history_commands(hub: Hub) -> None:
    a = Person(hub, "a")
    for n in range(4):
        a.type(f"x{n}")
    a.take()
    a.type("/history 2")
    assert a.lines() == [
        f"{DAY} {HHMM} <a> x2",
        f"{DAY} {HHMM} <a> x3",
        "-- End of history of #lobby (2 messages). Older: /history #lobby before 3.",
    ]
    # The hint is the command that shows the rest, as it is written.
    a.type("/history #lobby before 3")
    assert a.lines() == [
        f"{DAY} {HHMM} <a> x0",
        f"{DAY} {HHMM} <a> x1",
        "-- End of history of #lobby (2 messages).",
    ]
    a.type("/history before soon")
    assert a.lines() == ["!! Usage: /history [#room | NICK] [N | before ID]"]


def test_private_history_is_only_for_the_two(hub: Hub) -> None:
    a, b, c = Person(hub, "a"), Person(hub, "b"), Person(hub, "c")
    a.type("/msg b gizli")
    b.type("/msg a tamam")
    for p in (a, b, c):
        p.take()
    a.type("/history b")
    assert a.lines() == [
        f"{DAY} {HHMM} -> *b* gizli",
        f"{DAY} {HHMM} *b* tamam",
        "-- End of history of your messages with b (2 messages).",
    ]
    c.type("/history a")
    assert c.lines() == ["-- End of history of your messages with a (0 messages)."]
    c.type("/history b")
    assert "gizli" not in c.text()


class SlowArchive:
    """An archive whose commits finish only when the test says so."""

    def __init__(self) -> None:
        self.waiting: list[Callable[[], None]] = []
        self.store = MemoryStore()

    def append(self, message: ChatMessage, done: Stored) -> None:
        self.waiting.append(lambda: (self.store.write([message], []), done(None))[1])

    def save_topic(self, topic: Topic) -> None:
        pass

    def room_page(self, room_key: str, limit: int, before: int | None, done: Paged) -> None:
        done(self.store.room_page(room_key, limit, before))

    def private_page(
        self, key_a: str, key_b: str, limit: int, before: int | None, done: Paged
    ) -> None:
        done(Page([], False))

    def commit_all(self) -> None:
        waiting, self.waiting = self.waiting, []
        for finish in waiting:
            finish()


def over(archive: SlowArchive) -> Hub:
    """A hub over an archive the test drives, without replay."""
    hub = Hub("test", clock=fixed_clock, replay=0)
    hub.resume(archive, archive.store.load())
    return hub


class Deferred:
    """Stands in for the event loop's call_soon: holds what the hub defers."""

    def __init__(self, hub: Hub) -> None:
        self.waiting: list[Callable[[], None]] = []
        hub.defer = self.waiting.append

    def run(self) -> None:
        """Runs everything deferred, and whatever that defers in turn."""
        while self.waiting:
            self.waiting.pop(0)()


def test_nobody_sees_a_message_before_it_is_stored_and_order_holds() -> None:
    archive = SlowArchive()
    hub = over(archive)
    a, b = Person(hub, "a"), Person(hub, "b")
    a.take()
    b.type("son sözüm")
    b.type("/quit")
    assert a.lines() == []  # the message waits for the store, and the quit waits behind it
    archive.commit_all()
    assert a.lines() == [f"{HHMM} <b> son sözüm", f"{HHMM} -- b quit (Quit)"]
    assert b.peer.closed == "Quit"
    assert b.lines() == [f"{HHMM} <b> son sözüm", "-- Goodbye (Quit)"]


class FailingArchive(SlowArchive):
    def append(self, message: ChatMessage, done: Stored) -> None:
        done("disk full")


def test_what_cannot_be_stored_is_never_delivered_and_the_sender_is_told() -> None:
    archive = FailingArchive()
    hub = over(archive)
    a, b = Person(hub, "a"), Person(hub, "b")
    a.take()
    b.type("kaybolmasın")
    assert b.lines() == ["!! Not sent: the history store failed (disk full)."]
    assert a.lines() == []
    b.type("/msg a ikinci")
    assert "history store failed" in b.text()
    assert a.lines() == []


def test_topics_come_back_when_a_room_is_made_again(hub: Hub) -> None:
    a = Person(hub, "a")
    a.type("/join #çay")
    a.type("/topic demlik hazır")
    a.type("/part")
    assert "#çay" not in hub.rooms.by_key
    a.take()
    a.type("/join #ÇAY")
    lines = a.lines()
    assert lines[lines.index("-- #çay (1): a") + 1] == "-- Topic: demlik hazır"


def test_shutdown_says_goodbye_even_while_messages_wait_for_the_store() -> None:
    archive = SlowArchive()
    hub = over(archive)
    a, b = Person(hub, "a"), Person(hub, "b")
    a.take()
    b.type("not stored yet")
    hub.shutdown()
    assert a.lines() == ["-- Goodbye (Server shutting down)"]
    assert a.peer.closed == "Server shutting down"


def test_messages_stored_together_reach_each_member_in_one_write() -> None:
    archive = SlowArchive()
    hub = over(archive)
    deferred = Deferred(hub)
    a, b = Person(hub, "a"), Person(hub, "b")
    a.take()
    b.take()
    for text in ("bir", "iki", "üç"):
        b.type(text)
    archive.commit_all()  # one commit for the three
    assert a.lines() == []  # delivered once the commit's callback is over
    writes = a.peer.writes
    deferred.run()
    assert a.peer.writes == writes + 1
    assert a.lines() == [f"{HHMM} <b> bir", f"{HHMM} <b> iki", f"{HHMM} <b> üç"]
    assert b.lines() == [f"{HHMM} <b> bir", f"{HHMM} <b> iki", f"{HHMM} <b> üç"]


def test_a_join_between_messages_stored_together_keeps_who_saw_what() -> None:
    archive = SlowArchive()
    hub = over(archive)
    deferred = Deferred(hub)
    a, b = Person(hub, "a"), Person(hub, "b")
    a.take()
    b.type("önce")
    c = Person(hub, "c")  # joins while "önce" waits for the store
    b.type("sonra")
    archive.commit_all()
    deferred.run()
    assert a.lines() == [f"{HHMM} <b> önce", f"{HHMM} -- c joined #lobby", f"{HHMM} <b> sonra"]
    seen_by_c = c.lines()
    assert f"{HHMM} <b> sonra" in seen_by_c
    assert f"{HHMM} <b> önce" not in seen_by_c  # said before c was there


def test_one_message_of_history_is_one_message(hub: Hub) -> None:
    a = Person(hub, "a")
    a.type("tek")
    a.take()
    a.type("/history")
    assert a.lines()[-1] == "-- End of history of #lobby (1 message)."
