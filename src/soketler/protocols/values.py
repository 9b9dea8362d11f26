"""Numbers a client gives, checked where they come in, for every door."""

from __future__ import annotations

# The largest number a client may give: a message id is an SQLite INTEGER (signed
# 64-bit), and a bigger one would fail in the store, not where it is the sender's fault.
MAX_NUMBER = (1 << 63) - 1


def whole_number(value: object) -> int | None:
    """A count or message id a client gave, if it is one: a whole number from 1 to
    MAX_NUMBER, as a JSON integer or as ASCII digits. None otherwise (floats, NaN,
    booleans, negative, huge, or digits of other scripts, which int() would accept)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 19:
            return None
        value = int(value)
    if isinstance(value, int) and 1 <= value <= MAX_NUMBER:
        return value
    return None
