"""The plain flavour fits an 80-column terminal: wrapped at words, tabs as spaces."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from soketler.client.commands import help_text
from soketler.client.render import info_line, plain
from soketler.core.hub import Hub
from soketler.protocols.columns import TERMINAL_WIDTH, columns, wrap
from soketler.protocols.events import (
    ChatMessage,
    Error,
    Info,
    Joined,
    Members,
    Parted,
    RoomInfo,
    RoomList,
    ServerEvent,
    TopicChanged,
    Welcome,
)
from soketler.protocols.plain import render
from tests.core.fakes import Person, fixed_clock

NOW = datetime(2026, 11, 23, 20, 15, tzinfo=UTC)
# Words as people write them: any script, wide CJK characters, combining marks, emoji,
# tabs, and words far longer than a line.
words = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters=" ")
    | st.sampled_from(["민", "漢", "é", "\u0301", "👋", "\t"]),
    min_size=1,
    max_size=120,
)
prose = st.lists(words, max_size=30).map(" ".join)
names = st.text(st.sampled_from("abcçğıİöşüABC민준_-[]"), min_size=1, max_size=30)


def rendered_lines(event: ServerEvent) -> list[str]:
    text = render(event)
    assert text.endswith("\r\n")
    return text.removesuffix("\r\n").split("\r\n")


def test_cells_count_wide_and_combining_characters() -> None:
    assert columns("ayşe") == 4
    assert columns("민준") == 4
    assert columns("e\u0301") == 1


@given(prose, st.sampled_from(["-- ", "!! ", "20:15 -- "]))
def test_wrapped_lines_fit_and_keep_every_word(text: str, prefix: str) -> None:
    lines = wrap(text, prefix, prefix)
    assert all(columns(line) <= TERMINAL_WIDTH for line in lines)
    assert all(line.startswith(prefix) for line in lines)
    # Nothing is lost: only the spaces where lines broke (and tabs as spaces) differ.
    kept = "".join(line.removeprefix(prefix) for line in lines).replace(" ", "")
    assert kept == text.replace("\t", "").replace(" ", "")


@given(prose, names, st.lists(names, max_size=40), st.text(max_size=60).filter(str.isprintable))
def test_every_server_text_fits_80_columns(
    text: str, nick: str, users: list[str], room_tail: str
) -> None:
    room = "#" + room_tail.replace(" ", "")[:49]
    events: list[ServerEvent] = [
        Info(text),
        Error("nick-taken", text, prompt="Choose another:"),
        Welcome(nick, room, "0.1.0"),
        Members(room, text, tuple(users), count=len(users) + 5),
        RoomList((RoomInfo(room, 3, text), RoomInfo("#lobby", 1, ""))),
        Joined(NOW, room, nick),
        Parted(NOW, room, nick, text),
        TopicChanged(NOW, room, nick, text),
    ]
    for event in events:
        for line in rendered_lines(event):
            assert columns(line) <= TERMINAL_WIDTH, (event, line)
            assert "\t" not in line


def test_help_fits_80_columns_and_wraps_under_its_column() -> None:
    hub = Hub("test", clock=fixed_clock)
    person = Person(hub, "ayşe")
    person.type("/help")
    lines = person.lines()
    assert lines[0].startswith("-- Commands")
    assert all(columns(line) <= TERMINAL_WIDTH for line in lines), lines
    history = next(i for i, line in enumerate(lines) if "/history" in line)
    # The long usage stands alone; its summary is in the summaries' column below it.
    assert lines[history] == "--   /history [#room | NICK] [N | before ID]"
    column = next(line for line in lines if "/who" in line).index("who is in a room")
    assert lines[history + 1][column:].startswith("earlier messages")
    assert lines[history + 1][3:column].strip() == ""


def test_the_terminal_clients_help_fits_too() -> None:
    for line in plain(info_line(help_text())).split("\n"):
        assert columns(line) <= TERMINAL_WIDTH, line


def test_who_puts_the_topic_on_its_own_line() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, bob = Person(hub, "ayşe"), Person(hub, "bob")
    ayse.type("/topic çay saati")
    ayse.take()
    bob.take()
    bob.type("/who")
    assert bob.lines() == ["-- #lobby (2): ayşe, bob", "-- Topic: çay saati"]


def test_a_tab_reaches_telnet_users_as_spaces() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, bob = Person(hub, "ayşe"), Person(hub, "bob")
    ayse.take()
    bob.type("col1\tcol2")
    [line] = ayse.lines()
    stamp = line.split(" ", 1)[0]
    # The tab stops are the terminal's: every 8 columns from the start of the line.
    assert line == f"{stamp} <bob> col1\tcol2".expandtabs(8)
    message = ChatMessage(1, NOW, "bob", "a\tb", room="#lobby")
    assert "\t" not in render(message)
