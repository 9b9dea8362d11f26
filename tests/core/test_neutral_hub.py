"""The hub with no door's policy at all: typed events in, typed events out.

A session here registers and is put in no room, joins and parts as it likes (its last
room too), and gets data, not sentences: the codec below records the events each
reader was given, so the tests see exactly what a door would render.
"""

from __future__ import annotations

from collections.abc import Callable

from soketler.core.archive import Page, Paged, Stored, Topic
from soketler.core.hub import Hub
from soketler.core.session import OPERATOR, Session, SessionState
from soketler.protocols import codes, names
from soketler.protocols.events import (
    ChatMessage,
    Codec,
    Error,
    HistoryPage,
    Joined,
    Members,
    NickChanged,
    Parted,
    Pong,
    Quit,
    Reader,
    ServerEvent,
    TopicReply,
    View,
)
from tests.core.fakes import FakePeer, fixed_clock


class RecordingCodec(Codec):
    """One per reader, so what it was asked to encode is what that reader got."""

    name = "recording"

    def __init__(self) -> None:
        self.events: list[ServerEvent] = []

    def encode(self, event: ServerEvent, view: View = View.HERE) -> bytes:
        self.events.append(event)
        return b"."

    def reply(self, event: ServerEvent, reader: Reader, view: View = View.HERE) -> bytes:
        return self.encode(event, view)

    def take(self) -> list[ServerEvent]:
        events, self.events = self.events, []
        return events


def person(hub: Hub, nick: str) -> tuple[Session, RecordingCodec]:
    codec = RecordingCodec()
    session = hub.open(FakePeer(), "127.0.0.5", "test", codec)
    assert session.state is SessionState.REGISTERING
    assert hub.register(session, nick)
    return session, codec


def test_registering_puts_nobody_anywhere_and_says_no_words() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, heard = person(hub, "Ayşe")
    assert ayse.state is SessionState.REGISTERED and ayse.registered
    assert ayse.rooms == {} and ayse.user == "Ayşe" and ayse.host == "127.0.0.5"
    assert heard.take() == []  # no greeting, no welcome, no lobby: that is a door's


def test_join_and_part_every_room_including_the_last() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, heard = person(hub, "ayse")
    room = hub.join(ayse, "dev")
    assert room is not None and room.name == "#dev"
    joined, members = heard.take()
    assert joined == Joined(fixed_clock(), "#dev", "ayse", "ayse", "127.0.0.5")
    assert isinstance(members, Members) and members.joining
    [me] = members.members
    assert (me.nick, me.status, me.host) == ("ayse", OPERATOR, "127.0.0.5")  # the maker
    assert hub.join(ayse, "#DEV") is room and heard.take() == []  # already in: nothing
    hub.part(ayse, room, "bye")
    assert heard.take() == [
        Parted(fixed_clock(), "#dev", "ayse", "bye", "ayse", "127.0.0.5"),
    ]
    assert ayse.rooms == {} and len(hub.rooms) == 0


def test_refusals_are_codes_with_their_subject() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, heard = person(hub, "ayse")
    bob, _ = person(hub, "bob")
    assert hub.join(ayse, "#a b", re=1) is None
    assert not hub.rename(ayse, "BOB", re=2)
    assert hub.find_room(ayse, "#nowhere", re=3) is None
    stranger = hub.open(FakePeer(), "", "test", RecordingCodec())
    assert not hub.register(stranger, "9lives", re=4)
    assert heard.take() == [
        Error(codes.ROOM_INVALID, re=1, subject="#a b", detail=names.BAD_CHARACTER),
        Error(codes.NICK_TAKEN, re=2, subject="BOB"),
        Error(codes.NOT_IN_ROOM, re=3, subject="#nowhere"),
    ]
    [refused] = stranger.codec.take()  # type: ignore[attr-defined]
    assert refused == Error(
        codes.NICK_INVALID, re=4, subject="9lives", detail=names.BAD_START, prompt=True
    )
    assert bob.nick == "bob"


def test_nick_changes_and_quits_reach_each_roommate_once() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, ayse_heard = person(hub, "ayse")
    bob, bob_heard = person(hub, "bob")
    loner, loner_heard = person(hub, "loner")
    for name in ("#a", "#b"):
        hub.join(ayse, name)
        hub.join(bob, name)
    for heard in (ayse_heard, bob_heard):
        heard.take()
    assert hub.rename(ayse, "ayşe")
    changed = NickChanged(fixed_clock(), "ayse", "ayşe", "ayse", "127.0.0.5")
    assert ayse_heard.take() == [changed]
    assert bob_heard.take() == [changed]  # once, though they share two rooms
    assert hub.rename(loner, "alone") and loner_heard.take()[0].new == "alone"  # type: ignore[union-attr]
    hub.close(ayse, "gone")
    assert bob_heard.take() == [Quit(fixed_clock(), "ayşe", "gone", "ayse", "127.0.0.5")]
    assert ayse.state is SessionState.CLOSING and hub.find_session("ayşe") is None


def test_topics_members_and_history_are_typed_replies() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, heard = person(hub, "ayse")
    room = hub.join(ayse, "#dev")
    assert room is not None
    hub.set_topic(ayse, room, "release day")
    hub.topic(ayse, room, re="t")
    hub.room_history(ayse, room, 10, None, re="h")
    events = heard.take()[2:]
    assert events[1] == TopicReply("#dev", "release day", "ayse", "t")
    page = events[2]
    assert isinstance(page, HistoryPage) and page.messages == () and page.end.re == "h"


class CommitByHand:
    """An archive whose commits the test releases one by one, in any order."""

    def __init__(self) -> None:
        self.waiting: dict[str, Callable[[], None]] = {}

    def append(self, message: ChatMessage, done: Stored) -> None:
        self.waiting[message.text] = lambda: done(None)

    def save_topic(self, topic: Topic) -> None:
        pass

    def room_page(self, room_key: str, limit: int, before: int | None, done: Paged) -> None:
        done(Page([], False))

    def private_page(
        self, key_a: str, key_b: str, limit: int, before: int | None, after: int, done: Paged
    ) -> None:
        done(Page([], False))

    def commit(self, text: str) -> None:
        self.waiting.pop(text)()


def said(events: list[ServerEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, ChatMessage)]


def test_a_commit_held_in_one_room_delays_nobody_in_another() -> None:
    archive = CommitByHand()
    hub = Hub("test", clock=fixed_clock, archive=archive)
    ayse, ayse_heard = person(hub, "ayse")
    bob, bob_heard = person(hub, "bob")
    room_a, room_b = hub.join(ayse, "#a"), hub.join(bob, "#b")
    hub.join(ayse, "#b")
    assert room_a is not None and room_b is not None
    for heard in (ayse_heard, bob_heard):
        heard.take()
    hub.say(ayse, room_a, "slow disk in #a")
    hub.say(bob, room_b, "quick in #b")
    hub.join(bob, "#a")  # waits behind the message in #a
    archive.commit("quick in #b")
    assert said(ayse_heard.take()) == ["quick in #b"]
    assert said(bob_heard.take()) == ["quick in #b"]  # #b did not wait for #a
    archive.commit("slow disk in #a")
    assert said(ayse_heard.take()) == ["slow disk in #a"]
    # bob joined #a after the message was said: he is told of his join, not given it.
    assert [type(e).__name__ for e in bob_heard.take()] == ["Joined", "Members"]


def test_order_within_a_room_is_the_same_for_every_member() -> None:
    archive = CommitByHand()
    hub = Hub("test", clock=fixed_clock, archive=archive)
    people = [person(hub, f"p{n}") for n in range(4)]
    room = None
    for session, heard in people:
        room = hub.join(session, "#r")
        heard.take()
    assert room is not None
    for n in range(12):
        session, _ = people[n % 4]
        hub.say(session, room, f"m{n}")
    hub.part(people[3][0], room)  # between messages: after m0..m11 for everyone
    for n in (5, 2, 11, 0, 1, 3, 4, 6, 7, 8, 9, 10):  # the store answers out of order
        archive.commit(f"m{n}")
    orders = [said(heard.take()) for _, heard in people]
    assert orders[0] == [f"m{n}" for n in range(12)]
    assert all(order == orders[0] for order in orders)


def test_a_reply_comes_after_what_was_said_to_the_reader_before_it() -> None:
    archive = CommitByHand()
    hub = Hub("test", clock=fixed_clock, archive=archive)
    ayse, _ = person(hub, "ayse")
    bob, bob_heard = person(hub, "bob")
    outsider, outsider_heard = person(hub, "outsider")
    room = hub.join(ayse, "#a")
    hub.join(bob, "#a")
    assert room is not None
    bob_heard.take()
    hub.say(ayse, room, "said before the ping")
    hub.private(ayse, bob, "a private word")
    hub.send(bob, Pong("sync"))
    hub.send(outsider, Pong("free"))
    assert outsider_heard.take() == [Pong("free")]  # it waits for nothing of its own
    assert bob_heard.take() == []
    archive.commit("said before the ping")
    assert said(bob_heard.take()) == ["said before the ping"]  # the pong still waits
    archive.commit("a private word")
    events = bob_heard.take()
    assert said(events) == ["a private word"] and events[-1] == Pong("sync")


def test_one_senders_messages_to_a_room_and_a_person_arrive_in_the_order_said() -> None:
    archive = CommitByHand()
    hub = Hub("test", clock=fixed_clock, archive=archive)
    deferred: list[Callable[[], object]] = []
    hub.defer = deferred.append
    ayse, _ = person(hub, "ayse")
    bob, bob_heard = person(hub, "bob")
    room = hub.join(ayse, "#ops")
    hub.join(bob, "#ops")
    assert room is not None
    bob_heard.take()
    hub.say(ayse, room, "one")
    hub.private(ayse, bob, "two")
    hub.say(ayse, room, "three")
    for text in ("three", "two", "one"):  # the store answers in one go, any order
        archive.commit(text)
    while deferred:
        deferred.pop(0)()
    assert said(bob_heard.take()) == ["one", "two", "three"]
