"""What a typed line means: a message, a `/` command, or a mistake (no I/O).

The commands are the server's (docs/protocol.md) plus `/switch`, which only changes
which of our rooms the screen types into. Each is one row of `COMMANDS`; `parse`
checks the arguments in one place and never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from soketler.client.requests import (
    ChangeNick,
    ClientRequest,
    History,
    Join,
    ListRooms,
    Part,
    Say,
    Topic,
    Who,
)
from soketler.protocols.columns import two_columns
from soketler.protocols.names import room_name


@dataclass(frozen=True, slots=True)
class Send:
    request: ClientRequest


@dataclass(frozen=True, slots=True)
class SwitchRoom:
    room: str


@dataclass(frozen=True, slots=True)
class ShowHelp:
    pass


@dataclass(frozen=True, slots=True)
class QuitChat:
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """The line did nothing; `text` says why."""

    text: str


Action = Send | SwitchRoom | ShowHelp | QuitChat | Problem


@dataclass(frozen=True, slots=True)
class Command:
    usage: str
    summary: str
    run: Callable[[str, str | None], Action]  # (arguments, current room) -> action
    needs_arguments: bool = False


def _first_and_rest(args: str) -> tuple[str, str]:
    first, _, rest = args.partition(" ")
    return first, rest.strip()


def _part(args: str, current: str | None) -> Action:
    first, rest = _first_and_rest(args)
    if first.startswith("#"):
        return Send(Part(first, rest or None))
    return Send(Part(current, args or None))


def _msg(args: str, current: str | None) -> Action:
    nick, text = _first_and_rest(args)
    if not text:
        return Problem(f"Usage: {COMMANDS['msg'].usage}")
    return Send(Say(text, to=nick))


def _history(args: str, current: str | None) -> Action:
    words = args.split()
    room, nick = current, None
    if words and not words[0].isdigit() and words[0].casefold() != "before":
        target = words.pop(0)
        room, nick = (room_name(target), None) if target.startswith("#") else (None, target)
    limit = before = None
    if len(words) == 1 and words[0].isdigit():
        limit = int(words[0])
    elif len(words) == 2 and words[0].casefold() == "before" and words[1].isdigit():
        before = int(words[1])
    elif words:
        return Problem(f"Usage: {COMMANDS['history'].usage}")
    return Send(History(room, nick, limit, before))


def _room_argument(args: str, current: str | None) -> str | None:
    return room_name(args.split(" ", 1)[0]) if args else current


COMMANDS: dict[str, Command] = {
    "help": Command("/help", "this list", lambda args, room: ShowHelp()),
    "nick": Command(
        "/nick NAME", "change your nickname", lambda args, room: Send(ChangeNick(args)), True
    ),
    "join": Command(
        "/join #room",
        "join a room (creating it) and type into it",
        lambda args, room: Send(Join(room_name(args))),
        True,
    ),
    "part": Command("/part [#room] [reason]", "leave a room (default: this one)", _part),
    "switch": Command(
        "/switch #room",
        "type into another room you are in (also Alt-1 ... Alt-9)",
        lambda args, room: SwitchRoom(room_name(args)),
        True,
    ),
    "rooms": Command(
        "/rooms", "rooms with member counts and topics", lambda a, r: Send(ListRooms())
    ),
    "who": Command(
        "/who [#room]", "who is in a room", lambda args, room: Send(Who(_room_argument(args, room)))
    ),
    "history": Command(
        "/history [#room | NICK] [N | before ID]",
        "earlier messages of a room, or of your conversation with NICK",
        _history,
    ),
    "msg": Command("/msg NICK text", "a private message", _msg, True),
    "me": Command(
        "/me action", "an action", lambda args, room: Send(Say(args, room=room, action=True)), True
    ),
    "topic": Command(
        "/topic [text]",
        "show, or set, this room's topic",
        lambda args, room: Send(Topic(room, args or None)),
    ),
    "quit": Command("/quit [reason]", "leave", lambda args, room: QuitChat(args or None)),
}

KEYS = (
    ("Tab", "complete commands, #rooms and nicknames"),
    ("Up, Down", "earlier lines"),
    ("Alt-1 ... Alt-9", "type into your first ... ninth room"),
    ("Ctrl-R", "while reconnecting: try at once"),
    ("Ctrl-C, Ctrl-D", "leave"),
)


def help_text() -> str:
    commands = [(c.usage, c.summary) for c in COMMANDS.values()]
    commands.append(("//text", "a message that starts with /"))
    return "\n".join(["Commands:", *two_columns(commands), "Keys:", *two_columns(list(KEYS))])


def parse(line: str, current: str | None) -> Action | None:
    """The action for a typed line in room `current`; None for a blank line."""
    if not line.strip():
        return None
    if not line.startswith("/") or line.startswith("//"):
        text = line[1:] if line.startswith("//") else line
        return Send(Say(text, room=current))
    name, _, args = line[1:].partition(" ")
    command = COMMANDS.get(name.casefold())
    if command is None:
        return Problem(f"Unknown command /{name}. Type /help for the list.")
    args = args.strip()
    if command.needs_arguments and not args:
        return Problem(f"Usage: {command.usage}")
    return command.run(args, current)
