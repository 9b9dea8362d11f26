"""The receiving side of a connection: flavour choice, requests, hostile input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols.connection import TELNET_BINARY, Flavour, ServerConnection
from soketler.protocols.events import BadInput, ClientEvent, Request
from soketler.protocols.jsonlines import JSON
from soketler.protocols.plain import PLAIN
from tests.protocols.test_framing import split_at


def receive(*chunks: bytes, max_line: int = 4096) -> tuple[ServerConnection, list[ClientEvent]]:
    conn = ServerConnection(max_line)
    events: list[ClientEvent] = []
    for chunk in chunks:
        conn.receive_data(chunk)
        events += conn.events_received()
    conn.receive_eof()
    conn.receive_eof()  # twice is harmless
    return conn, events + conn.events_received()


def test_plain_lines_become_requests() -> None:
    conn, events = receive(b"ayse\r\n/join #dev\r\n//not a command\r\nhi there\r\n")
    assert conn.flavour is Flavour.PLAIN and conn.codec is PLAIN
    assert events == [
        Request("say", argtext="ayse"),
        Request("join", argtext="#dev"),
        Request("say", argtext="/not a command"),
        Request("say", argtext="hi there"),
    ]


def test_close_words_quit_in_any_case_unless_turned_off() -> None:
    for word in ("bye", "CLOSE", "Quit", "q", "kapat", "EXIT"):
        _, events = receive(word.encode() + b"\n")
        assert events == [Request("quit")]
    conn = ServerConnection(close_words=frozenset())
    conn.receive_data(b"bye\n")
    assert conn.events_received() == [Request("say", argtext="bye")]


def test_a_json_first_line_chooses_json_lines() -> None:
    conn, events = receive(b'{"type": "hello", "nick": "ayse", "id": 7}\n', b"not json\n")
    assert conn.flavour is Flavour.JSON and conn.codec is JSON
    assert events[0] == Request("hello", fields={"nick": "ayse"}, id=7)
    assert isinstance(events[1], BadInput) and events[1].code == "bad-request"


def test_telnet_client_bytes_arrive_clean() -> None:
    iac_do_echo = bytes([255, 253, 1])
    _, events = receive(iac_do_echo + b"ay", b"se\r\x00hello \x1b[2Jworld\r\x00")
    assert events == [Request("say", argtext="ayse"), Request("say", argtext="hello world")]


def test_an_overlong_line_is_an_error_and_the_connection_goes_on() -> None:
    _, events = receive(b"a" * 100 + b"\nok\n", max_line=64)
    assert isinstance(events[0], BadInput) and events[0].code == "line-too-long"
    assert events[1] == Request("say", argtext="ok")


@given(st.lists(st.binary(max_size=200), max_size=20))
def test_no_input_raises(chunks: list[bytes]) -> None:
    _, events = receive(*chunks, max_line=128)
    for event in events:
        assert isinstance(event, Request | BadInput)


@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)),
    st.lists(st.integers(min_value=0), max_size=10),
)
def test_requests_do_not_depend_on_packet_boundaries(lines: list[str], cuts: list[int]) -> None:
    data = "".join(line + "\r\n" for line in lines).encode()
    assert receive(*split_at(data, cuts))[1] == receive(data)[1]


TELNET_COMMANDS = [b"\xff\xfb\x01", b"\xff\xfd\x18", b"\xff\xfa\x18\x00xterm\xff\xf0", b"\xff\xf1"]


@given(
    st.lists(
        st.one_of(
            st.sampled_from(TELNET_COMMANDS),
            st.text(alphabet="abcçğşü한글 /#", min_size=1, max_size=12).map(str.encode),
            st.just(b"\r\n"),
        ),
        max_size=30,
    ),
    st.lists(st.integers(min_value=0), max_size=10),
)
def test_telnet_negotiation_is_removed_wherever_it_starts(
    pieces: list[bytes], cuts: list[int]
) -> None:
    # Negotiation may first appear in any packet, after plain text or cut in two.
    data = b"".join(pieces)
    plain = b"".join(p for p in pieces if p not in TELNET_COMMANDS)
    assert receive(*split_at(data, cuts))[1] == receive(plain)[1]


def test_binary_mode_is_asked_of_telnet_clients_only_and_once() -> None:
    telnet = ServerConnection()
    telnet.receive_data(b"ayse\r\n")
    assert telnet.data_to_send() == TELNET_BINARY
    telnet.receive_data(b"hi\r\n")
    assert telnet.data_to_send() == b""
    nc = ServerConnection()
    nc.receive_data(b"ayse\nhi\n")
    assert nc.data_to_send() == b""
    program = ServerConnection()
    program.receive_data(b'{"type":"hello","nick":"x"}\n')
    program.receive_data(b'{"type":"ping"}\r\n')
    assert program.data_to_send() == b""
