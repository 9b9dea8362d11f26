"""RPL_ISUPPORT lines."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.errors import LocalProtocolError
from soketler.protocols.irc.isupport import (
    escape_value,
    format_token,
    isupport_messages,
    unescape_value,
)


def test_tokens_and_values() -> None:
    assert format_token("BOT", "B") == "BOT=B"
    assert format_token("UTF8ONLY", None) == "UTF8ONLY"
    assert format_token("EXCEPTS", "") == "EXCEPTS"
    assert format_token("-KNOCK", "ignored") == "-KNOCK"
    assert format_token("NETWORK", "Soketler Ağı") == "NETWORK=Soketler\\x20A\\xC4\\x9F\\xC4\\xB1"
    for bad in ("lower", "WAY_TOO_LONG_FOR_A_TOKEN", "", "A B"):
        with pytest.raises(LocalProtocolError):
            format_token(bad, "x")


@given(st.text())
def test_escaped_values_are_printable_ascii_without_separators(value: str) -> None:
    escaped = escape_value(value)
    assert escaped.isascii() and escaped.isprintable()
    assert " " not in escaped and "=" not in escaped
    assert unescape_value(escaped) == value.encode("utf-8", "replace").decode("utf-8", "replace")


def test_lines_hold_at_most_13_tokens_and_512_bytes() -> None:
    tokens: dict[str, str | None] = {f"TOKEN{n}": "v" * 30 for n in range(40)}
    tokens["UTF8ONLY"] = None
    messages = isupport_messages("My.Little.Server", "ayşe", tokens)
    seen: list[str] = []
    for message in messages:
        assert message.command == "005"
        assert message.params[0] == "ayşe"
        assert message.params[-1] == "are supported by this server"
        assert 3 <= len(message.params) <= 15
        assert len(message.encode()) <= 512
        seen += message.params[1:-1]
    assert seen == [format_token(name, value) for name, value in tokens.items()]
    assert messages[0].to_line().startswith(":My.Little.Server 005 ayşe TOKEN0=")
