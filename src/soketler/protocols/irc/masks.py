"""Ban masks: `nick!user@host` patterns with `*` and `?`.

A client may give a partial mask (`bob`, `*@example.net`, `bob!*`); like most
servers we complete it to the full three-part form before storing, so the list shows
what is matched and the same ban cannot be stored twice in two spellings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

ANY = "*"


def normalize_mask(mask: str) -> str:
    nick, bang, rest = mask.partition("!")
    if bang:
        user, at, host = rest.partition("@")
        return f"{nick or ANY}!{user or ANY}@{host if at and host else ANY}"
    if "@" in mask:
        user, _, host = mask.partition("@")
        return f"{ANY}!{user or ANY}@{host or ANY}"
    return f"{mask or ANY}!{ANY}@{ANY}"


@lru_cache(maxsize=1024)
def _pattern(mask: str) -> re.Pattern[str]:
    parts = ("." if char == "?" else ".*" if char == ANY else re.escape(char) for char in mask)
    return re.compile("".join(parts), re.DOTALL)


def mask_matches(mask: str, source: str, fold: Callable[[str], str] = str.casefold) -> bool:
    """Whether `source` (nick!user@host) is matched by `mask`, ignoring case via `fold`."""
    return _pattern(fold(mask)).fullmatch(fold(source)) is not None
