"""Stream rewrites for `-C` (CRLF line endings) and `--hex` (a hex dump of input)."""

from __future__ import annotations

from typing import Protocol

HEX_WIDTH = 16  # bytes per dump line, as in `hexdump -C` and `ncat --hex-dump`


class Transform(Protocol):
    """Rewrites a stream chunk by chunk; `flush` returns what is held back at the end."""

    def feed(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class CrlfLines:
    """Turns each bare LF into CRLF, leaving existing CRLF pairs alone (nc -C).

    A CR at the end of one chunk and the LF at the start of the next are one pair,
    so the last byte seen is carried over.
    """

    def __init__(self) -> None:
        self._after_cr = False

    def feed(self, data: bytes) -> bytes:
        if not data:
            return data
        out = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if self._after_cr and data.startswith(b"\n"):
            out = out[1:]  # the CR that pairs with this LF went out with the last chunk
        self._after_cr = data.endswith(b"\r")
        return out

    def flush(self) -> bytes:
        return b""


def _printable(byte: int) -> str:
    return chr(byte) if 0x20 <= byte < 0x7F else "."


def hex_line(offset: int, row: bytes) -> str:
    """`00000010  68 65 6c 6c 6f 0a ...  |hello.|` for up to 16 bytes."""
    cells = [f"{byte:02x}" for byte in row] + ["  "] * (HEX_WIDTH - len(row))
    left, right = " ".join(cells[:8]), " ".join(cells[8:])
    text = "".join(_printable(byte) for byte in row)
    return f"{offset:08x}  {left}  {right}  |{text}|\n"


class HexDump:
    """A `hexdump -C` style dump of a stream; offsets run on across chunks.

    Each chunk is dumped as soon as it arrives (a short partial row included), as
    `ncat --hex-dump` does: someone watching a live connection wants to see "hi"
    now, not when 14 more bytes come.
    """

    def __init__(self) -> None:
        self._offset = 0

    def feed(self, data: bytes) -> bytes:
        lines = [
            hex_line(self._offset + start, data[start : start + HEX_WIDTH])
            for start in range(0, len(data), HEX_WIDTH)
        ]
        self._offset += len(data)
        return "".join(lines).encode("ascii")

    def flush(self) -> bytes:
        return b""
