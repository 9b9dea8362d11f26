"""Line framing: a byte stream in, complete lines out, with a hard length limit.

Why every CR and LF ends a line: people arrive on `nc` (LF), on `telnet` (CRLF, or CR
NUL in the RFC 854 NVT), and on old Macs' habits (bare CR). Treating CR and LF alike
and dropping empty lines gives the same lines for all of them, and it makes the result
independent of how TCP split the stream: a CRLF cut between two packets is a CR that
ends the line and an LF that makes an empty one, which is dropped. The NUL of CR NUL
starts the next line and is removed with the other control characters later.
"""

from __future__ import annotations

from dataclasses import dataclass

IAC = 0xFF
_SB = 250  # subnegotiation begins: IAC SB ... IAC SE
_SE = 240
_WILL, _WONT, _DO, _DONT = 251, 252, 253, 254

# States of the telnet filter (RFC 854): where we are in an IAC sequence.
_DATA, _IAC, _OPTION, _SUB, _SUB_IAC = range(5)
# A subnegotiation longer than this is not telnet, it is an attack on our memory.
MAX_SUBNEGOTIATION = 256


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """A line went past the limit; its remaining bytes up to the next newline are dropped."""

    limit: int


class TelnetFilter:
    """Removes telnet negotiation (IAC sequences) from a byte stream.

    0xFF never occurs in UTF-8, so stripping IAC sequences cannot damage text. IAC IAC
    stands for a literal 0xFF byte; we keep it so it decodes to U+FFFD like any other
    invalid byte. An IAC followed by a byte that is not a command drops only the IAC.
    """

    __slots__ = ("_state", "_sub_len")

    def __init__(self) -> None:
        self._state = _DATA
        self._sub_len = 0

    def feed(self, data: bytes) -> bytes:
        if self._state == _DATA and IAC not in data:
            return data
        out = bytearray()
        state = self._state
        for byte in data:
            if state == _DATA:
                if byte == IAC:
                    state = _IAC
                else:
                    out.append(byte)
            elif state == _IAC:
                if byte == IAC:
                    out.append(IAC)
                    state = _DATA
                elif byte in (_WILL, _WONT, _DO, _DONT):
                    state = _OPTION
                elif byte == _SB:
                    state = _SUB
                    self._sub_len = 0
                elif byte >= _SE:
                    state = _DATA  # a two-byte command: NOP, AYT, GA, ...
                else:
                    out.append(byte)
                    state = _DATA
            elif state == _OPTION:
                state = _DATA
            elif state == _SUB:
                self._sub_len += 1
                if byte == IAC:
                    state = _SUB_IAC
                elif self._sub_len > MAX_SUBNEGOTIATION:
                    state = _DATA
            else:  # _SUB_IAC
                state = _DATA if byte == _SE else _SUB
        self._state = state
        return bytes(out)


class LineFramer:
    """Splits bytes into lines of at most `max_line` bytes (terminator excluded)."""

    __slots__ = ("_discarding", "_partial", "max_line")

    def __init__(self, max_line: int = 4096) -> None:
        if max_line < 1:
            raise ValueError("max_line must be positive")
        self.max_line = max_line
        self._partial = b""
        self._discarding = False

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished line (never more than max_line)."""
        return len(self._partial)

    def feed(self, data: bytes) -> list[bytes | LineTooLong]:
        out: list[bytes | LineTooLong] = []
        if not data:
            return out
        # bytes.splitlines splits on exactly CR, LF and CRLF, in C.
        parts = data.splitlines()
        ends_line = data[-1] in (10, 13)
        tail = b"" if ends_line else parts.pop()
        for index, part in enumerate(parts):
            if index == 0:
                if self._discarding:
                    self._discarding = False
                    self._partial = b""
                    continue
                part = self._partial + part if self._partial else part
                self._partial = b""
            if len(part) > self.max_line:
                out.append(LineTooLong(self.max_line))
            elif part:
                out.append(part)
        # After a complete line the discard mode is over; otherwise it still holds.
        if not ends_line and not self._discarding:
            self._partial = tail if parts else self._partial + tail
            if len(self._partial) > self.max_line:
                out.append(LineTooLong(self.max_line))
                self._partial = b""
                self._discarding = True
        return out

    def eof(self) -> list[bytes | LineTooLong]:
        """The stream ended: an unfinished line still counts. Harmless to call twice."""
        rest, self._partial = self._partial, b""
        self._discarding = False
        return [rest] if rest else []
