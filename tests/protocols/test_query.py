"""The search query parser: text in, SearchQuery (or a reason for people) out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols.query import (
    BAD_DATE,
    EMPTY_RANGE,
    FILTER_TWICE,
    MAX_QUERY,
    MAX_TERMS,
    NOTHING_TO_SEARCH,
    UNCLOSED_QUOTE,
    QueryError,
    SearchQuery,
    Term,
    matches,
    parse_query,
    tokens,
)


def test_words_phrases_prefixes_and_every_filter() -> None:
    query = parse_query(
        'release "Group Commit" from:Ayşe in:dev after:2026-11-01 before:2026-12-01 depl*'
    )
    assert query == SearchQuery(
        terms=(
            Term(("release",)),
            Term(("group", "commit")),
            Term(("depl",), prefix=True),
        ),
        sender="Ayşe",
        room="#dev",
        after=date(2026, 11, 1),
        before=date(2026, 12, 1),
    )


def test_words_fold_case_and_accents_and_split_on_punctuation() -> None:
    assert tokens("Geçiş ÖZEL, e-mail: naïve_42!") == ("gecis", "ozel", "e", "mail", "naive", "42")
    assert parse_query("e-mail").terms == (Term(("e", "mail")),)


def test_filters_alone_are_a_search_and_names_ignore_case() -> None:
    assert parse_query("FROM:bob In:#Ops") == SearchQuery(sender="bob", room="#Ops")


def test_text_with_a_colon_that_is_no_filter_is_words() -> None:
    assert parse_query("http://example.org to:bob").terms == (
        Term(("http", "example", "org")),
        Term(("to", "bob")),
    )


def test_a_word_of_no_letters_is_ignored_and_a_repeated_term_kept_once() -> None:
    assert parse_query("--- 👋 merhaba MERHABA").terms == (Term(("merhaba",)),)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", NOTHING_TO_SEARCH),
        ("  👋  ", NOTHING_TO_SEARCH),
        ('"release day', UNCLOSED_QUOTE),
        ("from:a from:b", FILTER_TWICE.format(name="from")),
        ("before:yesterday", BAD_DATE.format(name="before", value="yesterday")),
        ("after:2026-02-30", BAD_DATE.format(name="after", value="2026-02-30")),
        ("after:٢٠٢٦-١١-٠١", BAD_DATE.format(name="after", value="٢٠٢٦-١١-٠١")),
        (
            "after:2026-11-01 before:2026-11-02",
            EMPTY_RANGE.format(after="2026-11-01", before="2026-11-02"),
        ),
    ],
)
def test_what_cannot_be_searched_says_why(text: str, reason: str) -> None:
    with pytest.raises(QueryError) as refused:
        parse_query(text)
    assert str(refused.value) == reason


def test_an_empty_filter_names_an_example() -> None:
    with pytest.raises(QueryError, match="from:ayşe"):
        parse_query("from:")


def test_size_limits() -> None:
    with pytest.raises(QueryError):
        parse_query("a" * (MAX_QUERY + 1))
    with pytest.raises(QueryError):
        parse_query(" ".join(f"w{i}" for i in range(MAX_TERMS + 1)))
    assert len(parse_query(" ".join(f"w{i}" for i in range(MAX_TERMS))).terms) == MAX_TERMS


def test_dates_exclude_the_day_named_in_the_zone_given() -> None:
    query = parse_query("after:2026-11-01 before:2026-11-03")
    assert query.bounds() == (
        datetime(2026, 11, 2, tzinfo=UTC),
        datetime(2026, 11, 3, tzinfo=UTC),
    )
    istanbul = timezone(timedelta(hours=3))
    start, _ = query.bounds(istanbul)
    assert start == datetime(2026, 11, 1, 21, tzinfo=UTC)


def test_terms_match_whole_words_in_a_row_and_prefixes() -> None:
    query = parse_query('"group commit" rel*')
    assert matches(query, "The GROUP commit is released")
    assert not matches(query, "commit group released")  # phrase out of order
    assert not matches(query, "group commits released")  # a word is whole unless *
    assert not matches(query, "group commit")  # rel* missing


# --- properties --------------------------------------------------------------------

any_text = st.text(max_size=80)


@given(any_text)
def test_any_text_parses_or_is_refused_with_a_reason(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as refused:
        assert str(refused)
    else:
        assert query != SearchQuery()


@given(any_text)
def test_the_canonical_spelling_parses_back_to_the_same_query(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError:
        return
    assert parse_query(str(query)) == query


words = st.text(st.sampled_from("abcçğışöüzAÇĞİŞÖÜZ019"), min_size=1, max_size=8)
nicks = st.text(st.sampled_from("abcxyzAYŞE_-[]"), min_size=1, max_size=10)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


@given(
    st.lists(words, max_size=5),
    st.none() | nicks,
    st.none() | nicks,
    st.none() | days,
    st.none() | days,
)
def test_filters_and_words_are_found_wherever_they_stand(
    ws: list[str], sender: str | None, room: str | None, after: date | None, before: date | None
) -> None:
    pieces = list(ws)
    if sender is not None:
        pieces.insert(len(pieces) // 2, f"from:{sender}")
    if room is not None:
        pieces.insert(0, f"in:{room}")
    if after is not None:
        pieces.append(f"after:{after}")
    if before is not None:
        pieces.insert(1, f"before:{before}")
    text = " ".join(pieces)
    if after and before and before <= after + timedelta(days=1):
        with pytest.raises(QueryError):
            parse_query(text)
        return
    if not pieces:
        with pytest.raises(QueryError):
            parse_query(text)
        return
    query = parse_query(text)
    assert query.sender == sender
    assert query.room == (None if room is None else "#" + room)
    assert (query.after, query.before) == (after, before)
    expected: list[Term] = []
    for w in ws:
        term = Term(tokens(w))
        if term not in expected:
            expected.append(term)
    assert query.terms == tuple(expected)
    for w in ws:  # each word is found in a text made of the words
        assert matches(SearchQuery(terms=(Term(tokens(w)),)), " ".join(ws))
