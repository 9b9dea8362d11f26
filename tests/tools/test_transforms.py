from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from soketler.tools.transforms import CrlfLines, HexDump


def crlf_in_pieces(data: bytes, cuts: list[int]) -> bytes:
    converter = CrlfLines()
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return b"".join(converter.feed(data[a:b]) for a, b in itertools.pairwise(points))


def test_crlf_examples() -> None:
    assert CrlfLines().feed(b"a\nb\r\nc") == b"a\r\nb\r\nc"
    converter = CrlfLines()
    assert converter.feed(b"a\r") + converter.feed(b"\nb\n") == b"a\r\nb\r\n"


@given(st.binary(max_size=200), st.lists(st.integers(min_value=0), max_size=6))
def test_crlf_is_independent_of_chunking(data: bytes, cuts: list[int]) -> None:
    whole = CrlfLines().feed(data)
    assert crlf_in_pieces(data, cuts) == whole
    # Every LF is now preceded by CR, and nothing but line endings changed.
    assert whole.count(b"\n") == whole.count(b"\r\n") == data.count(b"\n")
    assert whole.replace(b"\r\n", b"\n") == data.replace(b"\r\n", b"\n")


def test_hex_dump_format_and_offsets() -> None:
    dump = HexDump()
    first = dump.feed(b"0123456789abcdefXY").decode()
    second = dump.feed(b"\x00\xff").decode()
    assert first == (
        "00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n"
        "00000010  58 59                                             |XY|\n"
    )
    assert second == "00000012  00 ff                                             |..|\n"
