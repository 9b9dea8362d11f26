"""The command table's checks, made in one place for every command."""

from __future__ import annotations

import pytest

from soketler.doors.irc.commands import COMMANDS
from tests.doors.irc.door import SERVER, Door, commands


def test_every_command_of_the_issue_is_in_the_table() -> None:
    wanted = [
        "PASS",
        "NICK",
        "USER",
        "CAP",
        "PING",
        "PONG",
        "QUIT",
        "JOIN",
        "PART",
        "TOPIC",
        "NAMES",
        "LIST",
        "KICK",
        "INVITE",
        "MODE",
        "PRIVMSG",
        "NOTICE",
        "TAGMSG",
        "CHATHISTORY",
        "WHO",
        "WHOIS",
        "WHOWAS",
        "ISON",
        "USERHOST",
        "AWAY",
        "LUSERS",
        "MOTD",
        "VERSION",
        "INFO",
        "TIME",
        "OPER",
        "KILL",
        # Accounts and server bans.
        "AUTHENTICATE",
        "KLINE",
        "UNKLINE",
    ]
    assert sorted(COMMANDS) == sorted(wanted)
    for name, command in COMMANDS.items():
        assert command.name == name


def test_unknown_command() -> None:
    client = Door().user("bob")
    assert client.lines("FROB x") == [f":{SERVER} 421 bob FROB :Unknown command"]


@pytest.mark.parametrize(
    "line", ["JOIN", "PART", "TOPIC", "KICK #a", "INVITE bob", "MODE", "WHOIS", "OPER x"]
)
def test_missing_parameters_give_461_naming_the_command(line: str) -> None:
    client = Door().user("bob")
    (reply,) = client.send(line)
    assert reply.command == "461"
    assert reply.params == ("bob", line.split()[0], "Not enough parameters")


def test_operator_commands_need_an_operator() -> None:
    door = Door(opers={"root": "pw"})
    door.user("victim")
    client = door.user("bob")
    assert commands(client.send("KILL victim :bye")) == ["481"]
    assert not any(name == "kill" for name, _ in door.hub.calls)


def test_a_line_over_the_limit_is_answered_417_and_the_connection_goes_on() -> None:
    client = Door().user("bob")
    replies = client.send("PRIVMSG #a :" + "x" * 600, "PING after")
    assert [m.to_line() for m in replies] == [
        f":{SERVER} 417 bob :Input line was too long",
        f":{SERVER} PONG {SERVER} :after",
    ]
