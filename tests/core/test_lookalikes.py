"""Nicknames that look alike are one nickname; emoji may be part of one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.core.hub import Hub
from soketler.protocols import names
from tests.core.fakes import Person, fixed_clock


@pytest.mark.parametrize(
    ("held", "wanted"),
    [
        ("ismail", "İsmail"),  # Turkish dotted capital I
        ("ismail", "ısmail"),  # Turkish dotless small i
        ("İSMAİL", "ismail"),
        ("Alice", "Аlice"),  # Cyrillic А
        ("Alex", "AIex"),  # capital I for small l
        ("paypal", "pаypаl"),
        ("ŞEBNEM", "şebnem"),  # case, as before
    ],
)
def test_a_lookalike_of_a_held_nickname_is_taken(held: str, wanted: str) -> None:
    hub = Hub("test", clock=fixed_clock)
    Person(hub, held)
    impostor = Person(hub)
    impostor.take()
    impostor.type(wanted)
    [line] = impostor.lines()
    assert f'Nickname "{wanted}" is taken' in line
    assert not impostor.session.registered


@pytest.mark.parametrize(("a", "b"), [("Şule", "Sule"), ("bob", "b0b"), ("민준", "민주")])
def test_names_that_differ_to_the_eye_are_two_people(a: str, b: str) -> None:
    hub = Hub("test", clock=fixed_clock)
    Person(hub, a)
    Person(hub, b)  # (Person asserts that it registered)


def test_emoji_may_be_in_a_nickname_and_what_may_not_is_said() -> None:
    hub = Hub("test", clock=fixed_clock)
    fox = Person(hub, "🦊fox")
    assert fox.session.nick == "🦊fox"
    Person(hub, "👩\u200d💻dev")
    other = Person(hub)
    other.take()
    other.type("bad name")
    assert "letters, digits, emoji and" in other.text()


nicknames = (
    st.text(min_size=1, max_size=12)
    .map(names.normalize)
    .filter(lambda n: names.nick_problem(n) is None)
)


@given(nicknames)
def test_a_nickname_is_free_again_once_its_holder_leaves(nick: str) -> None:
    hub = Hub("test", clock=fixed_clock)
    holder = Person(hub, nick, json_lines=True)
    for other in {nick.upper(), nick.lower(), nick.swapcase()}:
        if names.nick_problem(names.normalize(other)) is None:
            hub.register(Person(hub).session, other)
            assert hub.find_session(other) is holder.session
    holder.send({"type": "quit"})
    assert hub.nicks.by_key == {} and hub.nicks.by_look == {}
    Person(hub, nick, json_lines=True)
