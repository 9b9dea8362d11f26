"""RPL_ISUPPORT (005): the tokens that tell a client how this server behaves.

Format as the Modern document gives it: `TOKEN` or `TOKEN=value`, at most 13 tokens
per 005 line ("as the maximum number of message parameters to any reply is 15"),
each line ending in a human-readable text. In a value, space, backslash and '=' must
be written `\\xHH`; we write every byte outside printable ASCII that way too, because
clients parse 005 as ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from soketler.errors import LocalProtocolError
from soketler.protocols.irc.message import MAX_LINE_CONTENT, Message, pack_words
from soketler.protocols.irc.numerics import RPL_ISUPPORT

MAX_TOKENS_PER_LINE = 13
ISUPPORT_TEXT = "are supported by this server"

_NAME = re.compile(r"-?[A-Z0-9]{1,20}")
_PLAIN_VALUE_BYTE = frozenset(range(0x21, 0x7F)) - {ord("\\"), ord("=")}


def escape_value(value: str) -> str:
    return "".join(
        chr(byte) if byte in _PLAIN_VALUE_BYTE else f"\\x{byte:02X}" for byte in value.encode()
    )


def unescape_value(value: str) -> str:
    """The value as written by `escape_value`, read back (for clients and tests)."""
    raw = bytearray()
    index = 0
    while index < len(value):
        if value.startswith("\\x", index) and re.fullmatch(
            r"[0-9A-Fa-f]{2}", value[index + 2 : index + 4]
        ):
            raw.append(int(value[index + 2 : index + 4], 16))
            index += 4
        else:
            raw += value[index].encode()
            index += 1
    return raw.decode("utf-8", "replace")


def format_token(name: str, value: str | None) -> str:
    """`NAME`, `NAME=value`, or `-NAME` (a token withdrawn) when name starts with '-'."""
    if _NAME.fullmatch(name) is None:
        raise LocalProtocolError(f"invalid ISUPPORT token name {name!r}")
    if value is None or value == "" or name.startswith("-"):
        return name
    return f"{name}={escape_value(value)}"


def isupport_messages(server: str, nick: str, tokens: Mapping[str, str | None]) -> list[Message]:
    """The 005 lines for `tokens`, in order, each within 13 tokens and 512 bytes."""
    words = [format_token(name, value) for name, value in tokens.items()]
    overhead = len(f":{server} {RPL_ISUPPORT} {nick}  :{ISUPPORT_TEXT}".encode())
    messages: list[Message] = []
    for group in pack_words(words, MAX_LINE_CONTENT - overhead):
        for start in range(0, len(group), MAX_TOKENS_PER_LINE):
            chunk = group[start : start + MAX_TOKENS_PER_LINE]
            messages.append(
                Message(RPL_ISUPPORT, (nick, *chunk, ISUPPORT_TEXT), server, trailing=True)
            )
    return messages
