"""Why the IRC door advertises CASEMAPPING=ascii (see protocols/irc/casemap.py).

The property that matters: two names an IRC client takes for the same person must be
the same person on the server. These tests check it against the shared name rule.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols import names
from soketler.protocols.irc.casemap import CASEMAPPING, ascii_fold

nick_chars = st.characters(categories=("L", "Nd"), include_characters="_-[]{}|^\\~")
nicks = st.text(nick_chars, min_size=1, max_size=12).map(names.normalize)


def rfc1459_fold(name: str) -> str:
    return name.translate(
        str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~", "abcdefghijklmnopqrstuvwxyz{}|^")
    )


def test_ascii_is_advertised() -> None:
    assert CASEMAPPING == "ascii"


@given(nicks, st.lists(st.booleans(), min_size=12, max_size=12))
def test_names_equal_for_an_ascii_client_are_one_person_on_the_server(
    nick: str, flips: list[bool]
) -> None:
    # Every name an ascii client takes for `nick` is `nick` with some A-Z case changed.
    # (NFC may make a name longer than the text drawn: U+0A59 becomes two code points.)
    flips = flips + [False] * (len(nick) - len(flips))
    other = "".join(
        c.swapcase() if c.isascii() and flip else c for c, flip in zip(nick, flips, strict=False)
    )
    assert ascii_fold(other) == ascii_fold(nick)
    assert names.key(other) == names.key(nick)


def test_rfc1459_would_merge_two_people() -> None:
    a, b = "ayse[", "ayse{"
    assert names.nick_problem(a) is None and names.nick_problem(b) is None
    assert rfc1459_fold(a) == rfc1459_fold(b)  # an rfc1459 client: one person
    assert names.key(a) != names.key(b)  # the server: two people


def test_non_ascii_names_are_compared_exactly_by_clients_and_folded_by_the_server() -> None:
    # The harmless direction: the client may not know AYŞE is ayşe, but the server
    # answers with the one display name either way.
    assert ascii_fold("AYŞE") != ascii_fold("ayşe")
    assert names.key("AYŞE") == names.key("ayşe")
