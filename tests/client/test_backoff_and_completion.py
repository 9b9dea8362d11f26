"""Reconnection delays, and what Tab offers."""

from __future__ import annotations

import random
from itertools import islice

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from soketler.client.backoff import Backoff
from soketler.client.completion import ChatCompleter, candidates
from soketler.client.events import Members, RoomInfo, RoomList, Welcome
from soketler.client.state import ChatState


def test_delays_grow_exponentially_up_to_the_cap_with_jitter_below_the_base() -> None:
    backoff = Backoff(initial=1.0, factor=2.0, maximum=8.0, jitter=0.5)
    delays = list(islice(backoff.delays(random.Random(7)), 6))
    for delay, base in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert base * 0.5 <= delay <= base
    assert len(set(delays)) == len(delays)  # jittered: never in lock-step


def test_attempts_bound_the_delays() -> None:
    assert len(list(Backoff(attempts=3).delays())) == 3
    assert list(Backoff(attempts=0).delays()) == []


def test_without_jitter_the_delays_are_exact() -> None:
    assert list(Backoff(initial=0.5, maximum=2.0, jitter=0.0, attempts=4).delays()) == [
        0.5,
        1.0,
        2.0,
        2.0,
    ]


@pytest.mark.parametrize(
    "options",
    [{"initial": -1.0}, {"initial": 2.0, "maximum": 1.0}, {"jitter": 1.5}, {"factor": 0.5}],
)
def test_nonsense_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**options)  # type: ignore[arg-type]


@pytest.fixture
def state() -> ChatState:
    state = ChatState()
    state.apply(Welcome("ayşe", "#lobby", "0.1.0"))
    state.apply(Members("#lobby", "", ("ayşe", "Bob", "bora", "carol")))
    state.apply(RoomList((RoomInfo("#dev", 1, ""), RoomInfo("#design", 1, ""))))
    return state


@pytest.mark.parametrize(
    ("typed", "word", "offered"),
    [
        ("/jo", "/jo", ["/join"]),
        ("/m", "/m", ["/msg", "/me"]),
        ("hello bo", "bo", ["bora", "Bob"]),
        ("/msg B", "B", ["bora", "Bob"]),
        ("/join #de", "#de", ["#design", "#dev"]),  # most recently seen first
        ("/join #", "#", ["#lobby", "#design", "#dev"]),  # ours first
        ("ay", "ay", []),  # not ourselves
        ("hi /jo", "/jo", []),  # commands only at the start of a line
    ],
)
def test_tab_offers_commands_rooms_and_nicknames(
    state: ChatState, typed: str, word: str, offered: list[str]
) -> None:
    assert candidates(state, typed) == (word, offered)


def test_the_completer_replaces_the_word_being_typed(state: ChatState) -> None:
    completions = list(
        ChatCompleter(state).get_completions(
            Document("/msg Bo"), CompleteEvent(completion_requested=True)
        )
    )
    assert [c.text for c in completions] == ["bora", "Bob"]
    assert all(c.start_position == -2 for c in completions)
