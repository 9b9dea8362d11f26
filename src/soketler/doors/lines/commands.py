"""The lines door's command table: every request a telnet/nc user or a JSON-lines
program can make, declared once.

Each entry names its parameters; `dispatch` checks registration and parameters in one
place, for both flavours, and only then calls the handler. Handlers call the hub's
neutral operations and keep this door's policy (the current room, the lobby, the last
room that cannot be left); they never see a socket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from soketler.core import moderation, policing
from soketler.core.answers import Refusal
from soketler.core.session import SERVER_OPERATOR
from soketler.core.texts import QUIT_DEFAULT
from soketler.doors.lines import login, words
from soketler.protocols import codes, names
from soketler.protocols.events import (
    BadInput,
    ClientEvent,
    Error,
    Info,
    Pong,
    Request,
    RequestId,
    RoomSetting,
)
from soketler.protocols.values import whole_number

if TYPE_CHECKING:
    from soketler.core.hub import Hub
    from soketler.core.session import Room, Session

Args = dict[str, str]
NUMBERS = frozenset({"limit", "before", "replay"})  # JSON fields given as numbers
ZERO_ALLOWED = frozenset({"replay"})  # numbers for which 0 means something ("none")
# A JSON field given as a time zone: minutes east of UTC (what a browser knows).
ZONE = "tz"
MAX_ZONE_MINUTES = 24 * 60
SEARCH_PAGE = 20  # matches a search shows unless asked for another number
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
    """The request's arguments by parameter name, or what is wrong with them (the
    detail of a bad-request error)."""
    args: Args = {}
    if request.fields is not None:
        for name in command.params + command.named:
            value = request.fields.get(name)
            if value is None:
                continue
            if name in NUMBERS:
                number = whole_number(value)
                if number is None and name in ZERO_ALLOWED and _is_zero(value):
                    number = 0
                if number is None:
                    return f"{name}:{codes.FIELD_NOT_NUMBER}"
                value = str(number)
            elif name == ZONE:
                if not _zone_minutes(value):
                    return f"{name}:{codes.FIELD_NOT_ZONE}"
                value = str(value)
            if not isinstance(value, str):
                return f"{name}:{codes.FIELD_NOT_TEXT}"
            if name == "room" and value.strip():
                # A JSON room field is always a room: "dev" means "#dev", never a reason.
                value = names.room_name(value)
            if value.strip():
                args[name] = value
    else:
        count = len(command.params)
        words_ = request.argtext.split(None, count - 1) if command.rest else request.argtext.split()
        if len(words_) > count:
            return command.usage
        args = dict(zip(command.params, words_, strict=False))
    if any(name not in args for name in command.params[: command.required]):
        return command.usage
    return args


def _is_zero(value: object) -> bool:
    return not isinstance(value, bool) and value in (0, "0")


def _zone_minutes(value: object) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -MAX_ZONE_MINUTES <= value <= MAX_ZONE_MINUTES
    )


def dispatch(hub: Hub, session: Session, event: ClientEvent) -> None:
    question = session.door_state
    if isinstance(question, login.Asking):
        session.door_state = None
        if isinstance(event, Request) and event.fields is None:
            # The line answers the question, whatever it looks like.
            login.answer(hub, session, question, event.line, _after_registering(hub, session))
            return
    if isinstance(event, BadInput):
        hub.send(session, Error(event.code, event.text, event.id))
        return
    command = COMMANDS.get(event.command)
    if command is None:
        hub.error(session, codes.UNKNOWN_COMMAND, event.id, event.command)
        return
    if not session.registered and command.registered:
        if command.name == "say" and event.fields is None:
            # Before registration, the plain flavour's first line is the nickname.
            register(hub, session, event.argtext, event.id)
        else:
            hub.error(session, codes.NOT_REGISTERED, event.id)
        return
    args = bind(command, event)
    if isinstance(args, str):
        hub.error(session, codes.BAD_REQUEST, event.id, detail=args)
        return
    command.handler(hub, session, args, event.id)


# --- this door's policy ------------------------------------------------------------------


def register(
    hub: Hub,
    session: Session,
    nick: str,
    re: RequestId,
    room: str = names.LOBBY,
    replay: int | None = None,
    password: str | None = None,
) -> None:
    """Everyone starts in the lobby, with its last messages; a program may ask for
    another first room (a bot posting to #ops need not pass through the lobby). The
    password a registered nickname or the server needs is asked for or checked first
    (doors/lines/login.py)."""
    login.register(
        hub, session, nick, re, password, _after_registering(hub, session, room, re, replay)
    )


def _after_registering(
    hub: Hub,
    session: Session,
    room: str = names.LOBBY,
    re: RequestId = None,
    replay: int | None = None,
) -> login.Registered:
    def welcome() -> None:
        hub.send(session, words.welcome(session.nick, room, re))
        join(hub, session, room, re, replay=replay)

    return welcome


def join(
    hub: Hub,
    session: Session,
    name: str,
    re: RequestId,
    key: str | None = None,
    replay: int | None = None,
) -> None:
    """Joins a room (with its key, if it has one) and makes it current; one the session
    is in already becomes current again. `replay`: at most this many of its last
    messages (the server's --replay, which is also the most a client may ask for)."""
    already = session.rooms.get(names.key(names.room_name(name)))
    if already is not None:
        session.current = already
        hub.send(session, Info(words.SWITCHED.format(room=already.name), re))
        return
    count = hub.replay if replay is None else min(replay, hub.replay)
    room = hub.join(session, name, re, replay=count, key=key)
    if room is not None:
        session.current = room


def part(hub: Hub, session: Session, room: Room, reason: str, re: RequestId) -> None:
    """Leaves a room, never the last one (a plain line always has a room to go to);
    leaving the current room makes the room joined last current."""
    if len(session.rooms) == 1:
        hub.error(session, codes.LAST_ROOM, re, room.name)
        return
    hub.part(session, room, reason, re)
    if session.current is None and session.rooms:
        session.current = next(reversed(session.rooms.values()))
        hub.send(session, Info(words.SWITCHED.format(room=session.current.name)))


# --- handlers ----------------------------------------------------------------------------


def _help(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    listed = [(c.usage, c.summary) for c in COMMANDS.values() if c.listed]
    hub.send(session, Info(words.help_text(listed), re))


def _nick(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    nick = args.get("nick", "")
    if not session.registered:
        register(hub, session, nick, re, password=args.get("password"))
    elif names.normalize(nick) == session.nick:
        hub.send(session, Info(words.ALREADY_NICK.format(nick=session.nick), re))
    else:
        hub.rename(session, nick, re)


def _replay(args: Args) -> int | None:
    return int(args["replay"]) if "replay" in args else None


def _hello(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    if session.registered:
        hub.error(session, codes.ALREADY_REGISTERED, re)
        return
    room = args.get("room", names.LOBBY)
    problem = names.room_problem(room)
    if problem is not None:  # refused before registering: nobody is left in no room
        hub.error(session, codes.ROOM_INVALID, re, room, problem)
        return
    register(hub, session, args["nick"], re, room, _replay(args), args.get("password"))


def _join(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    join(hub, session, args["room"], re, args.get("key"), _replay(args))


def _part(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    name = args.get("room")
    reason = args.get("reason", "")
    if name is not None and not name.startswith("#") and session.current is not None:
        # "/part see you" leaves the current room with a reason.
        reason = f"{name} {reason}".strip()
        name = None
    room = session.current if name is None else hub.find_room(session, name, re)
    if room is not None:
        part(hub, session, room, reason, re)


def _target_room(hub: Hub, session: Session, args: Args, re: RequestId) -> Room | None:
    """The room a request names, or the current room when it names none."""
    name = args.get("room")
    if name is None:
        if session.current is None:
            hub.error(session, codes.NOT_IN_ROOM, re)
        return session.current
    return hub.find_room(session, name, re)


def _say(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    text = args.get("text", "")
    if not text.strip():
        hub.error(session, codes.EMPTY_MESSAGE, re)
        return
    room = _target_room(hub, session, args, re)
    if room is not None:
        hub.say(session, room, text, re=re)


def _me(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    room = _target_room(hub, session, args, re)
    if room is not None:
        hub.say(session, room, args["text"], action=True, re=re)


def _msg(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    target = hub.find_session(args["target"])
    if target is None:
        hub.error(session, codes.NO_SUCH_NICK, re, args["target"])
        return
    hub.private(session, target, args["text"], re)


def _topic(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    room = _target_room(hub, session, args, re)
    if room is None:
        return
    text = args.get("text")
    if text is not None:
        hub.set_topic(session, room, text)
    else:
        hub.topic(session, room, re)


def _who(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    # Like IRC's NAMES, anyone may see who is in any room (as /rooms shows them all).
    name = args.get("room")
    room = _target_room(hub, session, args, re) if name is None else hub.any_room(session, name, re)
    if room is not None:
        hub.send(session, hub.members(room, re))


def _rooms(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    hub.send(session, hub.room_list(re, session))


def _quit(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    hub.close(session, args.get("reason", QUIT_DEFAULT))


def _history(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    """`/history [#room | NICK] [N | before ID]`, or JSON's room/with/limit/before."""
    words_ = args.get("words", "").split()
    where = args.get("room") or args.get("with")
    if words_ and not words_[0].isdigit() and words_[0].casefold() != "before":
        where = words_.pop(0)
    given: dict[str, object] = {}  # what the request says of "limit" and "before"
    if "limit" in args:
        given["limit"] = args["limit"]
    if "before" in args:
        given["before"] = args["before"]
    if len(words_) == 2 and words_[0].casefold() == "before":
        given["before"] = words_[1]
    elif len(words_) == 1:
        given["limit"] = words_[0]
    elif words_:
        given["limit"] = None  # more words than the command takes
    numbers = {name: whole_number(value) for name, value in given.items()}
    if None in numbers.values():
        hub.error(session, codes.BAD_REQUEST, re, detail=words.HISTORY_USAGE)
        return
    limit = numbers.get("limit") or hub.replay or 20
    before = numbers.get("before")
    if where is None or where.startswith("#") or "room" in args:
        room = _target_room(hub, session, {"room": where} if where else {}, re)
        if room is not None:
            hub.room_history(session, room, limit, before, re)
        return
    hub.private_history(session, names.normalize(where), limit, before, re)


def _search(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    """`/search [before ID] TEXT`, or JSON's q, limit, before and tz."""
    text = args.get("q")
    before_text = args.get("before")
    if text is None:  # the plain flavour: the words, after "before ID" for older matches
        text = args.get("words", "")
        first = text.split(None, 2)
        if len(first) == 3 and first[0].casefold() == "before" and first[1].isdigit():
            before_text, text = first[1], first[2]
    before = whole_number(before_text) if before_text is not None else None
    if not text.strip() or (before_text is not None and before is None):
        hub.error(session, codes.BAD_REQUEST, re, detail=words.SEARCH_USAGE)
        return
    limit = int(args["limit"]) if "limit" in args else SEARCH_PAGE
    hub.search(session, text.strip(), limit, before, _zone(session, args), re)


def _zone(session: Session, args: Args) -> tzinfo:
    """Where the dates of a search are days: the zone a program gives; for people on
    telnet, the server's (their lines show its clock); UTC for a program that says none."""
    if ZONE in args:
        return timezone(timedelta(minutes=int(args[ZONE])))
    if session.codec.name == "plain":
        return datetime.now().astimezone().tzinfo or UTC
    return UTC


def _ping(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    hub.send(session, Pong(re))


# --- accounts, operators and order -------------------------------------------------------


def _login(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    """`/login NAME [PASSWORD]` (asked for when not given), or JSON's account/password.
    Before a nickname is chosen, logging in registers the account's nickname."""
    account = names.normalize(args["account"])
    then = None if session.registered else account
    password = args.get("password")
    if password is not None:
        login.log_in(
            hub, session, account, password, re, then, _after_registering(hub, session, re=re)
        )
    elif session.codec.name == "plain":
        question = login.Asking(login.ACCOUNT_PASSWORD, account, re, then)
        login.ask(hub, session, question, words.LOGIN_PROMPT.format(account=account))
    else:
        hub.error(session, codes.BAD_REQUEST, re, detail="password")


def _oper(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    """`/oper NAME [PASSWORD]`: becomes a server operator (the [operators] of the config)."""
    name, password = args["name"], args.get("password")
    if password is not None:
        login.oper(hub, session, name, password, re)
    elif session.codec.name == "plain":
        question = login.Asking(login.OPERATOR_PASSWORD, name, re)
        login.ask(hub, session, question, words.OPERATOR_PROMPT.format(name=name))
    else:
        hub.error(session, codes.BAD_REQUEST, re, detail="password")


def _room_and_target(
    hub: Hub, session: Session, args: Args, re: RequestId, usage: str
) -> tuple[Room, str, str] | None:
    """`[#room] TARGET [rest]`: the room (the current one unless named; a server
    operator may name a room it is not in), the target, and the rest of the line."""
    words_ = args.get("words", "").split(None, 2)
    room_name = args.get("room")
    if room_name is None and words_ and words_[0].startswith("#"):
        room_name = words_.pop(0)
    target = args.get("nick") or args.get("mask") or (words_.pop(0) if words_ else "")
    rest = args.get("reason") or " ".join(words_)
    if not target:
        hub.error(session, codes.BAD_REQUEST, re, detail=usage)
        return None
    if room_name is None:
        room = _target_room(hub, session, {}, re)
    elif session.has(SERVER_OPERATOR):
        room = hub.any_room(session, room_name, re)
    else:
        room = hub.find_room(session, room_name, re)
    return None if room is None else (room, target, rest)


def _answer(hub: Hub, session: Session, refusal: Refusal | None, re: RequestId, done: str) -> None:
    if refusal is not None:
        hub.refuse(session, refusal, re)
    elif done:
        hub.send(session, Info(done, re))


def _kick(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    found = _room_and_target(hub, session, args, re, words.MODERATION_USAGE["kick"])
    if found is not None:
        room, nick, reason = found
        _answer(hub, session, hub.kick(session, room, nick, reason or session.nick), re, "")


def _ban(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    found = _room_and_target(hub, session, args, re, words.MODERATION_USAGE["ban"])
    if found is not None:
        room, target, reason = found
        refusal = policing.ban_in_room(hub, session, room, target, reason)
        _answer(hub, session, refusal, re, "")


def _listing(setting: RoomSetting, on: bool, usage: str) -> Handler:
    def handler(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
        found = _room_and_target(hub, session, args, re, usage)
        if found is not None:
            room, target, _ = found
            if not moderation.is_operator(room, session):
                hub.refuse(session, Refusal(codes.NOT_OPERATOR, room.name), re)
                return
            _answer(
                hub, session, policing.change_list(hub, session, room, setting, target, on), re, ""
            )

    return handler


def _kill(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    _answer(hub, session, policing.kill(hub, session, args["nick"], args.get("reason", "")), re, "")


def _kline(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    mask = policing.server_mask(hub, args["mask"])
    refusal = policing.ban_server(hub, session, args["mask"], args.get("reason", ""))
    _answer(hub, session, refusal, re, words.SERVER_BANNED.format(mask=mask))


def _unkline(hub: Hub, session: Session, args: Args, re: RequestId) -> None:
    refusal = policing.unban_server(hub, session, args["mask"])
    _answer(hub, session, refusal, re, words.SERVER_UNBANNED.format(mask=args["mask"]))


COMMANDS: Mapping[str, Command] = {
    c.name: c
    for c in (
        Command("help", _help, "/help", "this list", registered=False),
        Command(
            "nick",
            _nick,
            "/nick NAME",
            "change your nickname",
            ("nick",),
            1,
            named=("password",),
            registered=False,
        ),
        Command(
            "join",
            _join,
            "/join #room",
            "join a room (and its key, if it has one), or switch to it",
            ("room", "key"),
            1,
            named=("replay",),
        ),
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
            words.HISTORY_USAGE,
            "earlier messages of a room or a private conversation",
            ("words",),
            rest=True,
            named=("room", "with", "limit", "before"),
        ),
        Command(
            "search",
            _search,
            words.SEARCH_USAGE,
            "search your rooms and private messages (from:NICK in:#room after:DATE before:DATE)",
            ("words",),
            rest=True,
            named=("q", "limit", "before", ZONE),
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
        Command(
            "hello",
            _hello,
            "",
            "",
            ("nick",),
            1,
            named=("room", "replay", "password"),
            registered=False,
            listed=False,
        ),
        Command("ping", _ping, "", "", registered=False, listed=False),
        Command(
            "login",
            _login,
            "/login NAME",
            "log in to your account (a registered nickname); the password is asked for",
            ("account", "password"),
            1,
            True,  # a password may hold spaces
            registered=False,
        ),
        Command(
            "oper",
            _oper,
            "/oper NAME",
            "become a server operator; the password is asked for",
            ("name", "password"),
            1,
            True,  # a password may hold spaces
        ),
        Command(
            "kick",
            _kick,
            words.MODERATION_USAGE["kick"],
            "put someone out of a room (its operators)",
            ("words",),
            rest=True,
            named=("room", "nick", "reason"),
        ),
        Command(
            "ban",
            _ban,
            words.MODERATION_USAGE["ban"],
            "keep someone (or an address range) out of a room, and put them out",
            ("words",),
            rest=True,
            named=("room", "mask", "reason"),
        ),
        Command(
            "unban",
            _listing(RoomSetting.BAN, False, words.MODERATION_USAGE["unban"]),
            words.MODERATION_USAGE["unban"],
            "lift a ban",
            ("words",),
            rest=True,
            named=("room", "mask"),
        ),
        Command(
            "mute",
            _listing(RoomSetting.MUTE, True, words.MODERATION_USAGE["mute"]),
            words.MODERATION_USAGE["mute"],
            "let someone stay in a room but not speak",
            ("words",),
            rest=True,
            named=("room", "mask"),
        ),
        Command(
            "unmute",
            _listing(RoomSetting.MUTE, False, words.MODERATION_USAGE["unmute"]),
            words.MODERATION_USAGE["unmute"],
            "let someone speak again",
            ("words",),
            rest=True,
            named=("room", "mask"),
        ),
        Command(
            "kill",
            _kill,
            "/kill NICK [reason]",
            "end someone's session (server operators)",
            ("nick", "reason"),
            1,
            True,
        ),
        Command(
            "kline",
            _kline,
            "/kline NICK|MASK|CIDR [reason]",
            "ban from the whole server (server operators)",
            ("mask", "reason"),
            1,
            True,
        ),
        Command(
            "unkline",
            _unkline,
            "/unkline MASK|CIDR",
            "lift a server ban",
            ("mask",),
            1,
        ),
    )
}
