"""What each event looks like: the wording, the marks, and safe text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.client.events import (
    BadLine,
    Bye,
    ChatMessage,
    Disconnected,
    Error,
    HistoryEnd,
    Info,
    Joined,
    Members,
    NickChanged,
    Parted,
    Pong,
    Quit,
    Reconnected,
    RoomInfo,
    RoomList,
    TopicChanged,
    Welcome,
)
from soketler.client.render import NICK_COLOURS, Renderer, escape, nick_style, plain
from soketler.client.state import ChatState

T = datetime(2026, 11, 23, 17, 15, tzinfo=UTC)
ISTANBUL = timezone(timedelta(hours=3))


@pytest.fixture
def renderer() -> Renderer:
    state = ChatState()
    state.apply(Welcome("ayşe", "#lobby", "0.1.0"))
    state.apply(Joined(T, "#dev", "ayşe"))
    return Renderer(state, tz=ISTANBUL)


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (ChatMessage(1, T, "bob", "merhaba", room="#dev"), "20:15 <bob> merhaba"),
        (ChatMessage(1, T, "bob", "merhaba", room="#lobby"), "20:15 [#lobby] <bob> merhaba"),
        (ChatMessage(1, T, "bob", "waves", room="#dev", action=True), "20:15 * bob waves"),
        (ChatMessage(1, T, "bob", "psst", to="ayşe"), "20:15 *bob* psst"),
        (ChatMessage(1, T, "ayşe", "psst", to="bob"), "20:15 -> *bob* psst"),
        (
            ChatMessage(1, T, "bob", "old", room="#dev", history=True),
            "2026-11-23 20:15 <bob> old",
        ),
        (
            HistoryEnd("#dev", 20, True),
            "-- End of history of #dev (20 messages). Older: /history before ID.",
        ),
        (
            HistoryEnd("#dev", 20, True, oldest=812),
            "-- End of history of #dev (20 messages). Older: /history #dev before 812.",
        ),
        (
            HistoryEnd(None, 2, True, "bob", oldest=7),
            "-- End of history of your messages with bob (2 messages). "
            "Older: /history bob before 7.",
        ),
        (
            HistoryEnd(None, 2, False, "bob"),
            "-- End of history of your messages with bob (2 messages).",
        ),
        (HistoryEnd("#dev", 1, False), "-- End of history of #dev (1 message)."),
        (Joined(T, "#dev", "bob"), "20:15 -- bob joined #dev"),
        (Parted(T, "#dev", "bob", "bye"), "20:15 -- bob left #dev (bye)"),
        (Quit(T, "bob", "Connection closed"), "20:15 -- bob quit (Connection closed)"),
        (NickChanged(T, "bob", "robert"), "20:15 -- bob is now known as robert"),
        (
            TopicChanged(T, "#dev", "bob", "release day"),
            "20:15 -- bob set the topic of #dev: release day",
        ),
        (
            TopicChanged(T, "#dev", None, "release day"),
            "20:15 -- This is the topic of #dev: release day",
        ),
        (Members("#dev", "release", ("ayşe", "bob")), "-- #dev (2): ayşe, bob\n-- topic: release"),
        (RoomList((RoomInfo("#dev", 2, "release"),)), "-- Rooms:\n--   #dev (2) release"),
        (Info("line one\nline two"), "-- line one\n-- line two"),
        (Error("nick-taken", 'Nickname "bob" is taken.'), '!! Nickname "bob" is taken.'),
        (
            Bye("Server shutting down"),
            "-- The server is closing the connection: Server shutting down",
        ),
        (Disconnected("reset", True), "!! Connection lost (reset). Reconnecting..."),
        (Reconnected("ayşe", ("#lobby", "#dev")), "-- Reconnected as ayşe, in #lobby, #dev."),
        (BadLine("not JSON", "x"), "!! Ignored a line from the server: not JSON"),
    ],
)
def test_events_read_like_the_plain_protocol(renderer: Renderer, event: object, line: str) -> None:
    fragments = renderer.fragments(event)  # type: ignore[arg-type]
    assert fragments is not None
    assert plain(fragments) == line


def test_pongs_are_not_shown(renderer: Renderer) -> None:
    assert renderer.fragments(Pong(3)) is None


def test_own_messages_and_private_ones_are_set_apart(renderer: Renderer) -> None:
    own = renderer.fragments(ChatMessage(1, T, "AYŞE", "hi", room="#dev"))
    other = renderer.fragments(ChatMessage(2, T, "bob", "hi", room="#dev"))
    private = renderer.fragments(ChatMessage(3, T, "bob", "hi", to="ayşe"))
    assert own is not None and other is not None and private is not None
    assert ("class:own", "AYŞE") in own
    assert (nick_style("bob"), "bob") in other
    assert ("class:private", "*bob*") in private


def test_joins_and_parts_are_dimmed(renderer: Renderer) -> None:
    fragments = renderer.fragments(Joined(T, "#dev", "bob"))
    assert fragments is not None
    assert all("class:event" in style for style, _ in fragments[1:])


def test_the_goodbye_is_not_news_when_we_asked_to_leave(renderer: Renderer) -> None:
    renderer.state.leaving = True
    assert renderer.fragments(Bye("Quit")) is None


def test_nick_colours_are_stable_and_ignore_case() -> None:
    assert nick_style("Ayşe") == nick_style("AYŞE") == nick_style("ayşe")
    # crc32 of the case-folded UTF-8: the same on every run and every machine.
    assert nick_style("bob") == "class:nick-8"
    used = {nick_style(f"user{n}") for n in range(200)}
    assert len(used) == len(NICK_COLOURS)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2Jgone", "\\e[2Jgone"),
        ("bell\x07", "bell\\u0007"),
        ("a\tb\nc\rd", "a       b\\nc\\rd"),
        ("\x9b31m", "\\u009b31m"),
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),
        ("merhaba 👋 민준", "merhaba 👋 민준"),
    ],
)
def test_control_characters_are_shown_escaped(text: str, shown: str) -> None:
    assert escape(text) == shown


@given(st.text())
def test_escaped_text_has_no_control_characters(text: str) -> None:
    shown = escape(text)
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in shown)


def test_others_text_is_escaped_in_every_field(renderer: Renderer) -> None:
    fragments = renderer.fragments(
        ChatMessage(1, T, "b\x1bob", "\x1b]0;title\x07", room="#d\x1bev")
    )
    assert fragments is not None
    assert "\x1b" not in plain(fragments)
    assert "\x07" not in plain(fragments)
