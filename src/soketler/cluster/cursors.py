"""Message ids in cluster mode: a Redis stream id `ms-seq` as one orderable integer.

    cursor = ms << SEQ_BITS | seq

The order of cursors is the order of stream ids, so the hub's integer ids, its `before`
bounds and the SQLite store's ids keep working unchanged. The cursor stays below 2**53,
so it survives a JSON number in a browser (a double) exactly: 43 bits of milliseconds
(until the year 2248) and 10 bits of sequence. Redis numbers entries added in the same
millisecond 0, 1, 2, ...; the publish script (`scripts.PUBLISH`) moves an entry that
would get a sequence of SEQ_LIMIT or more to the next millisecond, so every entry this
code adds has a cursor.
"""

from __future__ import annotations

SEQ_BITS = 10
SEQ_LIMIT = 1 << SEQ_BITS  # entries one stream can take in one millisecond
MS_LIMIT = 1 << (53 - SEQ_BITS)
MAX_CURSOR = (1 << 53) - 1  # the largest integer a JavaScript number holds exactly


class CursorError(ValueError):
    """A stream id with no cursor, or an integer that is no cursor."""


def cursor(stream_id: str) -> int:
    """The cursor of a stream id such as '1764612345678-3'."""
    ms_text, dash, seq_text = stream_id.partition("-")
    if not dash or not ms_text.isdigit() or not seq_text.isdigit():
        raise CursorError(f"not a stream id: {stream_id!r}")
    ms, seq = int(ms_text), int(seq_text)
    if seq >= SEQ_LIMIT or ms >= MS_LIMIT:
        raise CursorError(f"stream id {stream_id} is beyond what a cursor can hold")
    return ms << SEQ_BITS | seq


def stream_id(value: int) -> str:
    """The stream id of a cursor (the inverse of `cursor`)."""
    if not 0 <= value <= MAX_CURSOR:
        raise CursorError(f"{value} is not a message cursor (0 to 2**53 - 1)")
    return f"{value >> SEQ_BITS}-{value & (SEQ_LIMIT - 1)}"


def at_time(ms: int) -> int:
    """The smallest cursor a stream could give at or after `ms` (a bound for pages)."""
    return min(MAX_CURSOR, max(0, ms) << SEQ_BITS)
