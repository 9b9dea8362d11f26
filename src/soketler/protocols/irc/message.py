"""One IRC message: tags, source, command and parameters; parsing and writing.

The grammar is RFC 1459 section 2.3.1 as the "Modern IRC Client Protocol" document
and the IRCv3 message-tags specification describe it:

    [ '@' <tags> SPACE ] [ ':' <source> SPACE ] <command> <parameters> CRLF

Parameters are separated by spaces; the last one may start with ':' and then runs to
the end of the line, spaces included (the "trailing" parameter). Parsing is lenient
the way the Modern document asks: runs of spaces count as one separator, and a line
with nothing but spaces is no message at all. Writing is strict: a parameter that
cannot be written so that it reads back the same is our bug, not the peer's, and
raises `LocalProtocolError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from soketler.errors import LocalProtocolError
from soketler.protocols.irc.tags import format_tags, parse_tags, valid_key

# RFC 1459 2.3: "IRC messages shall not exceed 512 characters in length, counting all
# characters including the trailing CR-LF." Tags are counted separately (tags.py).
MAX_LINE = 512
MAX_LINE_CONTENT = MAX_LINE - 2

_COMMAND = re.compile(r"[A-Za-z]+|[0-9]{3}")
_FORBIDDEN = re.compile(r"[\x00\r\n]")


@dataclass(frozen=True, slots=True)
class Message:
    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    # Write the last parameter with ':' even when it would not need one. Text (PRIVMSG,
    # the human-readable end of a numeric) always gets it: some old clients look for
    # the colon rather than counting parameters.
    trailing: bool = field(default=False, compare=False)

    def to_line(self) -> str:
        """The message as one line, without the line ending."""
        parts: list[str] = []
        if self.tags:
            parts.append("@" + format_tags(self.tags))
        if self.source is not None:
            if not self.source or " " in self.source or _FORBIDDEN.search(self.source):
                raise LocalProtocolError(f"invalid source {self.source!r}")
            parts.append(":" + self.source)
        if _COMMAND.fullmatch(self.command) is None:
            raise LocalProtocolError(f"invalid command {self.command!r}")
        parts.append(self.command)
        last = len(self.params) - 1
        for index, param in enumerate(self.params):
            if _FORBIDDEN.search(param):
                raise LocalProtocolError(f"CR, LF or NUL in parameter {param!r}")
            if index == last:
                if self.trailing or not param or " " in param or param[0] == ":":
                    param = ":" + param
            elif not param or " " in param or param[0] == ":":
                raise LocalProtocolError(f"parameter {param!r} can only be the last one")
            parts.append(param)
        return " ".join(parts)

    def encode(self) -> bytes:
        return self.to_line().encode() + b"\r\n"

    def encode_safely(self) -> bytes:
        """The message as a line even when a parameter cannot be written as given (a
        client's word echoed back in a reply may hold a space): such a middle parameter
        becomes '*', CR, LF and NUL become spaces, tags that cannot be written are left
        out. For replies, where a lost word beats a lost reply."""
        try:
            return self.encode()
        except LocalProtocolError:
            pass
        last = len(self.params) - 1
        params = []
        for index, param in enumerate(self.params):
            param = _FORBIDDEN.sub(" ", param)
            if index < last and (not param or " " in param or param[0] == ":"):
                param = "*"
            params.append(param)
        source = self.source
        if source is not None and (not source or " " in source or _FORBIDDEN.search(source)):
            source = None
        tags = {k: v.replace("\x00", "") for k, v in self.tags.items() if valid_key(k)}
        fixed = Message(self.command, tuple(params), source, tags, self.trailing)
        return fixed.encode()


def _ascii_upper(word: str) -> str:
    # Commands are case-insensitive ASCII words; str.upper on other text could change
    # its length ('ß' -> 'SS'), so only ASCII is folded.
    return word.upper() if word.isascii() else word


def parse_message(line: str) -> Message | None:
    """The message in `line` (without its line ending), or None if it holds no command.

    Never raises: any text gives a message or None.
    """
    rest = line
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        section, space, rest = rest[1:].partition(" ")
        if not space:
            return None
        tags = parse_tags(section)
        rest = rest.lstrip(" ")
    source: str | None = None
    if rest.startswith(":"):
        token, space, rest = rest[1:].partition(" ")
        if not space:
            return None
        source = token or None
        rest = rest.lstrip(" ")
    command, _, rest = rest.partition(" ")
    if not command or command[0] == ":":
        return None
    params: list[str] = []
    while rest:
        rest = rest.lstrip(" ")
        if not rest:
            break
        if rest[0] == ":":
            params.append(rest[1:])
            break
        param, _, rest = rest.partition(" ")
        params.append(param)
    return Message(_ascii_upper(command), tuple(params), source, tags)


def source_nick(source: str) -> str:
    """The nickname part of a `nick!user@host` source."""
    return source.partition("!")[0].partition("@")[0]


def pack_words(words: Iterable[str], budget: int) -> list[list[str]]:
    """Words grouped so that each group, joined by spaces, takes at most `budget` bytes.

    For replies that list many names (NAMES, CAP LS, ISUPPORT): a word longer than the
    budget gets a group of its own rather than being cut.
    """
    groups: list[list[str]] = []
    current: list[str] = []
    used = 0
    for word in words:
        size = len(word.encode())
        if current and used + 1 + size > budget:
            groups.append(current)
            current, used = [], 0
        used += size + (1 if current else 0)
        current.append(word)
    if current:
        groups.append(current)
    return groups
