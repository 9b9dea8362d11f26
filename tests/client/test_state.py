"""Membership, current room and unread counts follow the events alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from soketler.client.actions import showing
from soketler.client.events import (
    ChatMessage,
    Disconnected,
    Joined,
    Members,
    NickChanged,
    Parted,
    Quit,
    Reconnected,
    RoomInfo,
    RoomList,
    Welcome,
)
from soketler.client.render import Renderer, plain
from soketler.client.state import MAX_REMEMBERED, ChatState

T = datetime(2026, 11, 23, 20, 15, tzinfo=UTC)


def in_rooms(*rooms: str) -> ChatState:
    state = ChatState()
    state.apply(Welcome("Ayşe", "#lobby", "0.1.0"))
    for room in rooms:
        state.apply(Joined(T, room, "ayşe"))
    return state


def test_joining_makes_a_room_current_and_parting_falls_back() -> None:
    state = in_rooms("#dev", "#ops")
    assert state.rooms == ["#lobby", "#dev", "#ops"]
    assert state.current == "#ops"
    state.apply(Parted(T, "#OPS", "AYŞE", "bye"))  # names ignore case
    assert state.rooms == ["#lobby", "#dev"]
    assert state.current == "#dev"
    state.apply(Parted(T, "#lobby", "bob", ""))  # somebody else leaving changes nothing
    assert state.rooms == ["#lobby", "#dev"]


def test_unread_counts_rooms_other_than_the_current_one() -> None:
    state = in_rooms("#dev")
    state.apply(ChatMessage(1, T, "bob", "hi", room="#lobby"))
    state.apply(ChatMessage(2, T, "bob", "again", room="#lobby"))
    state.apply(ChatMessage(3, T, "bob", "here", room="#dev"))
    state.apply(ChatMessage(4, T, "ayşe", "mine", room="#lobby"))
    assert state.unread_in("#LOBBY") == 2
    assert state.unread_in("#dev") == 0
    assert state.switch("#Lobby") == "#lobby"
    assert state.current == "#lobby"
    assert state.unread_in("#lobby") == 0


def test_switching_needs_membership_and_numbers_count_from_one() -> None:
    state = in_rooms("#dev")
    assert state.switch("#elsewhere") is None
    assert state.current == "#dev"
    assert state.switch_to_number(1) == "#lobby"
    assert state.switch_to_number(3) is None
    assert state.switch_to_number(0) is None


def test_own_nick_changes_follow() -> None:
    state = in_rooms()
    state.apply(NickChanged(T, "ayşe", "ayse"))
    assert state.nick == "ayse"
    state.apply(Joined(T, "#new", "ayse"))
    assert state.current == "#new"


def test_completion_names_come_from_what_was_seen() -> None:
    state = in_rooms("#dev")
    state.apply(Members("#dev", "", ("ayşe", "bob", "carol")))
    state.apply(RoomList((RoomInfo("#ops", 3, ""), RoomInfo("#dev", 2, ""))))
    state.apply(Quit(T, "carol", ""))
    state.apply(NickChanged(T, "bob", "robert"))
    assert "carol" not in state.nicks()
    assert state.nicks()[0] == "robert"
    assert "bob" not in state.nicks()
    assert state.known_rooms() == ["#lobby", "#dev", "#ops"]


def test_remembered_names_are_bounded() -> None:
    state = in_rooms()
    state.apply(Members("#lobby", "", tuple(f"user{n}" for n in range(MAX_REMEMBERED + 50))))
    nicks = state.nicks()
    assert len(nicks) == MAX_REMEMBERED
    assert "user0" not in nicks
    assert nicks[0] == f"user{MAX_REMEMBERED + 49}"


def test_replayed_messages_are_not_unread_and_are_remembered() -> None:
    state = in_rooms("#dev")
    replayed = ChatMessage(7, T, "bob", "earlier", room="#lobby", history=True)
    assert not state.seen(replayed)
    state.apply(replayed)
    assert state.unread_in("#lobby") == 0
    assert state.seen(replayed)


def test_a_replay_after_reconnecting_is_not_shown_twice() -> None:
    state = in_rooms("#dev")
    shown: list[str] = []
    on_event = showing(state, Renderer(state), lambda fragments: shown.append(plain(fragments)))
    live = ChatMessage(7, T, "bob", "hello", room="#dev")
    on_event(live)
    on_event(Disconnected("reset", reconnecting=True))
    on_event(replace(live, history=True))  # the rejoin's replay
    on_event(ChatMessage(8, T, "bob", "missed it", room="#dev", history=True))
    on_event(Reconnected("ayşe", ("#lobby", "#dev")))
    on_event(replace(live, history=True))  # asked for with /history: shown again
    said = [line.split("<bob> ")[1] for line in shown if "<bob>" in line]
    assert said == ["hello", "missed it", "hello"]
