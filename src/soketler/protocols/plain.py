"""The plain flavour: what people type on telnet and nc, and what they read back."""

from __future__ import annotations

from datetime import datetime

from soketler.protocols import names, wording
from soketler.protocols.events import (
    Bye,
    ChatMessage,
    Codec,
    Error,
    HistoryEnd,
    HistoryPage,
    Info,
    Joined,
    Members,
    NickChanged,
    Parted,
    Pong,
    Quit,
    Request,
    RoomList,
    SearchEnd,
    SearchPage,
    ServerEvent,
    TopicChanged,
    TopicReply,
    View,
    Welcome,
)

# The tutorials' words for "I am done"; a line that is only one of them ends the session.
CLOSE_WORDS = frozenset({"bye", "close", "quit", "q", "kapat", "exit"})
NEWLINE = "\r\n"  # telnet's NVT wants CRLF; nc users' terminals do not mind it


def parse_line(text: str, close_words: frozenset[str] = CLOSE_WORDS) -> Request:
    """One line a person typed, as a request. Never raises."""
    if text.startswith("/"):
        if text.startswith("//"):
            return Request("say", argtext=text[1:])
        name, _, rest = text[1:].partition(" ")
        return Request(name.casefold(), argtext=rest.strip())
    if close_words and text.strip().casefold() in close_words:
        return Request("quit")
    return Request("say", argtext=text)


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
    return f"Topic of {room}: {topic}" if topic else f"{room} has no topic."


def _where(room: str | None, view: View) -> str:
    return f" [{room}]" if room is not None and view == View.ELSEWHERE else ""


def _info_lines(text: str, prefix: str) -> str:
    return "".join(f"{prefix}{line}{NEWLINE}" for line in text.split("\n"))


def render(event: ServerEvent, view: View = View.HERE) -> str:
    """The text a plain client sees for an event, with line endings."""
    match event:
        case ChatMessage(time=t, sender=sender, text=text, room=room, to=to, action=action):
            stamp = _stamp(t, event.history)
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
            return f"-- {search_end_text(query, count, more, event.oldest)}{NEWLINE}"
        case HistoryEnd(room=room, count=count, more=more, with_nick=with_nick):
            about = room if room is not None else f"your messages with {with_nick}"
            target = room if room is not None else (with_nick or "")
            text = history_end_text(about, count, more, target, event.oldest)
            return f"-- {text}{NEWLINE}"
        case Joined(time=t, room=room, nick=nick):
            return f"{_clock(t)} -- {nick} joined {room}{NEWLINE}"
        case Parted(time=t, room=room, nick=nick, reason=reason):
            because = f" ({reason})" if reason else ""
            return f"{_clock(t)} -- {nick} left {room}{because}{NEWLINE}"
        case Quit(time=t, nick=nick, reason=reason):
            because = f" ({reason})" if reason else ""
            return f"{_clock(t)} -- {nick} quit{because}{NEWLINE}"
        case NickChanged(time=t, old=old, new=new):
            return f"{_clock(t)} -- {old} is now known as {new}{NEWLINE}"
        case TopicChanged(time=t, room=room, nick=nick, text=text):
            who = nick if nick is not None else "The server"
            return f"{_clock(t)} -- {who} set the topic of {room}: {text}{NEWLINE}"
        case Welcome(nick=nick, room=room):
            return f"-- Hello {nick}! You are in {room}. Type /help for commands.{NEWLINE}"
        case Members(room=room, topic=topic, users=users):
            about = f" Topic: {topic}" if topic else ""
            listed = ", ".join(users)
            if event.total > len(users):
                listed += f" and {event.total - len(users)} more (/who {room} lists all)"
            return f"-- {room} ({event.total}): {listed}{about}{NEWLINE}"
        case RoomList(rooms=rooms):
            shown = "" if event.total == len(rooms) else f", the {len(rooms)} biggest shown"
            lines = [f"Rooms ({event.total}{shown}):"]
            for info in rooms:
                topic = f"  {info.topic}" if info.topic else ""
                lines.append(f"  {info.name} ({info.users}){topic}")
            return _info_lines("\n".join(lines), "-- ")
        case TopicReply(room=room, topic=topic):
            return f"-- {topic_text(room, topic)}{NEWLINE}"
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
