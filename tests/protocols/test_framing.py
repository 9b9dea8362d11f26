"""Line framing and telnet filtering: bytes in, lines out, no sockets."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols.framing import LineFramer, LineTooLong, TelnetFilter


def frame(chunks: list[bytes], max_line: int = 4096) -> list[bytes | LineTooLong]:
    framer = LineFramer(max_line)
    out: list[bytes | LineTooLong] = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return out + framer.eof()


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at the given points (taken modulo its length)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def test_every_line_ending_people_send_gives_the_same_lines() -> None:
    for ending in (b"\n", b"\r\n", b"\r\x00", b"\r"):
        lines = frame([b"one" + ending + b"two" + ending])
        # CR NUL leaves the NUL at the start of the next line; decoding removes it,
        # and a line that was only that NUL is then empty and dropped.
        stripped = [line.lstrip(b"\x00") for line in lines if isinstance(line, bytes)]
        assert [line for line in stripped if line] == [
            b"one",
            b"two",
        ]


def test_empty_lines_are_dropped_and_an_unfinished_line_counts_at_eof() -> None:
    assert frame([b"\n\n\r\na\n\n", b"b"]) == [b"a", b"b"]


def test_a_line_of_exactly_the_limit_passes_and_one_byte_more_does_not() -> None:
    assert frame([b"x" * 8 + b"\n"], max_line=8) == [b"x" * 8]
    assert frame([b"x" * 9 + b"\nnext\n"], max_line=8) == [LineTooLong(8), b"next"]


def test_an_overlong_line_arriving_in_pieces_is_reported_once_and_discarded() -> None:
    chunks = [b"y" * 5] * 10 + [b"\nafter\n"]
    assert frame(chunks, max_line=8) == [LineTooLong(8), b"after"]


def test_the_framer_never_holds_more_than_the_limit() -> None:
    framer = LineFramer(16)
    for _ in range(1000):
        framer.feed(b"z" * 7)
        assert framer.buffered <= 16


@given(st.binary(max_size=400), st.lists(st.integers(min_value=0), max_size=30))
def test_any_split_of_any_stream_gives_the_same_lines(data: bytes, cuts: list[int]) -> None:
    assert frame(split_at(data, cuts), max_line=32) == frame([data], max_line=32)


@given(st.lists(st.binary(max_size=60), max_size=20), st.integers(min_value=1, max_value=64))
def test_lines_never_exceed_the_limit(chunks: list[bytes], limit: int) -> None:
    for item in frame(chunks, max_line=limit):
        assert isinstance(item, LineTooLong) or 0 < len(item) <= limit


def telnet(chunks: list[bytes]) -> bytes:
    f = TelnetFilter()
    return b"".join(f.feed(c) for c in chunks)


IAC, DO, WILL, SB, SE = 255, 253, 251, 250, 240


def test_telnet_negotiation_is_removed() -> None:
    data = bytes([IAC, DO, 1]) + b"he" + bytes([IAC, WILL, 3, IAC, 241]) + b"llo"
    assert telnet([data]) == b"hello"


def test_telnet_subnegotiation_is_removed_even_when_split() -> None:
    data = b"a" + bytes([IAC, SB, 24, 0]) + b"xterm" + bytes([IAC, SE]) + b"b"
    assert telnet([data[i : i + 1] for i in range(len(data))]) == b"ab"


def test_escaped_iac_is_kept_as_a_byte() -> None:
    assert telnet([bytes([IAC, IAC]) + b"x"]) == b"\xffx"


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0), max_size=20))
def test_telnet_filter_is_independent_of_splits(data: bytes, cuts: list[int]) -> None:
    assert telnet(split_at(data, cuts)) == telnet([data])
