"""The receiving side of an IRC connection: bytes in, events out."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols.irc.message import Message
from soketler.protocols.irc.receiver import (
    InputTooLong,
    IrcEvent,
    IrcReceiver,
    Received,
    TooLongPart,
)


def feed(*chunks: bytes, eof: bool = False) -> list[IrcEvent]:
    receiver = IrcReceiver()
    for chunk in chunks:
        receiver.receive_data(chunk)
    if eof:
        receiver.receive_eof()
    return receiver.events_received()


def commands(events: list[IrcEvent]) -> list[str]:
    return [e.message.command if isinstance(e, Received) else "417" for e in events]


def test_lf_crlf_and_cr_end_lines_and_empty_lines_are_ignored() -> None:
    events = feed(b"PING a\nPING b\r\nPING c\r\r\n\nPING d\r")
    assert events == [Received(Message("PING", (x,))) for x in "abcd"]


def test_an_unfinished_line_waits_and_counts_at_eof() -> None:
    receiver = IrcReceiver()
    receiver.receive_data(b"QUIT :bye")
    assert receiver.events_received() == []
    assert receiver.buffered == len(b"QUIT :bye")
    receiver.receive_eof()
    receiver.receive_eof()  # harmless twice
    assert receiver.events_received() == [Received(Message("QUIT", ("bye",)))]
    receiver.receive_data(b"PING late\r\n")  # after EOF nothing more is taken
    assert receiver.events_received() == []


def test_invalid_utf8_is_replaced_and_flagged() -> None:
    (event,) = feed(b"PRIVMSG bob :hi\xaa\r\n")
    assert event == Received(Message("PRIVMSG", ("bob", "hi\ufffd")), invalid_utf8=True)
    (event,) = feed("PRIVMSG bob :merhaba 민준\r\n".encode())
    assert isinstance(event, Received) and not event.invalid_utf8


def test_nul_bytes_never_get_through() -> None:
    (event,) = feed(b"PRIVMSG bob :a\x00b\r\n")
    assert event == Received(Message("PRIVMSG", ("bob", "ab")))


def test_formatting_codes_are_kept_for_irc() -> None:
    # Colours, bold and CTCP are part of IRC text; cleaning is for other doors.
    (event,) = feed(b"PRIVMSG #a :\x01ACTION \x02waves\x02 \x0304red\x03\x01\r\n")
    assert isinstance(event, Received)
    assert event.message.params[1] == "\x01ACTION \x02waves\x02 \x0304red\x03\x01"


def test_the_line_limit_is_512_bytes_with_crlf() -> None:
    head = b"PRIVMSG #test :"
    fits = head + b"b" * (510 - len(head))
    over = fits + b"b"
    assert commands(feed(fits + b"\r\n", over + b"\r\n", b"PING x\r\n")) == [
        "PRIVMSG",
        "417",
        "PING",
    ]
    assert feed(over + b"\n")[0] == InputTooLong(TooLongPart.LINE, 510)


def test_client_tag_data_is_limited_to_4094_bytes() -> None:
    # The cases irctest's message-tags test sends: at the limit, and one byte over,
    # each with a full-length message after the tags.
    at_limit = b"@foo=bar;+baz=" + b"a" * 4081 + b" TAGMSG #test"
    assert at_limit.index(b"TAGMSG") == 4096
    over = b"@foo=bar;+baz=" + b"a" * 4082 + b" TAGMSG #test"
    longest = b"@foo=bar;+baz=" + b"a" * 4081 + b" PRIVMSG #test " + b"b" * 496
    assert len(longest) == 4096 + 510
    events = feed(at_limit + b"\r\n", over + b"\r\n", longest + b"\r\n")
    assert commands(events) == ["TAGMSG", "417", "PRIVMSG"]
    assert events[1] == InputTooLong(TooLongPart.TAGS, 4094)
    assert isinstance(events[0], Received)
    assert events[0].message.tags["+baz"] == "a" * 4081


def test_a_line_longer_than_any_valid_one_is_reported_once_and_skipped() -> None:
    receiver = IrcReceiver()
    for _ in range(40):  # 40 KB without a newline: memory stays bounded
        receiver.receive_data(b"x" * 1000)
        assert receiver.buffered <= 8191 + 510
    receiver.receive_data(b"tail of it\r\nPING ok\r\n")
    events = receiver.events_received()
    assert events == [InputTooLong(TooLongPart.LINE, 510), Received(Message("PING", ("ok",)))]


def test_a_tag_section_without_a_command_is_ignored() -> None:
    assert feed(b"@a=b\r\n@a=b   \r\n:src\r\n   \r\nPING x\r\n") == [
        Received(Message("PING", ("x",)))
    ]


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


STREAM = (
    b"CAP LS 302\r\nNICK ay\xc5\x9fe\r\nUSER a 0 * :Ay\xc5\x9fe\r\n"
    b"@+typing=active TAGMSG #lobby\nPRIVMSG #lobby :" + b"z" * 600 + b"\r\n"
    b"PRIVMSG #lobby :\xe2\x9c\x93 done\r\nQUIT :bye"
)


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_events_do_not_depend_on_how_tcp_split_the_stream(cuts: list[int]) -> None:
    assert feed(*split_at(STREAM, cuts), eof=True) == feed(STREAM, eof=True)


@given(st.lists(st.binary(max_size=600), max_size=20), st.booleans())
def test_any_bytes_never_raise(chunks: list[bytes], eof: bool) -> None:
    for event in feed(*chunks, eof=eof):
        if isinstance(event, Received):
            # Whatever came in can be quoted back in a reply (421 names the command).
            message = event.message
            assert Message("421", ("*", message.command, "x")).to_line()
            assert Message("X", ("*", *message.params)).to_line()
        else:
            assert isinstance(event, InputTooLong)
