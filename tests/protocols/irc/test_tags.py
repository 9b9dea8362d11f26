"""Message tag escaping per the IRCv3 message-tags specification."""

from __future__ import annotations

import pytest
from hypothesis import given

from soketler.protocols.irc.tags import (
    escape_value,
    format_tags,
    is_client_only,
    parse_tags,
    unescape_value,
    valid_key,
)
from tests.protocols.irc.strategies import tag_key, tag_value


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("plain", "plain"),
        ("a\\sb", "a b"),
        ("semi\\:colon", "semi;colon"),
        ("back\\\\slash", "back\\slash"),
        ("cr\\rlf\\n", "cr\rlf\n"),
        ("\\b", "b"),  # an unknown escape stands for the character
        ("end\\", "end"),  # a lone trailing backslash is dropped
        ("\\\\\\", "\\"),
        ("", ""),
    ],
)
def test_unescape_follows_the_specification(raw: str, value: str) -> None:
    assert unescape_value(raw) == value


def test_escape_writes_every_special_character() -> None:
    assert escape_value("; \\\r\n") == "\\:\\s\\\\\\r\\n"
    assert escape_value("nothing-special") == "nothing-special"


@given(tag_value)
def test_escape_then_unescape_is_identity(value: str) -> None:
    escaped = escape_value(value)
    assert not any(c in escaped for c in "; \r\n")
    assert unescape_value(escaped) == value


def test_parse_tags_keeps_the_last_duplicate_and_treats_no_value_as_empty() -> None:
    assert parse_tags("a=1;b;c=;a=2") == {"a": "2", "b": "", "c": ""}


def test_parse_tags_drops_keys_that_could_not_be_written_back() -> None:
    assert parse_tags("good=1;bad key=2;=3;+/x=4;a/=5;;") == {"good": "1"}
    assert parse_tags("example.com/foo=1;+example.com/bar=2") == {
        "example.com/foo": "1",
        "+example.com/bar": "2",
    }


@given(tag_key)
def test_generated_keys_are_valid(key: str) -> None:
    assert valid_key(key)
    assert is_client_only(key) == key.startswith("+")


def test_format_tags() -> None:
    assert format_tags({"time": "x", "+a": "b c", "flag": ""}) == "time=x;+a=b\\sc;flag"
