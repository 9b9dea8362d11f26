"""What others see of a line: decoded, with escapes and controls removed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols.text import clean_text, decode_line


def test_turkish_korean_and_emoji_pass_intact() -> None:
    text = "Çağrı şöyle dedi: 안녕하세요 👋🏽 İyi günler"
    assert decode_line(text.encode()) == text


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert decode_line(b"ok \xff\xfe end") == "ok \ufffd\ufffd end"


def test_ansi_sequences_are_removed_whole() -> None:
    assert clean_text("a\x1b[2Jb\x1b[31;1mc\x1b]0;pwned\x07d\x1b(Be") == "abcde"


def test_c0_and_c1_controls_go_but_tab_stays() -> None:
    assert clean_text("a\x00b\x07c\x08d\te\x7ff\x85g\x9b31mh") == "abcd\tefgh"


@given(st.binary(max_size=300))
def test_no_bytes_can_put_a_control_character_in_front_of_others(data: bytes) -> None:
    text = decode_line(data)
    assert all(ch == "\t" or not (ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F) for ch in text)
    text.encode("utf-8")  # always encodable: no lone surrogates


@given(st.text(max_size=200))
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
