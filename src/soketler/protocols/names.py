"""Rules for nicknames and room names."""

from __future__ import annotations

import re
import unicodedata

MAX_NICK = 30
MAX_ROOM = 50  # including the leading '#'
LOBBY = "#lobby"
_NICK_SYMBOLS = frozenset("_-[]{}|^")
_ROOM_FORBIDDEN = frozenset(" ,\t")


def normalize(name: str) -> str:
    # NFC so that "ş" typed as s + combining cedilla is the same name as the one-code-point "ş".
    return unicodedata.normalize("NFC", name.strip())


# Case folding gives "İ" (capital I with dot, Turkish) as "i" + COMBINING DOT ABOVE; on
# a soft-dotted letter that dot is already drawn, so it goes: "İsmail" is "ismail".
_REDUNDANT_DOT = re.compile("(?<=[ij])\u0307")


def key(name: str) -> str:
    """Identity of a nickname or room name: case-insensitive (Unicode case folding, the
    Turkish dotted capital I folding to i), in any script."""
    folded = unicodedata.normalize("NFD", unicodedata.normalize("NFC", name).casefold())
    return unicodedata.normalize("NFC", _REDUNDANT_DOT.sub("", folded))


# Why a name cannot be a nickname or a room name: codes, worded by each door.
EMPTY = "empty"
TOO_LONG = "too-long"
BAD_START = "bad-start"
BAD_CHARACTER = "bad-character"
TOO_SHORT = "too-short"
NICK_SYMBOLS = "".join(sorted(_NICK_SYMBOLS))
_ZWJ = "\u200d"


def nick_problem(nick: str) -> str | None:
    """Why `nick` (already normalized) cannot be a nickname (EMPTY, TOO_LONG,
    BAD_START, BAD_CHARACTER), or None if it can."""
    if not nick:
        return EMPTY
    if len(nick) > MAX_NICK:
        return TOO_LONG
    if nick[0].isdigit() or nick[0] in "#/":
        return BAD_START
    for char in nick:
        if not (char.isalpha() or char.isdigit() or char in _NICK_SYMBOLS):
            category = unicodedata.category(char)
            if category.startswith("M"):
                continue  # combining marks belong to the letter before them (Hindi, Thai)
            if category in ("So", "Sk") or char == _ZWJ:
                continue  # emoji, skin tones, and the joiner of emoji sequences (👩‍💻)
            return BAD_CHARACTER
    return None


def room_name(name: str) -> str:
    """A room name as typed, with '#' added when it was left out."""
    name = normalize(name)
    return name if name.startswith("#") else "#" + name


def room_problem(name: str) -> str | None:
    """Why `name` (from `room_name`) cannot be a room name (TOO_SHORT, TOO_LONG,
    BAD_CHARACTER), or None if it can."""
    if len(name) < 2:
        return TOO_SHORT
    if len(name) > MAX_ROOM:
        return TOO_LONG
    if any(char in _ROOM_FORBIDDEN or not char.isprintable() for char in name):
        return BAD_CHARACTER
    return None
