"""The hub's events as IRC lines, for readers with one set of capabilities.

One codec instance serves every IRC reader with the same capabilities that change
what they read (server-time, message-tags, multi-prefix, ...), so a room message is
encoded once per such set, not once per reader (`codec_for`). Events about the room
(a message, a join, a mode change) do not depend on who reads them; replies to one
reader (numerics, which start with the reader's nickname) go through `reply`.

A message is written straight to bytes rather than through `Message`: it is the hot
path of a big room. Text that cannot be on one IRC line (CR, LF, NUL, which no door
lets in, but a codec must never raise in the middle of a delivery to many) has them
replaced by spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from itertools import count

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
    Reader,
    RoomList,
    ServerEvent,
    TagMessage,
    TopicChanged,
    TopicReply,
    View,
    Welcome,
)
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.caps import (
    AWAY_NOTIFY,
    BATCH,
    CHATHISTORY,
    MESSAGE_TAGS,
    MULTI_PREFIX,
    SERVER_TIME,
    USERHOST_IN_NAMES,
)
from soketler.protocols.irc.errors import error_messages
from soketler.protocols.irc.message import MAX_LINE_CONTENT, Message, pack_words
from soketler.protocols.irc.modes import room_change_params
from soketler.protocols.irc.tags import format_tags

# The capabilities that change what a reader reads; the others (echo-message,
# cap-notify) change who gets what, or the negotiation only.
RENDERING_CAPS = frozenset(
    {SERVER_TIME, MESSAGE_TAGS, MULTI_PREFIX, USERHOST_IN_NAMES, AWAY_NOTIFY, BATCH, CHATHISTORY}
)
ACTION_START = "\x01ACTION "
ACTION_END = "\x01"
PUBLIC_ROOM = "="  # RPL_NAMREPLY's channel type (RFC 2812 5.1)
SECRET_ROOM = "@"
NO_NICK = "*"  # a numeric's client before the reader has a nickname
BOT_TAG = "bot"  # the bot mode specification's tag on a bot's messages
HISTORY_BATCH = "chathistory"

_FORBIDDEN = re.compile(r"[\r\n\x00]")
_batch_ids = count(1)


def _safe(text: str) -> str:
    return _FORBIDDEN.sub(" ", text) if _FORBIDDEN.search(text) else text


def server_time(moment: datetime) -> str:
    """The server-time tag's format: ISO 8601 in UTC with milliseconds."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def source(nick: str, user: str, host: str) -> str:
    # Lines replayed from the store have no user@host: the nickname alone is a valid
    # source (RFC 2812 2.3.1).
    return f"{nick}!{user}@{host}" if user and host else nick


class IrcCodec(Codec):
    name = "irc"

    def __init__(self, server: str, caps: frozenset[str] = frozenset()) -> None:
        self.server = server
        self.caps = caps & RENDERING_CAPS
        self.times = SERVER_TIME in caps
        self.tags = MESSAGE_TAGS in caps

    # --- pieces ------------------------------------------------------------------------

    def _line(
        self,
        command: str,
        params: Iterable[str],
        origin: str,
        moment: datetime | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        trailing: bool = True,
    ) -> bytes:
        """One line; the last parameter is written as trailing text (`trailing`)."""
        all_tags: dict[str, str] = {}
        if self.times and moment is not None:
            all_tags["time"] = server_time(moment)
        if tags:
            all_tags.update(tags)
        line = (
            f"@{format_tags(all_tags)} :{origin} {command}" if all_tags else f":{origin} {command}"
        )
        listed = [_safe(param) for param in params]
        if listed:
            if trailing:
                listed[-1] = ":" + listed[-1]
            line += " " + " ".join(listed)
        return line.encode("utf-8", "replace") + b"\r\n"

    def _bare(
        self, command: str, params: Iterable[str], origin: str, moment: datetime | None
    ) -> bytes:
        """A line whose parameters are all words (JOIN #room, NICK new, MODE ...)."""
        head = f"@time={server_time(moment)} " if self.times and moment is not None else ""
        words = " ".join(_safe(p) for p in params)
        return f"{head}:{origin} {command} {words}".encode("utf-8", "replace") + b"\r\n"

    def _numerics(self, messages: Iterable[Message]) -> bytes:
        return b"".join(message.encode_safely() for message in messages)

    def _numeric(self, nick: str, code: str, *params: str, text: bool = True) -> Message:
        return Message(code, (nick, *params), self.server, trailing=text)

    def status(self, held: str) -> str:
        """Every status symbol with multi-prefix, otherwise only the highest."""
        return held if MULTI_PREFIX in self.caps else held[:1]

    # --- a message --------------------------------------------------------------------

    def message(self, event: ChatMessage, batch: str | None = None) -> bytes:
        tags: dict[str, str] = {}
        if batch is not None:
            tags["batch"] = batch
        if self.tags:
            tags["msgid"] = str(event.id)
            if event.bot:
                tags[BOT_TAG] = ""
            if event.tags:
                tags.update(event.tags)
        text = f"{ACTION_START}{event.text}{ACTION_END}" if event.action else event.text
        target = event.to if event.to is not None else event.room or NO_NICK
        command = "NOTICE" if event.notice else "PRIVMSG"
        origin = source(event.sender, event.user, event.host)
        return self._line(command, (target, text), origin, event.time, tags)

    # --- Codec -------------------------------------------------------------------------

    def encode(self, event: ServerEvent, view: View = View.HERE) -> bytes:
        return self.reply(event, _NOBODY, view)

    def reply(self, event: ServerEvent, reader: Reader, view: View = View.HERE) -> bytes:
        nick = reader.nick or NO_NICK
        match event:
            case ChatMessage():
                return self.message(event)
            case Joined(time=t, room=room, nick=who, user=user, host=host):
                return self._bare("JOIN", (room,), source(who, user, host), t)
            case Parted(time=t, room=room, nick=who, reason=reason, user=user, host=host):
                if not reason:
                    return self._bare("PART", (room,), source(who, user, host), t)
                return self._line("PART", (room, reason), source(who, user, host), t)
            case Quit(time=t, nick=who, reason=reason, user=user, host=host):
                return self._line("QUIT", (reason,), source(who, user, host), t)
            case NickChanged(time=t, old=old, new=new, user=user, host=host):
                return self._bare("NICK", (new,), source(old, user, host), t)
            case TopicChanged(time=t, room=room, nick=who, text=text, user=user, host=host):
                origin = source(who, user, host) if who else self.server
                return self._line("TOPIC", (room, text), origin, t)
            case Kicked(time=t, room=room, by=by, nick=who, reason=reason, user=user, host=host):
                return self._line("KICK", (room, who, reason or who), source(by, user, host), t)
            case ModeChanged(time=t, room=room, nick=by, changes=changes, user=user, host=host):
                changed = (room, *room_change_params(changes))
                return self._bare("MODE", changed, source(by, user, host) if user else by, t)
            case Invited(time=t, by=by, nick=who, room=room, user=user, host=host):
                return self._bare("INVITE", (who, room), source(by, user, host), t)
            case AwayChanged(time=t, nick=who, text=text, user=user, host=host):
                if AWAY_NOTIFY not in self.caps:
                    return b""
                away: tuple[str, ...] = (text,) if text is not None else ()
                return self._line("AWAY", away, source(who, user, host), t)
            case TagMessage(time=t, sender=who, tags=tags, room=room, to=to, user=user, host=host):
                if not self.tags:
                    return b""
                target = to if to is not None else room or NO_NICK
                origin = source(who, user, host)
                all_tags = {"msgid": str(event.id), **tags} if event.id else tags
                return self._line("TAGMSG", (target,), origin, t, all_tags, trailing=False)
            case Members():
                return self._members(nick, event)
            case TopicReply(room=room, topic=topic, set_by=by, set_at=at):
                return self._numerics(self._topic(nick, room, topic, by, at, when_empty=True))
            case RoomList(rooms=rooms):
                lines = [self._numeric(nick, n.RPL_LISTSTART, "Channel", texts.LIST_START)]
                lines += [
                    self._numeric(nick, n.RPL_LIST, room.name, str(room.users), room.topic)
                    for room in rooms
                ]
                lines.append(self._numeric(nick, n.RPL_LISTEND, texts.LIST_END))
                return self._numerics(lines)
            case Info(text=text):
                return b"".join(
                    self._line("NOTICE", (nick, line), self.server) for line in text.split("\n")
                )
            case Error(code=code, subject=subject, detail=detail):
                return self._numerics(error_messages(self.server, nick, code, subject, detail))
            case Bye(reason=reason):
                text = texts.CLOSING_LINK.format(host=reader.host, reason=reason)
                return Message("ERROR", (text,), trailing=True).encode()
            case HistoryPage():
                return self._history(event)
            case HistoryEnd() | Welcome() | Pong():
                return b""  # the IRC door says these in its own way, or not at all
        raise TypeError(f"not a server event: {event!r}")

    # --- replies to one reader ------------------------------------------------------------

    def _topic(
        self,
        nick: str,
        room: str,
        topic: str,
        by: str | None,
        at: float,
        *,
        when_empty: bool,
    ) -> list[Message]:
        """RPL_TOPIC and RPL_TOPICWHOTIME; RPL_NOTOPIC only when asked (not after JOIN)."""
        if not topic:
            return [self._numeric(nick, n.RPL_NOTOPIC, room, texts.NO_TOPIC)] if when_empty else []
        lines = [self._numeric(nick, n.RPL_TOPIC, room, topic)]
        if by:
            lines.append(
                self._numeric(nick, n.RPL_TOPICWHOTIME, room, by, str(int(at)), text=False)
            )
        return lines

    def _members(self, nick: str, event: Members) -> bytes:
        """After a JOIN: the topic, then the names; otherwise the names (NAMES)."""
        lines: list[Message] = []
        if event.joining:
            at = event.topic_time
            lines += self._topic(
                nick, event.room, event.topic, event.topic_by, at, when_empty=False
            )
        userhost = USERHOST_IN_NAMES in self.caps
        words = [
            self.status(m.status) + (f"{m.nick}!{m.user}@{m.host}" if userhost else m.nick)
            for m in event.members
        ]
        lines += names_lines(self.server, nick, event.room, words, event.secret)
        return self._numerics(lines)

    def _history(self, page: HistoryPage) -> bytes:
        end = page.end
        target = end.room if end.room is not None else end.with_nick or NO_NICK
        if BATCH not in self.caps:
            return b"".join(self.message(message) for message in page.messages)
        reference = f"h{next(_batch_ids)}"
        start = self._bare("BATCH", (f"+{reference}", HISTORY_BATCH, target), self.server, None)
        body = b"".join(self.message(message, reference) for message in page.messages)
        return start + body + self._bare("BATCH", (f"-{reference}",), self.server, None)


def names_lines(
    server: str, nick: str, room: str, words: list[str], secret: bool = False
) -> list[Message]:
    """RPL_NAMREPLY lines (as many as 512 bytes need) and RPL_ENDOFNAMES."""
    kind = SECRET_ROOM if secret else PUBLIC_ROOM
    overhead = len(f":{server} {n.RPL_NAMREPLY} {nick} {kind} {room} :".encode())
    lines = [
        Message(n.RPL_NAMREPLY, (nick, kind, room, " ".join(group)), server, trailing=True)
        for group in pack_words(words, MAX_LINE_CONTENT - overhead)
    ]
    lines.append(Message(n.RPL_ENDOFNAMES, (nick, room, texts.END_OF_NAMES), server, trailing=True))
    return lines


class _Nobody:
    """The reader of an event encoded for many: numerics name no one."""

    nick = NO_NICK
    host = "*"


_NOBODY = _Nobody()
_CODECS: dict[tuple[str, frozenset[str]], IrcCodec] = {}


def codec_for(server: str, caps: Iterable[str]) -> IrcCodec:
    """The one codec for readers of this server with these capabilities (at most one
    per combination of the few that change rendering)."""
    wanted = frozenset(caps) & RENDERING_CAPS
    codec = _CODECS.get((server, wanted))
    if codec is None:
        codec = _CODECS[server, wanted] = IrcCodec(server, wanted)
    return codec
