"""Ban masks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols.irc.masks import mask_matches, normalize_mask


@pytest.mark.parametrize(
    ("given_mask", "full"),
    [
        ("bob", "bob!*@*"),
        ("*@evil.example", "*!*@evil.example"),
        ("bob!*", "bob!*@*"),
        ("bob!u@h", "bob!u@h"),
        ("!@", "*!*@*"),
        ("", "*!*@*"),
    ],
)
def test_partial_masks_are_completed(given_mask: str, full: str) -> None:
    assert normalize_mask(given_mask) == full


def test_matching() -> None:
    assert mask_matches("*!*@evil.example", "bob!u@evil.example")
    assert not mask_matches("*!*@evil.example", "bob!u@good.example")
    assert mask_matches("B?B!*@*", "bob!u@h")
    assert mask_matches("AYŞE!*@*", "ayşe!u@h")  # case follows the fold given (casefold)
    assert not mask_matches("a.c!*@*", "abc!u@h")  # '.' is a dot, not "any character"


@given(st.text(max_size=20))
def test_every_source_matches_itself_and_the_catch_all(source: str) -> None:
    assert mask_matches(
        source.replace("*", "").replace("?", ""), source.replace("*", "").replace("?", "")
    )
    assert mask_matches("*", source)
