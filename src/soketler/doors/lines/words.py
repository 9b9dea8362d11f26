"""The lines door's own words: what telnet and nc users (and JSON programs, in `info`
objects) read that is not an event of the hub."""

from __future__ import annotations

import textwrap

from soketler import __version__
from soketler.protocols.columns import HELP_WIDTH, two_columns
from soketler.protocols.events import RequestId, Welcome

GREETING = "Welcome to soketler {version} on {server}. Type /help for commands."
CHOOSE_NICK = "Choose a nickname:"
SWITCHED = "Now talking in {room}."
ALREADY_NICK = "You are already {nick}."
HISTORY_USAGE = "/history [#room | NICK] [N | before ID]"
SEARCH_USAGE = "/search [before ID] text"
HELP_HEADER = "Commands (a line without / is a message to your current room):"
HELP_FOOTER = "//text sends a line that starts with /."
# Passwords (doors/lines/login.py): each question is answered by the next line.
SERVER_PROMPT = "This server needs a password:"
ACCOUNT_PROMPT = "{nick} is a registered nickname. Its password:"
LOGIN_PROMPT = "Password of {account}:"
OPERATOR_PROMPT = "Operator password of {name}:"
LOGGED_IN = "You are logged in as {account}."
OPERATOR_NOW = "You are now a server operator."
BANNED = "{mask} is banned from {room}."
UNBANNED = "{mask} is no longer banned from {room}."
MUTED = "{mask} is muted in {room}."
UNMUTED = "{mask} is no longer muted in {room}."
SERVER_BANNED = "{mask} is banned from the server."
SERVER_UNBANNED = "{mask} is no longer banned from the server."
MODERATION_USAGE = {
    "kick": "/kick [#room] NICK [reason]",
    "ban": "/ban [#room] NICK|MASK|CIDR [reason]",
    "unban": "/unban [#room] NICK|MASK|CIDR",
    "mute": "/mute [#room] NICK|MASK",
    "unmute": "/unmute [#room] NICK|MASK",
}


def greeting(server: str) -> str:
    return GREETING.format(version=__version__, server=server) + "\n" + CHOOSE_NICK


def welcome(nick: str, room: str, re: RequestId) -> Welcome:
    return Welcome(nick, room, __version__, re)


def help_text(commands: list[tuple[str, str]]) -> str:
    """/help in two columns that fit an 80-column terminal after the "-- " of each line."""
    lines = [*textwrap.wrap(HELP_HEADER, HELP_WIDTH), *two_columns(commands)]
    lines += textwrap.wrap(HELP_FOOTER, HELP_WIDTH)
    return "\n".join(lines)
