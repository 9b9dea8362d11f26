"""IRCv3 message tags: the `@key=value;key2` section in front of a message.

Escaping follows the message-tags specification (ircv3.net/specs/extensions/message-tags):
in a value, `;` is written `\\:`, a space `\\s`, a backslash `\\\\`, CR `\\r` and LF
`\\n`. On reading, a backslash before any other character stands for that character,
and a lone backslash at the end of a value is dropped. A tag without `=` and a tag
with an empty value mean the same thing, so both are kept as the empty string and
written without `=`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from soketler.errors import LocalProtocolError

# "Clients MUST NOT send messages with tag data exceeding 4094 bytes" and servers may
# add as much again: with the '@', the ';' between the two halves and the trailing
# space, a line's tag section is at most 8191 bytes.
MAX_CLIENT_TAG_DATA = 4094
MAX_TAG_SECTION = 8191

CLIENT_ONLY_PREFIX = "+"

# <key> ::= [ <client_prefix> ] [ <vendor> '/' ] <key_name>; the vendor is a host
# name and the key name is letters, digits and hyphens.
_KEY = re.compile(r"\+?(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?/)?[A-Za-z0-9-]+")

_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}
_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_NEEDS_ESCAPE = re.compile(r"[; \\\r\n]")


def valid_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


def is_client_only(key: str) -> bool:
    """Client-only tags (`+typing`, `+draft/reply`) are relayed; others are the server's."""
    return key.startswith(CLIENT_ONLY_PREFIX)


def escape_value(value: str) -> str:
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return _NEEDS_ESCAPE.sub(lambda match: _ESCAPES[match.group()], value)


def unescape_value(raw: str) -> str:
    if "\\" not in raw:
        return raw
    out: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, None)
        if following is None:
            break  # a trailing lone backslash is dropped
        out.append(_UNESCAPES.get(following, following))
    return "".join(out)


def parse_tags(section: str) -> dict[str, str]:
    """The tags of a section (without its leading '@').

    A key that is not a valid tag name is dropped rather than kept: client-only tags
    are relayed to other people, so nothing we cannot write back out may get in.
    When a key appears twice, the last one wins, as the specification says.
    """
    tags: dict[str, str] = {}
    for item in section.split(";"):
        if not item:
            continue
        key, _, raw = item.partition("=")
        if valid_key(key):
            tags[key] = unescape_value(raw)
    return tags


def format_tags(tags: Mapping[str, str]) -> str:
    """The tag section without '@' and trailing space; raises on a key we must not write."""
    parts: list[str] = []
    for key, value in tags.items():
        if not valid_key(key):
            raise LocalProtocolError(f"invalid tag key {key!r}")
        if "\x00" in value:
            raise LocalProtocolError(f"NUL in the value of tag {key!r}")
        parts.append(f"{key}={escape_value(value)}" if value else key)
    return ";".join(parts)
