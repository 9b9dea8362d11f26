"""CAP negotiation (IRCv3 capability-negotiation), no sockets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols.irc.caps import (
    CAP_NOTIFY,
    DEFAULT_CAPS,
    ECHO_MESSAGE,
    MULTI_PREFIX,
    SERVER_TIME,
    CapNegotiation,
)
from soketler.protocols.irc.message import Message


def params(messages: list[Message]) -> list[tuple[str, ...]]:
    return [m.params for m in messages]


def test_ls_301_is_one_line_without_values_and_holds_registration() -> None:
    state = CapNegotiation("srv", {"multi-prefix": "", "sasl": "PLAIN"})
    replies = state.handle(["LS"], "*", registered=False).replies
    assert params(replies) == [("*", "LS", "multi-prefix sasl")]
    assert replies[0].to_line() == ":srv CAP * LS :multi-prefix sasl"
    assert state.negotiating and state.version == 301
    assert CAP_NOTIFY not in state.enabled


def test_ls_302_shows_values_and_turns_on_cap_notify() -> None:
    state = CapNegotiation("srv", {"cap-notify": "", "sasl": "PLAIN"})
    outcome = state.handle(["LS", "302"], "*", registered=False)
    assert params(outcome.replies) == [("*", "LS", "cap-notify sasl=PLAIN")]
    assert outcome.changed and state.enabled == {CAP_NOTIFY}
    # A 302 client cannot turn cap-notify off.
    nak = state.handle(["REQ", "-cap-notify"], "*", registered=False).replies
    assert params(nak) == [("*", "NAK", "-cap-notify")]


def test_ls_302_splits_a_long_list_over_lines_marked_with_a_star() -> None:
    many = {f"vendor.example/capability-{n:03}": "" for n in range(40)}
    state = CapNegotiation("irc.example.net", many)
    replies = state.handle(["LS", "302"], "*", registered=False).replies
    assert len(replies) > 1
    for reply in replies[:-1]:
        assert reply.params[:3] == ("*", "LS", "*")
    assert replies[-1].params[:2] == ("*", "LS") and len(replies[-1].params) == 3
    for reply in replies:
        assert len(reply.encode()) <= 512
    listed = " ".join(reply.params[-1] for reply in replies).split()
    assert listed == list(many)


def test_pre_302_clients_get_one_line_even_after_registration() -> None:
    many = {f"vendor.example/capability-{n:03}": "" for n in range(40)}
    state = CapNegotiation("srv", many)
    assert len(state.handle(["LS"], "nick", registered=True).replies) == 1
    assert not state.negotiating  # after registration, LS holds nothing


def test_req_is_all_or_nothing_and_echoes_the_request_exactly() -> None:
    state = CapNegotiation("srv")
    for request in ("foo qux bar baz qux quux", "foo multi-prefix bar", "multi-prefix bar"):
        outcome = state.handle(["REQ", request], "*", registered=False)
        assert params(outcome.replies) == [("*", "NAK", request)]
        assert not outcome.changed and state.enabled == set()
    outcome = state.handle(["REQ", "multi-prefix echo-message "], "*", registered=False)
    assert params(outcome.replies) == [("*", "ACK", "multi-prefix echo-message ")]
    assert outcome.changed and state.enabled == {MULTI_PREFIX, ECHO_MESSAGE}
    assert state.negotiating  # REQ before registration holds it too


def test_req_can_remove_and_list_shows_what_is_on() -> None:
    state = CapNegotiation("srv")
    assert params(state.handle(["LIST"], "*", registered=False).replies) == [("*", "LIST", "")]
    assert not state.negotiating  # LIST alone does not hold registration
    state.handle(["REQ", "echo-message server-time"], "nick", registered=True)
    outcome = state.handle(["REQ", "-server-time"], "nick", registered=True)
    assert params(outcome.replies) == [("nick", "ACK", "-server-time")]
    assert state.enabled == {ECHO_MESSAGE}
    assert SERVER_TIME not in state.enabled
    assert params(state.handle(["LIST"], "nick", registered=True).replies) == [
        ("nick", "LIST", "echo-message")
    ]
    assert not state.negotiating  # REQ after registration holds nothing


def test_end_releases_registration_once_and_is_ignored_otherwise() -> None:
    state = CapNegotiation("srv")
    assert not state.handle(["END"], "*", registered=False).ended
    state.handle(["LS", "302"], "*", registered=False)
    outcome = state.handle(["END"], "*", registered=False)
    assert outcome.ended and outcome.replies == [] and not state.negotiating
    assert not state.handle(["end"], "*", registered=False).ended


def test_unknown_subcommand_and_missing_subcommand() -> None:
    state = CapNegotiation("srv")
    (reply,) = state.handle(["NOTACOMMAND"], "*", registered=False).replies
    assert reply.command == "410" and reply.params[:2] == ("*", "NOTACOMMAND")
    (reply,) = state.handle([], "*", registered=False).replies
    assert reply.command == "461" and reply.params[:2] == ("*", "CAP")


def test_empty_req_is_refused() -> None:
    state = CapNegotiation("srv")
    assert params(state.handle(["REQ", ""], "*", registered=False).replies) == [("*", "NAK", "")]
    assert params(state.handle(["REQ"], "*", registered=False).replies) == [("*", "NAK", "")]


@given(st.lists(st.sampled_from([*DEFAULT_CAPS, "unknown", "-multi-prefix", "-batch"])))
def test_enabled_is_always_a_subset_of_what_is_offered(words: list[str]) -> None:
    state = CapNegotiation("srv")
    state.handle(["LS", "302"], "*", registered=False)
    for word in words:
        state.handle(["REQ", word], "*", registered=False)
    assert state.enabled <= set(DEFAULT_CAPS)
    assert CAP_NOTIFY in state.enabled
