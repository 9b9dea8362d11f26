"""The receiving side of one IRC connection, without I/O.

Feed it bytes with `receive_data`, say when the stream ended with `receive_eof`, and
take what arrived with `events_received`: a `Received` per message, or an
`InputTooLong` for a line over the limits, which the door answers with
`417 ERR_INPUTTOOLONG`. No input makes it raise.

Lines end at LF, CRLF or a bare CR. RFC 1459 section 8 asks servers to take either CR
or LF as the end of a message, and the shared `LineFramer` does exactly that,
dropping the empty lines it makes of CRLF; empty messages are to be ignored anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from soketler.protocols.framing import LineFramer, LineTooLong
from soketler.protocols.irc.message import MAX_LINE_CONTENT, Message, parse_message
from soketler.protocols.irc.tags import MAX_CLIENT_TAG_DATA, MAX_TAG_SECTION


class TooLongPart(Enum):
    TAGS = "tags"  # more tag data than a client may send
    LINE = "line"  # the message after the tags is over 512 bytes with its CRLF


@dataclass(frozen=True, slots=True)
class Received:
    message: Message
    # The line was not valid UTF-8; bad bytes became U+FFFD. A server that advertises
    # UTF8ONLY refuses such text instead of relaying it.
    invalid_utf8: bool = False


@dataclass(frozen=True, slots=True)
class InputTooLong:
    part: TooLongPart
    limit: int  # bytes allowed for that part


IrcEvent = Received | InputTooLong


class IrcReceiver:
    """Bytes from one client in, IRC events out.

    The longest line held in memory is the longest valid one: a full tag section
    (8191 bytes) plus 510 bytes of message. Past that the line is reported and the rest
    of it skipped. Within it, the client's tag data may not pass 4094 bytes (the
    message-tags specification's limit for what a client sends; the other half of the
    8191 is for tags the server adds).
    """

    __slots__ = ("_eof", "_events", "_framer", "max_line_content", "max_tag_data")

    def __init__(
        self,
        max_line_content: int = MAX_LINE_CONTENT,
        max_tag_data: int = MAX_CLIENT_TAG_DATA,
        max_tag_section: int = MAX_TAG_SECTION,
    ) -> None:
        self.max_line_content = max_line_content
        self.max_tag_data = max_tag_data
        self._framer = LineFramer(max_tag_section + max_line_content)
        self._events: list[IrcEvent] = []
        self._eof = False

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line held in memory."""
        return self._framer.buffered

    def receive_data(self, data: bytes) -> None:
        if self._eof:
            return
        for item in self._framer.feed(data):
            self._line(item)

    def receive_eof(self) -> None:
        """The peer sends nothing more; an unfinished last line still counts. Idempotent."""
        if self._eof:
            return
        self._eof = True
        for item in self._framer.eof():
            self._line(item)

    def events_received(self) -> list[IrcEvent]:
        events, self._events = self._events, []
        return events

    def _line(self, item: bytes | LineTooLong) -> None:
        if isinstance(item, LineTooLong):
            self._events.append(InputTooLong(TooLongPart.LINE, self.max_line_content))
            return
        body = item
        if item.startswith(b"@"):
            end = item.find(b" ")
            tag_data = len(item) - 1 if end < 0 else end - 1
            if tag_data > self.max_tag_data:
                self._events.append(InputTooLong(TooLongPart.TAGS, self.max_tag_data))
                return
            body = b"" if end < 0 else item[end + 1 :]
        if len(body) > self.max_line_content:
            self._events.append(InputTooLong(TooLongPart.LINE, self.max_line_content))
            return
        # NUL may not appear in a message (RFC 1459 2.3.1); removing it means it can
        # never reach another client, whose C string would end there.
        if b"\x00" in item:
            item = item.replace(b"\x00", b"")
        try:
            text = item.decode()
            invalid = False
        except UnicodeDecodeError:
            text = item.decode("utf-8", "replace")
            invalid = True
        message = parse_message(text)
        if message is not None:
            self._events.append(Received(message, invalid))
