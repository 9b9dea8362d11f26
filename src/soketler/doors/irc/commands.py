"""The IRC command table, and the one place where it is checked.

Each command declares its minimum parameters, whether it needs a registered client
and whether it needs a server operator; `dispatch` checks all of that before the
handler runs (ergo's `irc/commands.go` is the model), so no handler repeats it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from soketler.doors.irc import (
    channels,
    connection,
    history,
    messaging,
    mode,
    operators,
    queries,
    sasl,
)
from soketler.doors.irc.context import Context
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.message import Message
from soketler.protocols.irc.receiver import InputTooLong, IrcEvent, Received

Handler = Callable[[Context, Message], None]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    min_params: int = 0
    needs_registration: bool = True
    needs_operator: bool = False


_TABLE = (
    # Before registration (the registration state answers these until then).
    Command("PASS", connection.registration_command, needs_registration=False),
    Command("NICK", connection.registration_command, needs_registration=False),
    Command("USER", connection.registration_command, needs_registration=False),
    Command("CAP", connection.registration_command, needs_registration=False),
    Command("PING", connection.ping, needs_registration=False),
    Command("PONG", connection.pong, needs_registration=False),
    Command("QUIT", connection.quit_, needs_registration=False),
    Command("AUTHENTICATE", sasl.authenticate, min_params=1, needs_registration=False),
    # Rooms.
    Command("JOIN", channels.join, min_params=1),
    Command("PART", channels.part, min_params=1),
    Command("TOPIC", channels.topic, min_params=1),
    Command("NAMES", channels.names),
    Command("LIST", channels.list_),
    Command("KICK", channels.kick, min_params=2),
    Command("INVITE", channels.invite, min_params=2),
    Command("MODE", mode.mode, min_params=1),
    # Messages (their handlers give 411/412 themselves, as RFC 2812 asks).
    Command("PRIVMSG", messaging.privmsg),
    Command("NOTICE", messaging.notice),
    Command("TAGMSG", messaging.tagmsg, min_params=1),
    Command("CHATHISTORY", history.chathistory, min_params=1),
    # People and the server.
    Command("WHO", queries.who),
    Command("WHOIS", queries.whois, min_params=1),
    Command("WHOWAS", queries.whowas, min_params=1),
    Command("ISON", queries.ison, min_params=1),
    Command("USERHOST", queries.userhost, min_params=1),
    Command("AWAY", queries.away),
    Command("LUSERS", queries.lusers),
    Command("MOTD", queries.motd),
    Command("VERSION", queries.version),
    Command("INFO", queries.info),
    Command("TIME", queries.time),
    # Operators.
    Command("OPER", operators.oper, min_params=2),
    Command("KILL", operators.kill, min_params=1, needs_operator=True),
    Command("KLINE", operators.kline, min_params=1, needs_operator=True),
    Command("UNKLINE", operators.unkline, min_params=1, needs_operator=True),
)
COMMANDS: Mapping[str, Command] = {command.name: command for command in _TABLE}


def dispatch(ctx: Context, message: Message) -> None:
    client = ctx.client
    command = COMMANDS.get(message.command)
    if command is None:
        ctx.numeric(n.ERR_UNKNOWNCOMMAND, message.command, texts.UNKNOWN_COMMAND)
    elif command.needs_registration and not client.registered:
        ctx.numeric(n.ERR_NOTREGISTERED, texts.NOT_REGISTERED)
    elif len(message.params) < command.min_params:
        ctx.numeric(n.ERR_NEEDMOREPARAMS, command.name, texts.NEED_MORE_PARAMS)
    elif command.needs_operator and not client.operator:
        ctx.numeric(n.ERR_NOPRIVILEGES, texts.NO_PRIVILEGES)
    else:
        command.handler(ctx, message)


def handle_events(ctx: Context, events: Iterable[IrcEvent]) -> None:
    """Answer what a client sent, in order, until the door decides to close."""
    for event in events:
        if ctx.client.closing is not None:
            return
        if isinstance(event, InputTooLong):
            ctx.numeric(n.ERR_INPUTTOOLONG, texts.INPUT_TOO_LONG)
        elif isinstance(event, Received):
            ctx.invalid_utf8 = event.invalid_utf8
            dispatch(ctx, event.message)
