"""Nicknames that look alike: "İsmail" and "ısmail", "Аlice" in Cyrillic and "Alice".

A nickname is refused when it looks like one someone holds, as Unicode TR39 compares
identifiers: each character is replaced by a representative of the characters it can
be mistaken for (its "skeleton"). The table of look-alike characters comes from the
confusable-homoglyphs package (Unicode's confusables data); characters confusable with
each other form one class, represented by its smallest code point. Classes are of single
characters: multi-character look-alikes ("rn" and "m") are left out.

Identity stays `names.key` (case folding) everywhere, storage included; this is an
extra rule for taking a nickname only.
"""

from __future__ import annotations

import functools
import unicodedata

from confusable_homoglyphs import confusables

from soketler.protocols import names

_MARKS = "\u200e\u200f"  # direction marks the data wraps some right-to-left characters in


@functools.cache
def _classes() -> dict[str, str]:
    """Each look-alike character's class representative (built on first use: the table
    holds ~10,000 entries and only the server needs it)."""
    parent: dict[str, str] = {}

    def find(char: str) -> str:
        root = char
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(char, char) != root:  # shorten the path behind us
            parent[char], char = root, parent[char]
        return root

    for char, alikes in confusables.confusables_data.items():
        if len(char) != 1:
            continue
        for alike in alikes:
            other = alike["c"].strip(_MARKS)
            if len(other) == 1:
                a, b = find(char), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {char: find(char) for char in parent}


def _skeleton(text: str) -> str:
    classes = _classes()
    return "".join(classes.get(char, char) for char in unicodedata.normalize("NFD", text))


def looks(nick: str) -> tuple[str, str]:
    """What a nickname looks like, case aside, two ways: look-alikes mapped before case
    folding ("I" may be an "l") and after it ("ı" is an "i"; "o" and "O" are one letter).
    Two nicknames that share either are taken for one person."""
    text = unicodedata.normalize("NFD", nick).replace("I\u0307", "i")  # Turkish İ
    as_written = unicodedata.normalize("NFC", _skeleton(_skeleton(text).casefold()))
    folded = unicodedata.normalize("NFC", _skeleton(names.key(nick)))
    return as_written, folded
