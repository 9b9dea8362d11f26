"""How wide text is on a terminal, and fitting server lines into 80 columns.

telnet and nc users read in a terminal that wraps long lines wherever the edge falls,
often mid-word, so every line the server composes is wrapped here at word boundaries
instead. Width is counted in terminal cells: East Asian wide characters (민준, 漢字)
take two, combining marks none.
"""

from __future__ import annotations

import textwrap
import unicodedata

TERMINAL_WIDTH = 80
TAB_SIZE = 8
# Help texts: "-- " before each line leaves 76 columns; a usage longer than this takes a
# line of its own, with its summary below, so the summaries' column stays narrow.
HELP_WIDTH = 76
HELP_USAGE_COLUMN = 24


def cell_width(char: str) -> int:
    """Terminal cells one code point takes (0, 1 or 2)."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def columns(text: str) -> int:
    """Terminal cells `text` takes on one line."""
    if text.isascii():
        return len(text)
    return sum(cell_width(char) for char in text)


def _cut(word: str, room: int) -> tuple[str, str]:
    """The longest head of `word` that fits `room` cells (at least one character)."""
    used = 0
    for index, char in enumerate(word):
        used += cell_width(char)
        if used > room and index > 0:
            return word[:index], word[index:]
    return word, ""


def wrap(text: str, first: str, rest: str, width: int = TERMINAL_WIDTH) -> list[str]:
    """`text` as lines of at most `width` cells: `first` before the first line, `rest`
    before each following one. Breaks at spaces; a word longer than a line is cut.

    Leading spaces of `text` are kept (they indent, as in /help), and the lines after
    the first are indented the same way. Tabs become spaces first, to the next multiple
    of TAB_SIZE counted from the start of the line.
    """
    if "\t" in text:
        text = (first + text).expandtabs(TAB_SIZE)[len(first) :]
    stripped = text.lstrip(" ")
    indent = text[: len(text) - len(stripped)]
    first, rest = first + indent, rest + indent
    lines: list[str] = []
    line, used = first, columns(first)
    fresh = True  # nothing but the prefix on `line` yet
    for word in stripped.split(" "):
        size = columns(word)
        gap = 0 if fresh else 1
        if used + gap + size <= width:
            line += ("" if fresh else " ") + word
            used += gap + size
            fresh = False
            continue
        if not fresh:
            lines.append(line)
            line, used, fresh = rest, columns(rest), True
        while used + size > width:  # a word wider than a whole line: cut it
            head, word = _cut(word, max(1, width - used))
            lines.append(line + head)
            line, used = rest, columns(rest)
            size = columns(word)
        if word:
            line += word
            used += size
            fresh = False
    if not fresh or not lines:
        lines.append(line)
    return lines


def two_columns(rows: list[tuple[str, str]], width: int = HELP_WIDTH) -> list[str]:
    """`  usage  summary` lines within `width` columns: a usage too long for the first
    column puts its summary on the next line, and summaries wrap under their column."""
    first = max((len(left) for left, _ in rows if len(left) <= HELP_USAGE_COLUMN), default=0)
    column = 2 + first + 2
    lines: list[str] = []
    for left, right in rows:
        parts = textwrap.wrap(right, width - column) or [""]
        if len(left) > first:
            lines.append(f"  {left}")
        else:
            lines.append(f"  {left:<{first}}  {parts.pop(0)}".rstrip())
        lines += [" " * column + part for part in parts]
    return lines
