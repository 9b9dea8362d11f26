"""How events look on screen: styled fragments for the terminal, plain lines for pipes.

Fragments are (style, text) pairs, the shape prompt_toolkit prints; joined they are
the plain line. The wording follows the plain flavour of the protocol
(docs/protocol.md), so a line reads the same in `soketler chat` and in telnet.

Everything the server relays from other people goes through `escape`: the server
strips control characters, but a terminal client must not trust that, because one
escape sequence can rewrite the screen or the window title.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime, tzinfo

from soketler.client.events import (
    BadLine,
    Bye,
    ChatMessage,
    Disconnected,
    Error,
    Event,
    HistoryEnd,
    Info,
    Joined,
    Members,
    NickChanged,
    Parted,
    Quit,
    Reconnected,
    RoomList,
    TopicChanged,
    Welcome,
)
from soketler.client.state import ChatState
from soketler.protocols.columns import TAB_SIZE
from soketler.protocols.names import key
from soketler.protocols.plain import history_end_text

Fragments = list[tuple[str, str]]

# C0 and C1 controls, DEL, and the bidirectional overrides and isolates, which can
# make a line display in an order other than the one it was sent in.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\e"}

# Nickname colours: readable on dark and light backgrounds (no black, no white).
NICK_COLOURS = (
    "ansired",
    "ansigreen",
    "ansiyellow",
    "ansiblue",
    "ansimagenta",
    "ansicyan",
    "ansibrightred",
    "ansibrightgreen",
    "ansibrightyellow",
    "ansibrightblue",
    "ansibrightmagenta",
    "ansibrightcyan",
)

# Style classes used in fragments; `--no-color` keeps the attributes, drops colours.
STYLES: dict[str, str] = {
    "time": "ansibrightblack",
    "room": "ansicyan",
    "own": "bold",
    "own-text": "ansibrightblack",
    "action": "italic",
    "private": "bold ansimagenta",
    "event": "dim",
    "info": "",
    "error": "bold ansired",
    "prompt": "bold",
    "toolbar": "reverse",
    "toolbar.current": "reverse bold",
    "toolbar.unread": "reverse ansiyellow",
} | {f"nick-{index}": f"{colour}" for index, colour in enumerate(NICK_COLOURS)}


def escape(text: str) -> str:
    """Text with every control character shown as an escape, never executed.

    A tab is harmless and common in pasted code, so it becomes spaces instead."""
    if text.isprintable() and not _UNSAFE.search(text):
        return text
    if "\t" in text:
        text = text.expandtabs(TAB_SIZE)
    return _UNSAFE.sub(lambda m: _NAMED.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


def nick_style(nick: str) -> str:
    """The same colour for the same nickname, in every run and on every machine."""
    # crc32, not hash(): Python salts str hashes per process.
    index = zlib.crc32(key(nick).encode("utf-8")) % len(NICK_COLOURS)
    return f"class:nick-{index}"


def plain(fragments: Fragments) -> str:
    return "".join(text for _, text in fragments)


class Renderer:
    """Turns events into fragments, as seen by the person whose state this is."""

    def __init__(self, state: ChatState, tz: tzinfo | None = None) -> None:
        self.state = state
        self.tz = tz  # None: this machine's local time

    def clock(self, time: datetime) -> str:
        return time.astimezone(self.tz).strftime("%H:%M")

    def _stamp(self, time: datetime, room: str | None = None, dated: bool = False) -> Fragments:
        # Replayed lines carry the date, so nobody mistakes yesterday's line for a live one.
        shown = time.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if dated else self.clock(time)
        out: Fragments = [("class:time", shown + " ")]
        current = self.state.current
        if room is not None and (current is None or key(room) != key(current)):
            out.append(("class:room", f"[{escape(room)}] "))
        return out

    def _nick(self, nick: str) -> tuple[str, str]:
        style = "class:own" if self.state.membership.is_me(nick) else nick_style(nick)
        return (style, escape(nick))

    def fragments(self, event: Event) -> Fragments | None:
        """The line(s) for an event, or None if it is not worth showing."""
        match event:
            case ChatMessage():
                return self._message(event)
            case Joined(time=t, room=room, nick=nick):
                return self._notice(t, room, [self._nick(nick), ("", f" joined {escape(room)}")])
            case Parted(time=t, room=room, nick=nick, reason=reason):
                why = f" ({escape(reason)})" if reason else ""
                return self._notice(t, room, [self._nick(nick), ("", f" left {escape(room)}{why}")])
            case Quit(time=t, nick=nick, reason=reason):
                why = f" ({escape(reason)})" if reason else ""
                return self._notice(t, None, [self._nick(nick), ("", f" quit{why}")])
            case NickChanged(time=t, old=old, new=new):
                return self._notice(
                    t, None, [self._nick(old), ("", " is now known as "), self._nick(new)]
                )
            case TopicChanged(time=t, room=room, nick=nick, text=text):
                said = f"the topic of {escape(room)}: {escape(text)}"
                if nick is None:
                    return self._notice(t, room, [("", f"This is {said}")])
                return self._notice(t, room, [self._nick(nick), ("", f" set {said}")])
            case HistoryEnd(room=room, count=count, more=more, with_nick=with_nick):
                about = (
                    escape(room)
                    if room is not None
                    else f"your messages with {escape(with_nick or '')}"
                )
                target = escape(room if room is not None else with_nick or "")
                return info_line(history_end_text(about, count, more, target, event.oldest))
            case Welcome(nick=nick, room=room, version=version):
                return info_line(
                    f"Connected to soketler {escape(version)} as {escape(nick)}, in {escape(room)}."
                )
            case Members(room=room, topic=topic, users=users):
                names = ", ".join(escape(user) for user in users)
                if event.total > len(users):
                    names += f" and {event.total - len(users)} more (/who lists all)"
                lines = f"{escape(room)} ({event.total}): {names}"
                return info_line(lines + (f"\ntopic: {escape(topic)}" if topic else ""))
            case RoomList(rooms=rooms):
                listed = [
                    f"  {escape(r.name)} ({r.users})" + (f" {escape(r.topic)}" if r.topic else "")
                    for r in rooms
                ]
                return info_line("\n".join(["Rooms:", *listed]) if rooms else "No rooms.")
            case Info(text=text):
                return info_line("\n".join(escape(line) for line in text.split("\n")))
            case Error(text=text):
                return error_line(escape(text))
            case Bye(reason=reason) if not self.state.leaving:
                return info_line(f"The server is closing the connection: {escape(reason)}")
            case Disconnected(reason=reason, reconnecting=again):
                return error_line(
                    f"Connection lost ({escape(reason)})." + (" Reconnecting..." if again else "")
                )
            case Reconnected(nick=nick, rooms=rooms):
                where = ", ".join(escape(room) for room in rooms)
                return info_line(f"Reconnected as {escape(nick)}, in {where}.")
            case BadLine(reason=reason):
                return error_line(f"Ignored a line from the server: {reason}")
        return None  # Pong, Greeting, Unknown: nothing a person needs to see

    def _message(self, event: ChatMessage) -> Fragments:
        mine = self.state.membership.is_me(event.sender)
        text_style = "class:own-text" if mine else ""
        text = escape(event.text)
        if event.to is not None:
            private = "class:private"
            if mine:
                head = [("", "-> "), (private, f"*{escape(event.to)}*")]
            else:
                head = [(private, f"*{escape(event.sender)}*")]
            body = [(text_style, f" {'* ' if event.action else ''}{text}")]
            return [*self._stamp(event.time, dated=event.history), *head, *body]
        out = self._stamp(event.time, event.room, dated=event.history)
        if event.action:
            return [
                *out,
                ("class:action", "* "),
                self._nick(event.sender),
                ("class:action", f" {text}"),
            ]
        return [*out, ("", "<"), self._nick(event.sender), ("", "> "), (text_style, text)]

    def _notice(self, time: datetime, room: str | None, body: Fragments) -> Fragments:
        return [*self._stamp(time, room), ("class:event", "-- "), *(_dim(part) for part in body)]


def _dim(fragment: tuple[str, str]) -> tuple[str, str]:
    style, text = fragment
    return (f"{style} class:event".strip(), text)


def info_line(text: str) -> Fragments:
    """Lines of information, each marked `-- `; the text must be safe already."""
    return [("class:info", "\n".join(f"-- {line}" for line in text.split("\n")))]


ERROR_STYLE = "class:error"
ERROR_MARK = "!! "


def error_line(text: str) -> Fragments:
    """A problem, marked `!! `; the text must be safe already."""
    return [(ERROR_STYLE, f"{ERROR_MARK}{text}")]
