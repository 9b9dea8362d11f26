"""The client's side of the JSON-lines protocol, without I/O.

Bytes in, events out; requests in, bytes out. No sockets and no asyncio, so every
rule here is tested by feeding bytes (tests/client/test_codec.py):

    protocol = ClientProtocol()
    protocol.send(Register("ayşe", id=1))
    sock.sendall(protocol.data_to_send())
    protocol.receive_data(sock.recv(65536))
    for event in protocol.events_received(): ...

The server greets every connection in plain text before it knows the client speaks
JSON, so until the JSON `hello` reply arrives, lines that are not JSON objects are
`Greeting`s, not errors. The parser never raises on what the server sends: a line
that breaks the protocol becomes a `BadLine` event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from soketler.client.events import (
    BadLine,
    Bye,
    ChatMessage,
    Error,
    Event,
    Greeting,
    HistoryEnd,
    Info,
    Joined,
    Members,
    NickChanged,
    Parted,
    Pong,
    Quit,
    RequestId,
    RoomInfo,
    RoomList,
    TopicChanged,
    Unknown,
    Welcome,
)
from soketler.client.requests import ClientRequest
from soketler.protocols.framing import LineFramer, LineTooLong
from soketler.protocols.text import decode_line as decode_plain_line

# The server's lines are bounded by what it sends, not by its input limit: a `who`
# reply for a full room lists thousands of names. One MiB holds 10,000 users of 30
# characters with room to spare, and still stops a broken server from eating memory.
DEFAULT_MAX_LINE = 1 << 20
# A line echoed inside a BadLine is cut to this many characters.
_SHOWN_LINE = 200

T = TypeVar("T")


class _FieldError(ValueError):
    """A field is missing or has the wrong type; becomes a BadLine, never escapes."""


def encode(request: ClientRequest) -> bytes:
    """One request as one line of UTF-8 JSON."""
    # json.dumps escapes CR and LF inside strings, so a text cannot split the line.
    text = json.dumps(request.to_object(), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _field(obj: Mapping[str, Any], key: str, kind: type[T], default: T | None = None) -> T:
    value = obj.get(key, default)
    # bool is an int in Python, but `true` is not a number in JSON.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _FieldError(f'field "{key}" must be {kind.__name__}')
    return value


def _optional_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _FieldError(f'field "{key}" must be a string or null')
    return value


def _time(obj: Mapping[str, Any]) -> datetime:
    stamp = _field(obj, "time", str)
    try:
        # Python 3.11's fromisoformat reads the trailing "Z".
        time = datetime.fromisoformat(stamp)
    except ValueError:
        raise _FieldError(f'field "time" is not an ISO 8601 time: {stamp[:40]!r}') from None
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)


def _re(obj: Mapping[str, Any]) -> RequestId:
    value = obj.get("re")
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    raise _FieldError('field "re" must be a string or a number')


def _text(obj: Mapping[str, Any], key: str) -> str:
    return _field(obj, key, str, "")


def _message(obj: Mapping[str, Any]) -> ChatMessage:
    to = _optional_str(obj, "to")
    room = None if to is not None else _field(obj, "room", str)
    return ChatMessage(
        id=_field(obj, "id", int),
        time=_time(obj),
        sender=_field(obj, "from", str),
        text=_field(obj, "text", str),
        room=room,
        to=to,
        action=_field(obj, "action", bool, False),
        history=_field(obj, "history", bool, False),
    )


def _members(obj: Mapping[str, Any]) -> Members:
    users = _field(obj, "users", list)
    if not all(isinstance(user, str) for user in users):
        raise _FieldError('field "users" must be a list of strings')
    count = obj.get("count", -1)
    if not isinstance(count, int) or isinstance(count, bool):
        raise _FieldError('field "count" must be a number')
    # -1 says `users` is complete, as in the server's own Members events.
    count = -1 if count == len(users) else count
    return Members(
        _field(obj, "room", str), _text(obj, "topic"), tuple(users), _re(obj), count=count
    )


def _room_list(obj: Mapping[str, Any]) -> RoomList:
    rooms = []
    for item in _field(obj, "rooms", list):
        if not isinstance(item, dict):
            raise _FieldError('field "rooms" must be a list of objects')
        rooms.append(
            RoomInfo(_field(item, "name", str), _field(item, "users", int), _text(item, "topic"))
        )
    return RoomList(tuple(rooms), _re(obj))


def _history_end(obj: Mapping[str, Any]) -> HistoryEnd:
    with_nick = _optional_str(obj, "with")
    room = None if with_nick is not None else _field(obj, "room", str)
    count = _field(obj, "count", int)
    oldest = obj.get("oldest")
    if oldest is not None and (not isinstance(oldest, int) or isinstance(oldest, bool)):
        raise _FieldError('field "oldest" must be a number')
    more = _field(obj, "more", bool, False)
    return HistoryEnd(room, count, more, with_nick, _re(obj), oldest)


def _unknown(obj: Mapping[str, Any]) -> Unknown:
    fields = tuple(
        (key, json.dumps(value, ensure_ascii=False)) for key, value in obj.items() if key != "type"
    )
    return Unknown(str(obj["type"]), fields)


_DECODERS: dict[str, Callable[[Mapping[str, Any]], Event]] = {
    "message": _message,
    "join": lambda o: Joined(_time(o), _field(o, "room", str), _field(o, "nick", str)),
    "part": lambda o: Parted(
        _time(o), _field(o, "room", str), _field(o, "nick", str), _text(o, "reason")
    ),
    "quit": lambda o: Quit(_time(o), _field(o, "nick", str), _text(o, "reason")),
    "nick": lambda o: NickChanged(_time(o), _field(o, "old", str), _field(o, "new", str)),
    "topic": lambda o: TopicChanged(
        _time(o), _field(o, "room", str), _optional_str(o, "nick"), _text(o, "text")
    ),
    "hello": lambda o: Welcome(
        _field(o, "nick", str), _field(o, "room", str), _text(o, "version"), _re(o)
    ),
    "history": _history_end,
    "who": _members,
    "rooms": _room_list,
    "info": lambda o: Info(_text(o, "text"), _re(o)),
    "error": lambda o: Error(_field(o, "code", str), _text(o, "text"), _re(o)),
    "pong": lambda o: Pong(_re(o)),
    "bye": lambda o: Bye(_text(o, "reason")),
}


def decode_object(obj: Mapping[str, Any]) -> Event:
    """The event for one JSON object from the server. Never raises."""
    kind = obj.get("type")
    if not isinstance(kind, str):
        return BadLine('the object has no "type"', _shown(obj))
    decoder = _DECODERS.get(kind)
    if decoder is None:
        return _unknown(obj)
    try:
        return decoder(obj)
    except _FieldError as exc:
        return BadLine(f"{kind}: {exc}", _shown(obj))


def decode_json_line(line: str) -> Event:
    """The event for one line of JSON text. Never raises."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        # RecursionError: "[[[[..." nested deeper than the interpreter allows.
        return BadLine("not JSON", line[:_SHOWN_LINE])
    if not isinstance(obj, dict):
        return BadLine("not a JSON object", line[:_SHOWN_LINE])
    return decode_object(obj)


def _shown(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)[:_SHOWN_LINE]


class ClientProtocol:
    """One connection's protocol state: framing, the greeting, decoding, encoding."""

    __slots__ = ("_eof", "_events", "_framer", "_outgoing", "registered")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        self._framer = LineFramer(max_line)
        self._events: list[Event] = []
        self._outgoing: list[bytes] = []
        self._eof = False
        # True from the server's `hello` reply on: from then on every line is JSON.
        self.registered = False

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line held in memory (never more than max_line)."""
        return self._framer.buffered

    def receive_data(self, data: bytes) -> None:
        if self._eof:
            return
        for item in self._framer.feed(data):
            self._line(item)

    def receive_eof(self) -> None:
        """The server will send nothing more. Calling it again does nothing."""
        if self._eof:
            return
        self._eof = True
        for item in self._framer.eof():
            self._line(item)

    def events_received(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def send(self, request: ClientRequest) -> None:
        self._outgoing.append(encode(request))

    def data_to_send(self) -> bytes:
        data = b"".join(self._outgoing)
        self._outgoing.clear()
        return data

    def _line(self, item: bytes | LineTooLong) -> None:
        if isinstance(item, LineTooLong):
            self._events.append(BadLine(f"a line was longer than {item.limit} bytes"))
            return
        if not item.lstrip().startswith(b"{"):
            if self.registered:
                self._events.append(BadLine("not JSON", _plain(item)))
            elif text := _plain(item).strip():
                self._events.append(Greeting(text))
            return
        event = decode_json_line(item.decode("utf-8", "replace"))
        if isinstance(event, Welcome):
            self.registered = True
        self._events.append(event)


def _plain(raw: bytes) -> str:
    """A non-JSON line as text safe to show, cut to a length worth showing."""
    return decode_plain_line(raw)[:_SHOWN_LINE]
