"""History search queries: what a person types, as data every store understands.

    release "group commit" from:ayşe in:#dev after:2026-11-01 before:2026-12-01 deploy*

- words match whole words, ignoring case and accents (`gecis` finds `geçiş`); a word
  ending in `*` matches as a prefix; "a quoted phrase" matches those words in a row;
- `from:NICK` keeps messages NICK sent; `in:#room` (or `in:room`) keeps one room;
- `after:DATE` keeps messages from the day after DATE on, `before:DATE` messages from
  before DATE (DATE is YYYY-MM-DD; both bounds exclude the day itself, so
  `after:2026-11-01 before:2026-11-03` is 2 November).

A filter appears at most once. Anything else with a colon (`http://x`) is words.
The parser is pure; `tokens` is the one definition of a word, shared by the SQLite
index (FTS5 `unicode61 remove_diacritics 2` splits and folds text the same way) and
the in-memory store's scan.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from soketler.errors import SoketlerError
from soketler.protocols.events import ChatMessage
from soketler.protocols.names import key

MAX_QUERY = 500  # characters; a search is a line a person types
MAX_TERMS = 16  # words and phrases: each is one more index lookup

# User-visible reasons a query is refused (the `text` of a `bad-query` error).
FILTER_TWICE = "{name}: may appear once in a search."
FILTER_EMPTY = "{name}: needs a value, e.g. {example}."
BAD_DATE = "{name}: needs a date as YYYY-MM-DD, not {value!r}."
UNCLOSED_QUOTE = "A quoted phrase is missing its closing quote."
NOTHING_TO_SEARCH = "Nothing to search for: give a word or a filter (from:, in:, before:, after:)."
EMPTY_RANGE = "No day is both after:{after} and before:{before}."
TOO_LONG = f"A search is at most {MAX_QUERY} characters."

TOO_MANY_TERMS = f"A search holds at most {MAX_TERMS} words and phrases."

_EXAMPLES = {
    "from": "from:ayşe",
    "in": "in:#dev",
    "before": "before:2026-11-23",
    "after": "after:2026-11-01",
}


class QueryError(SoketlerError):
    """A search the person typed cannot be run; the text says why, for people."""


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a phrase, as the index sees it: folded tokens that must occur in a row."""

    tokens: tuple[str, ...]
    prefix: bool = False  # the last token matches as a prefix

    def __str__(self) -> str:
        text = " ".join(self.tokens)
        quoted = f'"{text}"' if len(self.tokens) > 1 else text
        return quoted + ("*" if self.prefix else "")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[Term, ...] = ()
    sender: str | None = None  # from:
    room: str | None = None  # in:, always with its '#'
    before: date | None = None
    after: date | None = None

    def bounds(self, tz: tzinfo = UTC) -> tuple[datetime | None, datetime | None]:
        """The time range kept: (from, until), from inclusive, until exclusive.

        Dates are days in `tz`: the hub may pass the reader's zone; UTC otherwise.
        """
        start = None
        if self.after is not None:
            start = datetime.combine(self.after + timedelta(days=1), time(), tz)
        end = datetime.combine(self.before, time(), tz) if self.before is not None else None
        return start, end

    def __str__(self) -> str:
        """The canonical spelling; parsing it gives this query back."""
        parts = [str(term) for term in self.terms]
        if self.sender is not None:
            parts.append(f"from:{self.sender}")
        if self.room is not None:
            parts.append(f"in:{self.room}")
        if self.after is not None:
            parts.append(f"after:{self.after.isoformat()}")
        if self.before is not None:
            parts.append(f"before:{self.before.isoformat()}")
        return " ".join(parts)


def _is_token_char(char: str) -> bool:
    # As FTS5's unicode61 tokenizer: letters, numbers and private-use characters.
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Co"


def fold(text: str) -> str:
    """Lower case without accents: what both stores compare."""
    # NFD, not NFKD: the index does not fold compatibility forms (ﬁ, ², full width).
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept).lower()


def tokens(text: str) -> tuple[str, ...]:
    """The words of a text as the search index sees them, in order."""
    words: list[str] = []
    current: list[str] = []
    for char in fold(text):
        if _is_token_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return tuple(words)


# A quoted phrase, a filter (name:value) or a bare word, separated by white space.
_PIECE = re.compile(r'\s*(?:"(?P<phrase>[^"]*)"(?P<star>\*?)|(?P<word>[^\s"]+)|(?P<open>"))')
_FILTERS = ("from", "in", "before", "after")


def _date(name: str, value: str) -> date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise QueryError(BAD_DATE.format(name=name, value=value))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(BAD_DATE.format(name=name, value=value)) from None


def _room(value: str) -> str:
    return value if value.startswith("#") else "#" + value


def parse_query(text: str) -> SearchQuery:
    """The query in `text`. Raises QueryError (with a text for people), never more."""
    if len(text) > MAX_QUERY:
        raise QueryError(TOO_LONG)
    terms: list[Term] = []
    given: dict[str, str] = {}  # filter name -> its value as typed
    position = 0
    while position < len(text):
        piece = _PIECE.match(text, position)
        if piece is None:  # only trailing white space is left
            break
        position = piece.end()
        if piece["open"] is not None:
            raise QueryError(UNCLOSED_QUOTE)
        if piece["phrase"] is not None:
            _add_term(terms, piece["phrase"], prefix=bool(piece["star"]))
            continue
        word = piece["word"]
        name, colon, value = word.partition(":")
        name = name.lower()
        if colon and name in _FILTERS:
            if name in given:
                raise QueryError(FILTER_TWICE.format(name=name))
            if not value:
                raise QueryError(FILTER_EMPTY.format(name=name, example=_EXAMPLES[name]))
            given[name] = value
            continue
        prefix = word.endswith("*")
        _add_term(terms, word.rstrip("*") if prefix else word, prefix=prefix)
    before = _date("before", given["before"]) if "before" in given else None
    after = _date("after", given["after"]) if "after" in given else None
    if before and after and before <= after + timedelta(days=1):
        raise QueryError(EMPTY_RANGE.format(after=after, before=before))
    if len(terms) > MAX_TERMS:
        raise QueryError(TOO_MANY_TERMS)
    query = SearchQuery(
        terms=tuple(terms),
        sender=given.get("from"),
        room=_room(given["in"]) if "in" in given else None,
        before=before,
        after=after,
    )
    if query == SearchQuery():
        raise QueryError(NOTHING_TO_SEARCH)
    return query


def _add_term(terms: list[Term], text: str, prefix: bool) -> None:
    words = tokens(text)
    if words and Term(words, prefix) not in terms:  # "---" or "👋" hold no word to look up
        terms.append(Term(words, prefix))


def matches(query: SearchQuery, text: str) -> bool:
    """Whether a message text holds every term of the query (filters aside)."""
    if not query.terms:
        return True
    have = tokens(text)
    return all(_holds(have, term) for term in query.terms)


def _holds(have: tuple[str, ...], term: Term) -> bool:
    size = len(term.tokens)
    *whole, last = term.tokens
    for start in range(len(have) - size + 1):
        window = have[start : start + size]
        if list(window[:-1]) == whole and (
            window[-1].startswith(last) if term.prefix else window[-1] == last
        ):
            return True
    return False


def scanner(
    query: SearchQuery,
    viewer_key: str,
    rooms: Collection[str] | None,
    before: int | None,
    tz: tzinfo,
    private_after: int = 0,
) -> Callable[[ChatMessage], bool]:
    """A test of one message for a store without an index, which scans what it keeps:
    whether the viewer may read it (a room in `rooms`, or one of its own private
    conversations from id `private_after` on) and it matches the query."""
    start, end = query.bounds(tz)
    sender = key(query.sender) if query.sender is not None else None
    room = key(query.room) if query.room is not None else None

    def found(m: ChatMessage) -> bool:
        if m.room is not None:
            where = key(m.room)
            if (room is not None and where != room) or (rooms is not None and where not in rooms):
                return False
        elif (
            room is not None
            or m.id < private_after
            or viewer_key not in (key(m.sender), key(m.to or ""))
        ):
            return False
        return (
            (before is None or m.id < before)
            and (sender is None or key(m.sender) == sender)
            and (start is None or m.time >= start)
            and (end is None or m.time < end)
            and matches(query, m.text)
        )

    return found
