"""A multi-line paste, cut into the messages it will be sent as (no I/O).

A terminal wraps a paste in bracketed-paste markers, so the client knows which text
came as one paste. Each pasted line becomes a message of its own, in order: never
joined into one line (the server would run them together), and never dropped
because together they are longer than the server's line limit. A line longer than
that limit is cut at a space into several messages.

Pasted lines are always messages, even when one starts with `/`: pasted logs and
code are full of `/usr/...`, and running them as commands would be a surprise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from soketler.client.codec import encode
from soketler.client.requests import Say

# More lines than this ask before they are sent, as irssi does (paste_verify_line_count).
CONFIRM_ABOVE_LINES = 5
# The server's default --max-line: no encoded request may be longer (newline excluded).
SERVER_MAX_LINE = 4096
# Room for the `id` the client adds to each request when it is sent.
_ID_ROOM = 24


@dataclass(frozen=True, slots=True)
class Paste:
    """Lines to send as messages to `room` (None: the server's current room)."""

    lines: tuple[str, ...]
    room: str | None


@dataclass(frozen=True, slots=True)
class Split:
    """A paste into a half-typed input line: what to send, and what stays typed."""

    lines: tuple[str, ...]  # complete lines, blank ones left out
    rest: str  # the unfinished last line, left in the input for more typing
    cursor: int  # where the cursor goes in `rest`


def split_paste(before: str, data: str, after: str) -> Split:
    """Pasting `data` between `before` and `after` (the input line around the cursor).

    Every line the paste completes is sent; text after the last newline stays in the
    input, as it would in a shell, so a paste of one partial line is just typing.
    """
    text = before + data.replace("\r\n", "\n").replace("\r", "\n") + after
    *complete, rest = text.split("\n")
    return Split(tuple(line for line in complete if line.strip()), rest, len(rest) - len(after))


def fitted(text: str, room: str | None, limit: int = SERVER_MAX_LINE) -> list[str]:
    """`text` as few messages as fit in `limit` bytes each, cut at spaces where it can
    (a word longer than a whole message is cut where the limit falls)."""
    budget = limit - _size("", room)
    if _cost(text) <= budget:
        return [text]
    parts: list[str] = []
    words: list[str] = []
    used = 0
    for word in text.split(" "):
        cost = _cost(word)
        gap = 1 if words else 0
        if used + gap + cost <= budget:
            words.append(word)
            used += gap + cost
            continue
        if words:
            parts.append(" ".join(words))
        words, used = [], 0
        while cost > budget:  # one word longer than a message: cut it by characters
            head = _longest_head(word, budget)
            parts.append(head)
            word = word[len(head) :]
            cost = _cost(word)
        words, used = [word], cost
    parts.append(" ".join(words))
    return parts


def _longest_head(word: str, budget: int) -> str:
    used = 0
    for index, char in enumerate(word):
        used += _cost(char)
        if used > budget:
            return word[: max(index, 1)]
    return word


def messages(paste: Paste, limit: int = SERVER_MAX_LINE) -> list[str]:
    """Every message a paste is sent as, in order."""
    return [part for line in paste.lines for part in fitted(line, paste.room, limit)]


def _size(text: str, room: str | None) -> int:
    return len(encode(Say(text, room=room))) - 1 + _ID_ROOM  # newline excluded


def _cost(text: str) -> int:
    """Bytes `text` takes inside a JSON string: JSON escaping is per character, so the
    cost of a message is the sum of the costs of its words and spaces."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2
