"""CHATHISTORY requests: checked by the door, answered by the hub."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from soketler.doors.irc.history import parse_reference
from soketler.doors.irc.hubapi import HistoryQuery, HistorySelector
from tests.doors.irc.door import SERVER, Door


def test_references() -> None:
    assert parse_reference("msgid=42") == 42
    assert parse_reference("timestamp=2026-11-23T20:15:00.123Z") == datetime(
        2026, 11, 23, 20, 15, 0, 123000, tzinfo=UTC
    )
    for bad in ("msgid=abc", "timestamp=yesterday", "timestamp=2026-11-23T20:15:00", "x=1", "*"):
        assert parse_reference(bad) is None


@pytest.mark.parametrize(
    ("line", "query"),
    [
        ("CHATHISTORY LATEST #h * 10", HistoryQuery(HistorySelector.LATEST, 10)),
        ("CHATHISTORY BEFORE #h msgid=9 5", HistoryQuery(HistorySelector.BEFORE, 5, 9)),
        ("chathistory after #h msgid=9 500", HistoryQuery(HistorySelector.AFTER, 100, 9)),
        (
            "CHATHISTORY BETWEEN #h msgid=1 msgid=9 20",
            HistoryQuery(HistorySelector.BETWEEN, 20, 1, 9),
        ),
    ],
)
def test_requests_become_queries(line: str, query: HistoryQuery) -> None:
    door = Door()
    bob = door.user("bob")
    bob.send("JOIN #h")
    assert bob.send(line) == []
    assert door.hub.calls[-1] == ("history", ("#h", query))


def test_bad_requests() -> None:
    door = Door()
    bob = door.user("bob")
    bob.send("JOIN #h")
    assert bob.lines("CHATHISTORY SIDEWAYS #h * 1") == [
        f":{SERVER} FAIL CHATHISTORY INVALID_PARAMS SIDEWAYS :Invalid parameters"
    ]
    assert bob.lines("CHATHISTORY BEFORE #h * 5")[0].startswith(
        f":{SERVER} FAIL CHATHISTORY INVALID_PARAMS BEFORE *"
    )
    assert bob.lines("CHATHISTORY LATEST #h * 0")[0].startswith(
        f":{SERVER} FAIL CHATHISTORY INVALID_PARAMS LATEST 0"
    )
    assert bob.lines("CHATHISTORY LATEST #h *")[0].startswith(
        f":{SERVER} FAIL CHATHISTORY INVALID_PARAMS"
    )
    assert bob.lines("CHATHISTORY LATEST #secret * 5") == [
        f":{SERVER} FAIL CHATHISTORY INVALID_TARGET LATEST #secret :Messages could not be retrieved"
    ]
