"""MODE strings."""

from __future__ import annotations

from soketler.protocols.irc.modes import (
    DEFAULT_CHANNEL_MODES,
    ModeChange,
    format_changes,
    parse_channel_modes,
    parse_user_modes,
)


def test_the_table_is_what_isupport_advertises() -> None:
    assert DEFAULT_CHANNEL_MODES.chanmodes() == "bq,k,l,imnst"
    assert DEFAULT_CHANNEL_MODES.prefix() == "(ov)@+"
    assert DEFAULT_CHANNEL_MODES.with_parameter() == "bqklov"


def test_parameters_are_taken_by_the_modes_that_need_them() -> None:
    parsed = parse_channel_modes("+o-v+kl-i", ["alice", "bob", "secret", "10"])
    assert parsed.changes == (
        ModeChange(True, "o", "alice"),
        ModeChange(False, "v", "bob"),
        ModeChange(True, "k", "secret"),
        ModeChange(True, "l", "10"),
        ModeChange(False, "i"),
    )
    assert parsed.unknown == () and parsed.missing == ()


def test_removal_of_limit_and_key_need_no_parameter() -> None:
    parsed = parse_channel_modes("-lk", [])
    assert parsed.changes == (ModeChange(False, "l"), ModeChange(False, "k"))


def test_a_list_mode_without_parameter_asks_for_the_list() -> None:
    assert parse_channel_modes("+b", []).changes == (ModeChange(True, "b", None),)
    assert parse_channel_modes("b", ["*!*@bad"]).changes == (ModeChange(True, "b", "*!*@bad"),)


def test_unknown_and_missing_are_reported_not_guessed() -> None:
    parsed = parse_channel_modes("+zo+l", [])
    assert parsed.unknown == ("z",)
    assert parsed.missing == ("o", "l")
    assert parsed.changes == ()


def test_user_modes() -> None:
    parsed = parse_user_modes("+iB-o+x")
    assert parsed.changes == (
        ModeChange(True, "i"),
        ModeChange(True, "B"),
        ModeChange(False, "o"),
    )
    assert parsed.unknown == ("x",)


def test_format_changes_groups_signs() -> None:
    changes = [
        ModeChange(True, "o", "a"),
        ModeChange(True, "v", "b"),
        ModeChange(False, "t"),
        ModeChange(True, "l", "5"),
    ]
    assert format_changes(changes) == ("+ov-t+l", "a", "b", "5")
    assert format_changes([]) == ()
