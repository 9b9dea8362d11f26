"""The plain flavour: what people type on telnet and nc, and what they read back."""

from __future__ import annotations

from datetime import datetime

from soketler.protocols import names, wording
from soketler.protocols.columns import TAB_SIZE, wrap
from soketler.protocols.events import (
    AwayChanged,
    Bye,
    ChatMessage,
    Codec,
    Error,
    HistoryEnd,
    HistoryPage,
    Info,
    Invited,
    Joined,
    Kicked,
    Members,
    ModeChanged,
    NickChanged,
    Parted,
    Pong,
    Quit,
    Request,
    RoomChange,
    RoomList,
    RoomSetting,
    SearchEnd,
    SearchPage,
    ServerEvent,
    TagMessage,
    TopicChanged,
    TopicReply,
    View,
    Welcome,
)
from soketler.protocols.text import clean_text

# The tutorials' words for "I am done"; a line that is only one of them ends the session.
CLOSE_WORDS = frozenset({"bye", "close", "quit", "q", "kapat", "exit"})
NEWLINE = "\r\n"  # telnet's NVT wants CRLF; nc users' terminals do not mind it


def parse_line(text: str, close_words: frozenset[str] = CLOSE_WORDS) -> Request:
    """One line a person typed, as a request. Never raises."""
    if text.startswith("/"):
        if text.startswith("//"):
            return Request("say", argtext=text[1:], line=text)
        name, _, rest = text[1:].partition(" ")
        return Request(name.casefold(), argtext=rest.strip(), line=text)
    if close_words and text.strip().casefold() in close_words:
        return Request("quit", line=text)
    return Request("say", argtext=text, line=text)


def _clock(time: datetime) -> str:
    # People read the server's local time; the JSON flavour carries UTC for programs.
    return time.astimezone().strftime("%H:%M")


def _stamp(time: datetime, history: bool) -> str:
    # Replayed lines carry the date, so nobody mistakes yesterday's line for a live one.
    return time.astimezone().strftime("%Y-%m-%d %H:%M") if history else _clock(time)


def history_end_text(
    about: str, count: int, more: bool, target: str = "", oldest: int | None = None
) -> str:
    """The line that ends a page of history (the terminal client shows the same): with
    older messages, the very command that shows them."""
    messages = "1 message" if count == 1 else f"{count} messages"
    older = ""
    if more and oldest is not None:
        older = f" Older: /history {target} before {oldest}".replace("  ", " ") + "."
    elif more:
        older = " Older: /history before ID."
    return f"End of history of {about} ({messages}).{older}"


NOTHING_FOUND = 'No messages found for "{query}".'
FOUND = '{messages} found for "{query}".'
OLDER_FOUND = " Older: /search before {oldest} {query}."


def search_end_text(query: str, count: int, more: bool, oldest: int | None = None) -> str:
    """The line that ends what a search found: with older matches, the very command
    that shows them."""
    if count == 0:
        return NOTHING_FOUND.format(query=query)
    messages = "1 message" if count == 1 else f"{count} messages"
    older = OLDER_FOUND.format(oldest=oldest, query=query) if more and oldest is not None else ""
    return FOUND.format(messages=messages, query=query) + older


def _found_view(message: ChatMessage, own: str) -> View:
    # Found messages come from any room: each names its room, as a line about a room
    # other than the current one does.
    if message.room is not None:
        return View.ELSEWHERE
    return View.OWN if own and names.key(message.sender) == own else View.HERE


def topic_text(room: str, topic: str) -> str:
    topic = clean_text(topic)
    return f"Topic of {room}: {topic}" if topic else f"{room} has no topic."


# What each change of a room's settings says: (turned on, turned off).
_CHANGES: dict[RoomSetting, tuple[str, str]] = {
    RoomSetting.TOPIC_LOCK: ("only operators set the topic", "anyone in it sets the topic"),
    RoomSetting.NO_OUTSIDE: ("members only", "open to messages from outside"),
    RoomSetting.MODERATED: ("moderated", "not moderated"),
    RoomSetting.INVITE_ONLY: ("invite only", "open to all"),
    RoomSetting.SECRET: ("secret", "not secret"),
    RoomSetting.KEY: ("a key is needed to join", "no key needed"),
    RoomSetting.LIMIT: ("at most {value} members", "no member limit"),
    RoomSetting.BAN: ("{value} banned", "{value} no longer banned"),
    RoomSetting.MUTE: ("{value} muted", "{value} no longer muted"),
    RoomSetting.OPERATOR: ("{value} is an operator", "{value} is no longer an operator"),
    RoomSetting.VOICE: ("{value} may speak", "{value} is no longer voiced"),
}


def change_text(change: RoomChange) -> str:
    on, off = _CHANGES[change.setting]
    return (on if change.on else off).format(value=clean_text(change.value or ""))


def _because(reason: str) -> str:
    reason = clean_text(reason)
    return f" ({reason})" if reason else ""


def _where(room: str | None, view: View) -> str:
    return f" [{room}]" if room is not None and view == View.ELSEWHERE else ""


def _info_lines(text: str, prefix: str) -> str:
    """Each line of `text` after `prefix`, wrapped to the terminal's 80 columns."""
    return "".join(
        f"{part}{NEWLINE}" for line in text.split("\n") for part in wrap(line, prefix, prefix)
    )


def _notice(stamp: str, text: str) -> str:
    """`HH:MM -- text`, lines after the first indented under the text."""
    first = f"{stamp} -- "
    return "".join(f"{part}{NEWLINE}" for part in wrap(text, first, " " * len(first)))


def _members(event: Members) -> str:
    """`/who`: the names, wrapped, then the topic on a line of its own."""
    names = ", ".join(event.users)
    if event.total > len(event.users):
        names += f" and {event.total - len(event.users)} more (/who {event.room} lists all)"
    lines = wrap(f"{event.room} ({event.total}): {names}", "-- ", "--   ")
    topic = clean_text(event.topic)  # (IRC users' colour codes are not for terminals)
    if topic:
        lines += wrap(f"Topic: {topic}", "-- ", "--   ")
    return "".join(f"{line}{NEWLINE}" for line in lines)


def render(event: ServerEvent, view: View = View.HERE) -> str:
    """The text a plain client sees for an event, with line endings.

    Tabs become spaces (to the next multiple of 8 on the line): a tab's width is up to
    each terminal, and a line that must fit 80 columns cannot hold one.
    """
    text = _render(event, view)
    return text.expandtabs(TAB_SIZE) if "\t" in text else text


def _render(event: ServerEvent, view: View) -> str:
    match event:
        case ChatMessage(time=t, sender=sender, text=text, room=room, to=to, action=action):
            stamp = _stamp(t, event.history)
            # IRC users' text keeps its formatting codes (colours, bold) for IRC
            # readers; a terminal must not get them.
            text = clean_text(text)
            if to is not None:
                if view == View.OWN:
                    return f"{stamp} -> *{to}* {text}{NEWLINE}"
                return f"{stamp} *{sender}* {text}{NEWLINE}"
            where = _where(room, view)
            if action:
                return f"{stamp}{where} * {sender} {text}{NEWLINE}"
            return f"{stamp}{where} <{sender}> {text}{NEWLINE}"
        case HistoryPage(messages=messages, end=end, own=own):
            return "".join(
                render(m, View.OWN if own and names.key(m.sender) == own else View.HERE)
                for m in messages
            ) + render(end)
        case SearchPage(messages=messages, end=end, own=own):
            return "".join(render(m, _found_view(m, own)) for m in messages) + render(end)
        case SearchEnd(query=query, count=count, more=more):
            return _info_lines(search_end_text(query, count, more, event.oldest), "-- ")
        case HistoryEnd(room=room, count=count, more=more, with_nick=with_nick):
            about = room if room is not None else f"your messages with {with_nick}"
            target = room if room is not None else (with_nick or "")
            text = history_end_text(about, count, more, target, event.oldest)
            return _info_lines(text, "-- ")
        case Joined(time=t, room=room, nick=nick):
            return _notice(_clock(t), f"{nick} joined {room}")
        case Parted(time=t, room=room, nick=nick, reason=reason):
            return _notice(_clock(t), f"{nick} left {room}{_because(reason)}")
        case Quit(time=t, nick=nick, reason=reason):
            return _notice(_clock(t), f"{nick} quit{_because(reason)}")
        case NickChanged(time=t, old=old, new=new):
            return _notice(_clock(t), f"{old} is now known as {new}")
        case TopicChanged(time=t, room=room, nick=nick, text=text):
            who = nick if nick is not None else "The server"
            return _notice(_clock(t), f"{who} set the topic of {room}: {clean_text(text)}")
        case Kicked(time=t, room=room, by=by, nick=nick, reason=reason):
            return _notice(_clock(t), f"{by} kicked {nick} from {room}{_because(reason)}")
        case ModeChanged(time=t, room=room, nick=nick, changes=changes):
            said = ", ".join(change_text(change) for change in changes)
            return _notice(_clock(t), f"{nick} set {room}: {said}")
        case Invited(time=t, by=by, room=room):
            return _notice(_clock(t), f"{by} invites you to {room} (/join {room})")
        case AwayChanged(time=t, nick=nick, text=text):
            if text is None:
                return _notice(_clock(t), f"{nick} is back")
            return _notice(_clock(t), f"{nick} is away: {clean_text(text)}")
        case TagMessage():
            return ""  # typing notices and the like: nothing a terminal can show
        case Welcome(nick=nick, room=room):
            return _info_lines(f"Hello {nick}! You are in {room}. Type /help for commands.", "-- ")
        case Members():
            return _members(event)
        case RoomList(rooms=rooms):
            shown = "" if event.total == len(rooms) else f", the {len(rooms)} biggest shown"
            lines = [f"Rooms ({event.total}{shown}):"]
            for info in rooms:
                topic = f"  {clean_text(info.topic)}" if info.topic else ""
                lines.append(f"  {info.name} ({info.users}){topic}")
            return _info_lines("\n".join(lines), "-- ")
        case TopicReply(room=room, topic=topic):
            return _info_lines(topic_text(room, topic), "-- ")
        case Info(text=text):
            return _info_lines(text, "-- ")
        case Error(prompt=prompt):
            text = wording.error_text(event)
            return _info_lines(f"{text} {wording.CHOOSE_ANOTHER}" if prompt else text, "!! ")
        case Pong():
            return f"-- pong{NEWLINE}"
        case Bye(reason=reason):
            return f"-- Goodbye ({reason}){NEWLINE}"
    raise TypeError(f"not a server event: {event!r}")


class PlainCodec(Codec):
    name = "plain"

    def encode(self, event: ServerEvent, view: View = View.HERE) -> bytes:
        # (See JsonCodec.encode: text that could not be encoded must never raise here.)
        return render(event, view).encode("utf-8", "replace")


PLAIN = PlainCodec()
