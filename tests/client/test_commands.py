"""Typed lines to actions, without a server."""

from __future__ import annotations

import pytest

from soketler.client.commands import (
    COMMANDS,
    Problem,
    QuitChat,
    Send,
    ShowHelp,
    SwitchRoom,
    help_text,
    parse,
)
from soketler.client.requests import ChangeNick, History, Join, ListRooms, Part, Say, Topic, Who


@pytest.mark.parametrize(
    ("line", "action"),
    [
        ("merhaba", Send(Say("merhaba", room="#dev"))),
        ("//etc/passwd is a path", Send(Say("/etc/passwd is a path", room="#dev"))),
        ("/me waves", Send(Say("waves", room="#dev", action=True))),
        ("/msg bob psst, there", Send(Say("psst, there", to="bob"))),
        ("/join #ops", Send(Join("#ops"))),
        ("/JOIN ops", Send(Join("#ops"))),
        ("/part", Send(Part("#dev"))),
        ("/part going home", Send(Part("#dev", "going home"))),
        ("/part #ops going home", Send(Part("#ops", "going home"))),
        ("/nick robert", Send(ChangeNick("robert"))),
        ("/topic", Send(Topic("#dev"))),
        ("/topic release day", Send(Topic("#dev", "release day"))),
        ("/who", Send(Who("#dev"))),
        ("/who #ops", Send(Who("#ops"))),
        ("/rooms", Send(ListRooms())),
        ("/switch ops", SwitchRoom("#ops")),
        ("/history", Send(History("#dev"))),
        ("/history 5", Send(History("#dev", limit=5))),
        ("/history #ops before 120", Send(History("#ops", before=120))),
        ("/history bob", Send(History(None, "bob"))),
        ("/history bob soon", Problem("Usage: /history [#room | NICK] [N | before ID]")),
        ("/help", ShowHelp()),
        ("/quit", QuitChat()),
        ("/quit see you", QuitChat("see you")),
        ("/xyz", Problem("Unknown command /xyz. Type /help for the list.")),
        ("/msg bob", Problem("Usage: /msg NICK text")),
        ("/join", Problem("Usage: /join #room")),
        ("/me", Problem("Usage: /me action")),
    ],
)
def test_lines_become_actions(line: str, action: object) -> None:
    assert parse(line, "#dev") == action


@pytest.mark.parametrize("line", ["", "   "])
def test_blank_lines_do_nothing(line: str) -> None:
    assert parse(line, "#dev") is None


def test_help_lists_every_command_and_the_keys() -> None:
    text = help_text()
    for command in COMMANDS.values():
        assert command.usage in text
    assert "Alt-1" in text
    assert "Tab" in text
