"""The command table: every request a client can make, declared once.

Each entry names its parameters; `dispatch` checks registration and parameters in one
place, for both flavours, and only then calls the handler. Handlers reply by sending
events through the hub; they never see a socket.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from soketler.core import names, texts
from soketler.protocols.events import BadInput, ClientEvent, Info, Pong, Request, RequestId

if TYPE_CHECKING:
    from soketler.core.hub import Hub
    from soketler.core.session import Room, Session

Args = dict[str, str]
NUMBERS = frozenset({"limit", "before"})  # JSON fields given as numbers
Handler = Callable[["Hub", "Session", Args, RequestId], None]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    usage: str
    summary: str
    # Parameters in the order the plain flavour takes them; when `rest` is true the
    # last one takes the rest of the line. The JSON flavour gives them by name.
    params: tuple[str, ...] = ()
    required: int = 0
    rest: bool = False
    # Fields only the JSON flavour can give (the plain flavour uses the current room).
    named: tuple[str, ...] = ()
    registered: bool = True  # needs a nickname first
    listed: bool = True  # shown by /help


def bind(command: Command, request: Request) -> Args | str:
    """The request's arguments by parameter name, or the reason they do not fit."""
    args: Args = {}
    if request.fields is not None:
        for name in command.params + command.named:
            value = request.fields.get(name)
            if value is None:
                continue
            if name in NUMBERS and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # ids and counts come as JSON numbers
            if not isinstance(value, str):
                return texts.FIELD_TYPE_TEXT.format(field=name)
            if value.strip():
                args[name] = value
    else:
        count = len(command.params)
        words = request.argtext.split(None, count - 1) if command.rest else request.argtext.split()
        if len(words) > count:
            return texts.USAGE_TEXT.format(usage=command.usage)
        args = dict(zip(command.params, words, strict=False))
    if any(name not in args for name in command.params[: command.required]):
        return texts.USAGE_TEXT.format(usage=command.usage)
    return args


def dispatch(hub: Hub, session: Session, event: ClientEvent) -> None:
    if isinstance(event, BadInput):
        hub.error(session, event.code, event.text, event.id)
        return
    command = COMMANDS.get(event.command)
    if command is None:
        text = texts.UNKNOWN_COMMAND_TEXT.format(name=event.command)
        hub.error(session, texts.UNKNOWN_COMMAND, text, event.id)
        return
    if not session.registered and command.registered:
        if command.name == "say" and event.fields is None:
            # Before registration, the plain flavour's first line is the nickname.
            hub.register(session, event.argtext, event.id)
        else:
            hub.error(session, texts.NOT_REGISTERED, texts.NOT_REGISTERED_TEXT, event.id)
        return
    args = bind(command, event)
    if isinstance(args, str):
        hub.error(session, texts.BAD_REQUEST, args, event.id)
        return
    command.handler(hub, session, args, event.id)


# --- handlers ------------------------------------------------------------------------


def _help(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    # Two columns within HELP_WIDTH: a usage too long for the first puts its summary
    # on the next line, and summaries wrap under their column, so nothing reaches past
    # an 80-column terminal's edge.
    listed = [c for c in COMMANDS.values() if c.listed]
    width = max(len(c.usage) for c in listed if len(c.usage) <= texts.HELP_USAGE_COLUMN)
    column = 2 + width + 2
    lines = [*textwrap.wrap(texts.HELP_HEADER, texts.HELP_WIDTH)]
    for c in listed:
        summary = textwrap.wrap(c.summary, texts.HELP_WIDTH - column) or [""]
        if len(c.usage) > width:
            lines.append(f"  {c.usage}")
        else:
            lines.append(f"  {c.usage:<{width}}  {summary.pop(0)}".rstrip())
        lines += [" " * column + part for part in summary]
    lines += textwrap.wrap(texts.HELP_FOOTER, texts.HELP_WIDTH)
    hub.send(session, Info("\n".join(lines), re))


def _nick(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    nick = args.get("nick", "")
    if session.registered:
        hub.rename(session, nick, re)
    else:
        hub.register(session, nick, re)


def _hello(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    if session.registered:
        hub.error(session, texts.ALREADY_REGISTERED, texts.ALREADY_REGISTERED_TEXT, re)
        return
    hub.register(session, args["nick"], re)


def _join(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    hub.join(session, args["room"], re)


def _part(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    name = args.get("room")
    reason = args.get("reason", "")
    if name is not None and not name.startswith("#") and session.current is not None:
        # "/part see you" leaves the current room with a reason.
        reason = f"{name} {reason}".strip()
        name = None
    room = session.current if name is None else hub.find_room(session, name, re)
    if room is not None:
        hub.part(session, room, reason, re)


def _target_room(hub: Hub, session: Session, args: Args, re: RequestId) -> Room | None:
    """The room a request names, or the current room when it names none."""
    name = args.get("room")
    if name is None:
        if session.current is None:
            hub.error(
                session, texts.NOT_IN_ROOM, texts.NOT_IN_ROOM_TEXT.format(room="any room"), re
            )
        return session.current
    return hub.find_room(session, name, re)


def _say(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    text = args.get("text", "")
    if not text.strip():
        hub.error(session, texts.EMPTY_MESSAGE, texts.EMPTY_MESSAGE_TEXT, re)
        return
    room = _target_room(hub, session, args, re)
    if room is not None:
        hub.say(session, room, text, re=re)


def _me(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    room = _target_room(hub, session, args, re)
    if room is not None:
        hub.say(session, room, args["text"], action=True, re=re)


def _msg(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    target = hub.by_nick.get(names.key(names.normalize(args["target"])))
    if target is None:
        hub.error(
            session, texts.NO_SUCH_NICK, texts.NO_SUCH_NICK_TEXT.format(nick=args["target"]), re
        )
        return
    hub.private(session, target, args["text"], re)


def _topic(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    room = _target_room(hub, session, args, re)
    if room is None:
        return
    text = args.get("text")
    if text is not None:
        hub.set_topic(session, room, text)
    elif room.topic:
        hub.send(session, Info(texts.TOPIC_TEXT.format(room=room.name, topic=room.topic), re))
    else:
        hub.send(session, Info(texts.TOPIC_NONE_TEXT.format(room=room.name), re))


def _who(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    # Like IRC's NAMES, anyone may see who is in any room (as /rooms shows them all).
    name = args.get("room")
    room = _target_room(hub, session, args, re) if name is None else hub.any_room(session, name, re)
    if room is not None:
        hub.send(session, hub.members(room, re))


def _rooms(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    hub.send(session, hub.room_list(re))


def _quit(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    hub.close(session, args.get("reason", texts.QUIT_DEFAULT))


def _history(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    """`/history [#room | NICK] [N | before ID]`, or JSON's room/with/limit/before."""
    words = args.get("words", "").split()
    where = args.get("room") or args.get("with")
    if words and not words[0].isdigit() and words[0].casefold() != "before":
        where = words.pop(0)
    limit, before = hub.replay or 20, None
    try:
        if "limit" in args:
            limit = int(args["limit"])
        if "before" in args:
            before = int(args["before"])
        if len(words) == 2 and words[0].casefold() == "before":
            before = int(words[1])
        elif len(words) == 1:
            limit = int(words[0])
        elif words:
            raise ValueError
    except ValueError:
        hub.error(
            session, texts.BAD_REQUEST, texts.USAGE_TEXT.format(usage=texts.HISTORY_USAGE), re
        )
        return
    if limit < 1:
        hub.error(
            session, texts.BAD_REQUEST, texts.USAGE_TEXT.format(usage=texts.HISTORY_USAGE), re
        )
        return
    if where is None or where.startswith("#") or "room" in args:
        room = _target_room(hub, session, {"room": where} if where else {}, re)
        if room is not None:
            hub.room_history(session, room, limit, before, re)
        return
    hub.private_history(session, names.normalize(where), limit, before, re)


def _ping(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    hub.send(session, Pong(re))


COMMANDS: Mapping[str, Command] = {
    c.name: c
    for c in (
        Command("help", _help, "/help", "this list", registered=False),
        Command(
            "nick", _nick, "/nick NAME", "change your nickname", ("nick",), 1, registered=False
        ),
        Command("join", _join, "/join #room", "join a room, or switch to it", ("room",), 1),
        Command(
            "part", _part, "/part [#room] [reason]", "leave a room", ("room", "reason"), rest=True
        ),
        Command("rooms", _rooms, "/rooms", "list rooms with member counts and topics"),
        Command("who", _who, "/who [#room]", "who is in a room", ("room",)),
        Command("msg", _msg, "/msg NICK text", "private message", ("target", "text"), 2, True),
        Command("me", _me, "/me action", "act in the current room", ("text",), 1, True, ("room",)),
        Command(
            "topic", _topic, "/topic [text]", "show or set the topic", ("text",), 0, True, ("room",)
        ),
        Command(
            "history",
            _history,
            texts.HISTORY_USAGE,
            "earlier messages of a room or a private conversation",
            ("words",),
            rest=True,
            named=("room", "with", "limit", "before"),
        ),
        Command(
            "quit",
            _quit,
            "/quit [reason]",
            "leave the server",
            ("reason",),
            0,
            True,
            registered=False,
        ),
        Command("say", _say, "", "", ("text",), 1, True, ("room",), listed=False),
        Command("hello", _hello, "", "", ("nick",), 1, registered=False, listed=False),
        Command("ping", _ping, "", "", registered=False, listed=False),
    )
}
