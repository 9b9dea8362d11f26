"""The chat protocol over a WebSocket, without I/O: what the browser door sends and
receives, one JSON object per text frame (docs/protocol.md).

The handshake, the frames a client sends, pings and the closing handshake are the
HTTP library's (aiohttp); what is ours is small and lives here:

- `text_frame`: a server's text frame (RFC 6455 section 5.2). A server never masks,
  so the frame for an event is the same bytes for every reader: the codec makes it
  once per event, and a delivery to a thousand browsers is a thousand appends of one
  `bytes`, as for every other door.
- `WebJsonCodec` (`WEB_JSON`): the JSON-lines codec's objects, each as one frame.
- `FrameReceiver`: a door's receiving side for whole text messages: each call of
  `receive_data` is one frame's payload, checked against the line limit that every
  door shares, then parsed as a JSON-lines request.
- the close codes this door uses, and `fit_reason`.
"""

from __future__ import annotations

import struct

from soketler.protocols import codes, jsonlines
from soketler.protocols.events import (
    BadInput,
    ClientEvent,
    Codec,
    HistoryPage,
    SearchPage,
    ServerEvent,
    View,
)
from soketler.protocols.text import decode_line

# Close codes (RFC 6455 section 7.4.1, and the IANA registry for 1012/1013).
CLOSE_NORMAL = 1000  # quit, bye
CLOSE_GOING_AWAY = 1001  # the server is shutting down
CLOSE_UNSUPPORTED = 1003  # a binary frame: this protocol is text
CLOSE_POLICY = 1008  # a rule was broken: Excess flood, no nickname in time
CLOSE_TOO_BIG = 1009  # a frame over the size limit
CLOSE_INTERNAL = 1011  # our bug; the peer learns nothing more
CLOSE_TRY_LATER = 1013  # not admitted now (server full, too many from one address)

# A close frame's reason is at most 123 bytes (section 5.5: a control frame's payload
# is at most 125, two of which are the code).
MAX_REASON = 123

OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
FIN = 0x80

# IRC over WebSocket (the IRCv3 WebSocket specification): one IRC line per message,
# without its CRLF, in text frames (UTF-8) or binary frames, as the client asked.
IRC_TEXT = "text.ircv3.net"
IRC_BINARY = "binary.ircv3.net"
IRC_SUBPROTOCOLS = (IRC_TEXT, IRC_BINARY)
# Payload lengths past which the header carries a 16-bit, then a 64-bit length.
LENGTH_7_MAX = 125
LENGTH_16_MAX = 0xFFFF

_HEADER_16 = struct.Struct("!BBH")
_HEADER_64 = struct.Struct("!BBQ")


def text_frame(payload: bytes, opcode: int = OPCODE_TEXT) -> bytes:
    """One unfragmented, unmasked frame holding `payload` (UTF-8 text for a text
    frame, the default)."""
    size = len(payload)
    if size <= LENGTH_7_MAX:
        return bytes((FIN | opcode, size)) + payload
    if size <= LENGTH_16_MAX:
        return _HEADER_16.pack(FIN | opcode, 126, size) + payload
    return _HEADER_64.pack(FIN | opcode, 127, size) + payload


def line_frames(data: bytes, opcode: int = OPCODE_TEXT) -> bytes:
    """IRC lines (each ending in CRLF, as the IRC codec writes them) as WebSocket
    messages, one a line, without the CRLF."""
    return b"".join(text_frame(line, opcode) for line in data.split(b"\r\n") if line)


def fit_reason(reason: str) -> str:
    """A close reason cut to what a close frame holds, at a character boundary (a cut
    character would be invalid UTF-8, a protocol error for the browser)."""
    return reason.encode("utf-8", "replace")[:MAX_REASON].decode("utf-8", "ignore")


class WebJsonCodec(Codec):
    """The JSON-lines flavour for the browser door: each object one text frame. A
    history page is its messages' frames, then the end marker's, in one write."""

    name = "web"

    def encode(self, event: ServerEvent, view: View = View.HERE) -> bytes:
        if isinstance(event, HistoryPage):
            return b"".join(self.encode(m) for m in event.messages) + self.encode(event.end)
        if isinstance(event, SearchPage):
            found = jsonlines.search_objects(event)
            return b"".join(text_frame(jsonlines.json_bytes(obj)) for obj in found)
        return text_frame(jsonlines.json_bytes(jsonlines.to_object(event)))


WEB_JSON = WebJsonCodec()

LINE_TOO_LONG = "Message too long (the limit is {limit} bytes); it was dropped."


class FrameReceiver:
    """The receiving side of one browser connection: whole text messages in, requests
    out. Each `receive_data` is one message's payload (the library has put the frame,
    or its fragments, together and checked the frame size limit); the line limit of
    every door applies to it as to a line."""

    __slots__ = ("_events", "_max_line")

    def __init__(self, max_line: int) -> None:
        self._max_line = max_line
        self._events: list[ClientEvent] = []

    @property
    def codec(self) -> Codec:
        return WEB_JSON

    def receive_data(self, data: bytes) -> None:
        if len(data) > self._max_line:
            text = LINE_TOO_LONG.format(limit=self._max_line)
            self._events.append(BadInput(codes.LINE_TOO_LONG, text))
            return
        text = decode_line(data)
        if text.strip():  # an empty message asks for nothing, as an empty line
            self._events.append(jsonlines.parse_line(text))

    def receive_eof(self) -> None:
        """Nothing is held between messages: the end changes nothing."""

    def events_received(self) -> list[ClientEvent]:
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> bytes:
        return b""  # no negotiation of its own: the library answers pings and closes
