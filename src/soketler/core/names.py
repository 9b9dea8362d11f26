"""Rules for nicknames and room names."""

from __future__ import annotations

import unicodedata

MAX_NICK = 30
MAX_ROOM = 50  # including the leading '#'
LOBBY = "#lobby"
_NICK_SYMBOLS = frozenset("_-[]{}|^")
_ROOM_FORBIDDEN = frozenset(" ,\t")


def normalize(name: str) -> str:
    # NFC so that "ş" typed as s + combining cedilla is the same name as the one-code-point "ş".
    return unicodedata.normalize("NFC", name.strip())


def key(name: str) -> str:
    """Identity of a nickname or room name: case-insensitive, Unicode-aware."""
    return unicodedata.normalize("NFC", name).casefold()


def nick_problem(nick: str) -> str | None:
    """Why `nick` (already normalized) cannot be a nickname, or None if it can."""
    if not nick:
        return "A nickname cannot be empty."
    if len(nick) > MAX_NICK:
        return f"A nickname has at most {MAX_NICK} characters."
    if nick[0].isdigit() or nick[0] in "#/":
        return "A nickname cannot start with a digit, # or /."
    for char in nick:
        if not (char.isalpha() or char.isdigit() or char in _NICK_SYMBOLS):
            if unicodedata.category(char).startswith("M"):
                continue  # combining marks belong to the letter before them (Hindi, Thai)
            return f"A nickname may hold letters, digits and {''.join(sorted(_NICK_SYMBOLS))}."
    return None


def room_name(name: str) -> str:
    """A room name as typed, with '#' added when it was left out."""
    name = normalize(name)
    return name if name.startswith("#") else "#" + name


def room_problem(name: str) -> str | None:
    """Why `name` (from `room_name`) cannot be a room name, or None if it can."""
    if len(name) < 2:
        return "A room name is # and at least one more character."
    if len(name) > MAX_ROOM:
        return f"A room name has at most {MAX_ROOM} characters."
    if any(char in _ROOM_FORBIDDEN or not char.isprintable() for char in name):
        return "A room name cannot hold spaces, commas or control characters."
    return None
