"""What the lines door needs to ask for a password: the line as typed, and telnet's way
to stop showing what is typed, only to telnet clients."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols.connection import TELOPT_ECHO, WILL, WONT, ServerConnection
from soketler.protocols.framing import IAC
from soketler.protocols.plain import parse_line


@given(st.text(min_size=1).filter(lambda t: t.strip() and "\r" not in t and "\n" not in t))
def test_every_plain_request_keeps_the_line_as_typed(text: str) -> None:
    assert parse_line(text).line == text


def test_a_password_that_looks_like_a_command_is_still_the_line() -> None:
    for typed in ("/quit", "//x", "bye", "/join #a"):
        assert parse_line(typed).line == typed


def test_hiding_input_is_for_telnet_clients_only() -> None:
    telnet = ServerConnection()
    telnet.receive_data(b"ayse\r\n")  # telnet ends lines with CR
    assert telnet.hide_input(True) == bytes([IAC, WILL, TELOPT_ECHO])
    assert telnet.hide_input(False) == bytes([IAC, WONT, TELOPT_ECHO])
    nc = ServerConnection()
    nc.receive_data(b"ayse\n")
    assert nc.hide_input(True) == b""  # nc would print the bytes
    negotiating = ServerConnection()
    negotiating.receive_data(bytes([IAC, 251, 3]) + b"x\n")
    assert negotiating.telnet and negotiating.hide_input(True)
