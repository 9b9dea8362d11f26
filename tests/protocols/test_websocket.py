"""The browser door's protocol pieces without sockets: frames out, messages in."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols import codes
from soketler.protocols.events import (
    BadInput,
    Bye,
    ChatMessage,
    HistoryEnd,
    HistoryPage,
    Request,
    ServerEvent,
)
from soketler.protocols.jsonlines import JSON
from soketler.protocols.websocket import (
    MAX_REASON,
    WEB_JSON,
    FrameReceiver,
    fit_reason,
    text_frame,
)

TIME = datetime(2026, 11, 23, 20, 15, tzinfo=UTC)


def parse_frames(data: bytes) -> list[bytes]:
    """Server frames back into payloads, by RFC 6455 section 5.2, checking each header:
    final, text, unmasked, and the shortest length encoding."""
    payloads = []
    while data:
        first, second = data[0], data[1]
        assert first == 0x81, "FIN and the text opcode, no extension bits"
        assert not second & 0x80, "a server never masks"
        size, start = second & 0x7F, 2
        if size == 126:
            size, start = struct.unpack("!H", data[2:4])[0], 4
            assert size > 125
        elif size == 127:
            size, start = struct.unpack("!Q", data[2:10])[0], 10
            assert size > 0xFFFF
        payloads.append(data[start : start + size])
        assert len(payloads[-1]) == size, "truncated frame"
        data = data[start + size :]
    return payloads


@given(st.binary(max_size=70_000) | st.sampled_from([b"", b"x" * 125, b"x" * 126, b"x" * 65535]))
def test_a_frame_holds_its_payload_whatever_its_size(payload: bytes) -> None:
    assert parse_frames(text_frame(payload)) == [payload]


def test_frame_headers_are_as_the_rfc_spells_them() -> None:
    assert text_frame(b"hi") == b"\x81\x02hi"
    assert text_frame(b"x" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert text_frame(b"x" * 65536)[:10] == b"\x81\x7f" + (65536).to_bytes(8, "big")


def message(mid: int, text: str) -> ChatMessage:
    return ChatMessage(mid, TIME, "ayşe", text, room="#lobby", history=True)


EVENTS: list[ServerEvent] = [
    message(1, 'merhaba 👋 "quoted" \\ and\nnot a newline in the frame'),
    Bye("Server shutting down"),
    HistoryPage((message(1, "a"), message(2, "b")), HistoryEnd("#lobby", 2, True, oldest=1)),
]


def test_each_event_is_the_json_lines_object_in_frames_of_its_own() -> None:
    for event in EVENTS:
        lines = JSON.encode(event).decode().splitlines()
        frames = parse_frames(WEB_JSON.encode(event))
        assert [json.loads(f) for f in frames] == [json.loads(line) for line in lines]
        assert all(b"\n" not in f for f in frames)


@given(st.text())
def test_encoding_never_raises_and_gives_one_frame(text: str) -> None:
    frames = parse_frames(WEB_JSON.encode(message(7, text)))
    assert len(frames) == 1
    assert json.loads(frames[0])["id"] == 7


@given(st.text(max_size=200))
def test_a_close_reason_fits_and_is_cut_at_a_character(reason: str) -> None:
    fitted = fit_reason(reason).encode()
    assert len(fitted) <= MAX_REASON
    assert reason.encode("utf-8", "replace").startswith(fitted)
    if len(reason.encode("utf-8", "replace")) <= MAX_REASON:
        assert fitted == reason.encode("utf-8", "replace")


def test_messages_become_requests_each_by_itself() -> None:
    receiver = FrameReceiver(max_line=64)
    receiver.receive_data(b'{"type": "hello", "nick": "ay\\u015fe", "id": 1}')
    receiver.receive_data(b"   ")  # nothing, as an empty line
    receiver.receive_data(b'{"type": "message",\n "text": "iki\\u0007 satir"}')
    receiver.receive_data(b"not json")
    receiver.receive_data(b'{"type": "message", "text": "' + b"x" * 60 + b'"}')
    assert receiver.data_to_send() == b""
    events = receiver.events_received()
    assert events[0] == Request("hello", fields={"nick": "ayşe"}, id=1)
    assert events[1] == Request("say", fields={"text": "iki satir"})  # the bell removed
    assert events[2] == BadInput("bad-request", "Not a JSON object.")
    assert isinstance(events[3], BadInput) and events[3].code == codes.LINE_TOO_LONG
    assert "64 bytes" in events[3].text
    assert receiver.events_received() == []
    receiver.receive_eof()
    receiver.receive_eof()
    assert receiver.events_received() == []
    assert receiver.codec is WEB_JSON


@given(st.binary(max_size=300))
def test_any_bytes_become_at_most_one_event_and_never_raise(data: bytes) -> None:
    receiver = FrameReceiver(max_line=200)
    receiver.receive_data(data)
    assert len(receiver.events_received()) <= 1
