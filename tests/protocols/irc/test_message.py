"""IRC messages: parsing and writing, no sockets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.errors import LocalProtocolError
from soketler.protocols.irc.message import Message, pack_words, parse_message, source_nick
from tests.protocols.irc.strategies import line_text, messages


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PING abc", Message("PING", ("abc",))),
        ("ping abc", Message("PING", ("abc",))),
        (
            ":nick!user@host PRIVMSG #chan :hello there",
            Message("PRIVMSG", ("#chan", "hello there"), "nick!user@host"),
        ),
        ("PRIVMSG #chan :", Message("PRIVMSG", ("#chan", ""))),
        ("PRIVMSG #chan ::-)", Message("PRIVMSG", ("#chan", ":-)"))),
        ("USER u 0 * :Real Name", Message("USER", ("u", "0", "*", "Real Name"))),
        # Runs of spaces separate like one; trailing spaces end nothing.
        ("MODE   #chan  +o   bob  ", Message("MODE", ("#chan", "+o", "bob"))),
        ("PRIVMSG #chan :  spaced  ", Message("PRIVMSG", ("#chan", "  spaced  "))),
        (
            "@time=2026-01-01T00:00:00.000Z;+typing=active :s NOTICE x :hi",
            Message(
                "NOTICE",
                ("x", "hi"),
                "s",
                {"time": "2026-01-01T00:00:00.000Z", "+typing": "active"},
            ),
        ),
        ("@a=b\\sc\\:d PING x", Message("PING", ("x",), None, {"a": "b c;d"})),
        ("001 me :Welcome", Message("001", ("me", "Welcome"))),
        ("CAP LS 302", Message("CAP", ("LS", "302"))),
    ],
)
def test_parses_the_forms_clients_send(line: str, expected: Message) -> None:
    assert parse_message(line) == expected


@pytest.mark.parametrize("line", ["", "   ", "@a=b", "@a=b   ", ":source", ":source   ", ":a :b c"])
def test_a_line_without_a_command_is_no_message(line: str) -> None:
    assert parse_message(line) is None


def test_commands_fold_only_ascii_case() -> None:
    message = parse_message("straße x")
    assert message is not None
    assert message.command == "straße"  # not "STRASSE": unknown, and reported as sent


def test_writes_a_colon_only_where_needed_unless_asked() -> None:
    assert Message("PING", ("abc",)).to_line() == "PING abc"
    assert Message("PRIVMSG", ("#a", "two words")).to_line() == "PRIVMSG #a :two words"
    assert Message("PRIVMSG", ("#a", "")).to_line() == "PRIVMSG #a :"
    assert Message("PRIVMSG", ("#a", ":)")).to_line() == "PRIVMSG #a ::)"
    assert Message("PRIVMSG", ("#a", "hi"), trailing=True).to_line() == "PRIVMSG #a :hi"
    assert Message("PONG", ("s", "t"), "srv").encode() == b":srv PONG s t\r\n"


def test_writes_tags_first_with_empty_values_bare() -> None:
    message = Message("TAGMSG", ("#a",), "n!u@h", {"+typing": "active", "+x": "", "k": "a b"})
    assert message.to_line() == "@+typing=active;+x;k=a\\sb :n!u@h TAGMSG #a"


@pytest.mark.parametrize(
    "message",
    [
        Message("PRIVMSG", ("#a b", "x")),  # a space in a middle parameter
        Message("PRIVMSG", ("", "x")),  # an empty middle parameter
        Message("PRIVMSG", (":a", "x")),  # a middle parameter that reads as trailing
        Message("PRIVMSG", ("#a", "line\r\nQUIT")),  # an injected second line
        Message("PRIVMSG", ("#a", "nul\x00")),
        Message("PRIV MSG", ()),
        Message("", ()),
        Message("PING", ("x",), "has space"),
        Message("PING", ("x",), ""),
        Message("PING", ("x",), None, {"bad key": "v"}),
        Message("PING", ("x",), None, {"k": "nul\x00"}),
    ],
)
def test_refuses_to_write_what_would_not_read_back(message: Message) -> None:
    with pytest.raises(LocalProtocolError):
        message.to_line()


@given(messages())
def test_what_is_written_reads_back_the_same(message: Message) -> None:
    assert parse_message(message.to_line()) == message


@given(line_text)
def test_any_text_parses_without_raising(line: str) -> None:
    message = parse_message(line)
    if message is not None:
        assert message.command
        # Whatever was read can be inspected; a parsed message's middle parameters
        # never hold a space.
        assert all(" " not in param for param in message.params[:-1])


def test_source_nick() -> None:
    assert source_nick("ayşe!u@h") == "ayşe"
    assert source_nick("server.name") == "server.name"
    assert source_nick("nick@host") == "nick"


@given(st.lists(st.text(min_size=1, max_size=40)), st.integers(min_value=1, max_value=120))
def test_pack_words_keeps_order_and_budget(words: list[str], budget: int) -> None:
    groups = pack_words(words, budget)
    assert [w for group in groups for w in group] == words
    for group in groups:
        assert len(" ".join(group).encode()) <= budget or len(group) == 1
