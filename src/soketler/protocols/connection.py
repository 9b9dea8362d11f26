"""The receiving side of one chat connection, without I/O.

Feed it bytes with `receive_data`, then take the requests with `events_received`.
It picks the flavour from the first non-empty line: a JSON object chooses JSON lines,
anything else the plain flavour. Sending is not here: the core encodes each event once
per flavour with the shared codecs (`PLAIN`, `JSON`) and every connection gets the
same bytes.
"""

from __future__ import annotations

from enum import Enum

from soketler.protocols import jsonlines, plain
from soketler.protocols.events import BadInput, ClientEvent, Codec
from soketler.protocols.framing import IAC, LineFramer, LineTooLong, TelnetFilter
from soketler.protocols.text import decode_line


class Flavour(Enum):
    PLAIN = "plain"
    JSON = "json"


CODECS: dict[Flavour, Codec] = {Flavour.PLAIN: plain.PLAIN, Flavour.JSON: jsonlines.JSON}

# IAC DO BINARY (RFC 856): asks the client to send 8-bit data. Without it the inetutils
# telnet client drops some bytes of UTF-8 text (0x85, the third byte of many Korean
# syllables). Only DO: offering WILL BINARY too makes that client stop turning the
# Enter it echoes into CR LF, and the screen staircases. nc users would see these
# bytes as junk, so they go only to clients that end lines with CR, as telnet does.
TELNET_BINARY = bytes([IAC, 253, 0])
WILL, WONT, TELOPT_ECHO = 251, 252, 1


class ServerConnection:
    __slots__ = (
        "_asked_binary",
        "_close_words",
        "_eof",
        "_events",
        "_framer",
        "_saw_cr",
        "_telnet",
        "_to_send",
        "flavour",
    )

    def __init__(
        self, max_line: int = 4096, close_words: frozenset[str] = plain.CLOSE_WORDS
    ) -> None:
        # Made when first needed (most clients never negotiate; idle ones send nothing):
        # a server holds thousands of these.
        self._telnet: TelnetFilter | None = None
        self._framer = LineFramer(max_line)
        self._close_words = close_words
        self._events: list[ClientEvent] | None = None
        self._eof = False
        self._asked_binary = False
        self._saw_cr = False
        self._to_send = b""
        self.flavour: Flavour | None = None

    @property
    def codec(self) -> Codec:
        """The encoder for this client: plain until the client has chosen JSON."""
        return jsonlines.JSON if self.flavour is Flavour.JSON else plain.PLAIN

    @property
    def telnet(self) -> bool:
        """Whether the client looks like telnet (it ends lines with CR, or negotiates):
        only then may telnet negotiation be sent without showing up as junk."""
        return self._saw_cr or self._telnet is not None

    def hide_input(self, hidden: bool) -> bytes:
        """Telnet's way to stop (or start again) showing what the person types: the
        server says it will echo (RFC 857), and then echoes nothing. Empty for others."""
        if not self.telnet:
            return b""
        return bytes([IAC, WILL if hidden else WONT, TELOPT_ECHO])

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line held in memory (bounded by max_line)."""
        return self._framer.buffered

    def receive_data(self, data: bytes) -> None:
        if self._eof:
            return
        if not self._saw_cr and b"\r" in data:
            self._saw_cr = True
        telnet = self._telnet
        if telnet is None and IAC in data:
            telnet = self._telnet = TelnetFilter()
        if telnet is not None:
            data = telnet.feed(data)
        for item in self._framer.feed(data):
            self._line(item)
        # Asked only once the first line has shown a person (not JSON): a program that
        # ends its lines with CRLF must get nothing but JSON back.
        if self._saw_cr and not self._asked_binary and self.flavour is Flavour.PLAIN:
            self._asked_binary = True
            self._to_send += TELNET_BINARY

    def data_to_send(self) -> bytes:
        """Protocol bytes this connection owes the client (telnet negotiation)."""
        data, self._to_send = self._to_send, b""
        return data

    def receive_eof(self) -> None:
        """The peer will send nothing more; an unfinished last line still counts."""
        if self._eof:
            return
        self._eof = True
        for item in self._framer.eof():
            self._line(item)

    def events_received(self) -> list[ClientEvent]:
        events, self._events = self._events, None
        return events if events is not None else []

    def _line(self, item: bytes | LineTooLong) -> None:
        if self._events is None:
            self._events = []
        if isinstance(item, LineTooLong):
            self._events.append(
                BadInput(
                    "line-too-long",
                    f"Line too long (the limit is {item.limit} bytes); it was dropped.",
                )
            )
            return
        text = decode_line(item)
        if not text.strip():
            return
        if self.flavour is None:
            self.flavour = Flavour.JSON if jsonlines.looks_like_json(text) else Flavour.PLAIN
        if self.flavour is Flavour.JSON:
            self._events.append(jsonlines.parse_line(text))
        else:
            self._events.append(plain.parse_line(text, self._close_words))
