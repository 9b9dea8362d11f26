"""Events as Redis stream entries, and back.

An entry is a flat map of strings: `_e` names the event ("message", "joined", ...),
`_o` is the origin token of the publish that added it (so a retried publish can tell
whether its first attempt got through), and every other field is a field of the event
dataclass under its own name. A field equal to its default is left out, so a plain
message carries no `action` and no `to`. A message's id is not a field: it is the entry's
stream id (see `cursors`); `history` is set by whoever reads it.

Fields are encoded from their type hints (str, int, bool, datetime, an Enum, a mapping
of strings), so an event that gains a field needs no change here.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from soketler.cluster.cursors import cursor
from soketler.core.bus import Follow, Killed, NodeLeft, RoomCounted, RoomDescribed, UserArrived
from soketler.protocols.events import (
    AwayChanged,
    ChatMessage,
    Invited,
    Joined,
    Kicked,
    ModeChanged,
    NickChanged,
    Parted,
    Quit,
    RoomChange,
    RoomSetting,
    TagMessage,
    TopicChanged,
)

EVENT = "_e"
ORIGIN = "_o"

# The name each event has in a stream. Names are part of the data in Redis: never
# rename one; add new ones.
EVENT_NAMES: dict[type, str] = {
    ChatMessage: "message",
    Joined: "joined",
    Parted: "parted",
    Quit: "quit",
    NickChanged: "nick",
    TopicChanged: "topic",
    Kicked: "kicked",
    ModeChanged: "mode",
    Invited: "invited",
    AwayChanged: "away",
    TagMessage: "tags",
    # Between nodes only (core.bus).
    UserArrived: "user",
    NodeLeft: "node-left",
    RoomCounted: "count",
    RoomDescribed: "room",
    Follow: "follow",
    Killed: "killed",
}
# Fields that are not kept in the entry: the id is the entry's own, and whether a
# message is history depends on how it is read.
_NOT_STORED = frozenset({"id", "history"})


class EntryError(ValueError):
    """An entry that cannot be read as the event it names."""


Encode = Callable[[Any], str]
Decode = Callable[[str], Any]


def _ms(time: datetime) -> str:
    return str(int(time.timestamp() * 1000))


def _time(text: str) -> datetime:
    return datetime.fromtimestamp(int(text) / 1000, UTC)


def _bool(text: str) -> bool:
    return text == "1"


def _mapping(text: str) -> dict[str, str]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return {str(k): str(v) for k, v in value.items()}


def _changes_text(changes: Any) -> str:
    return json.dumps([[c.setting.value, c.on, c.value] for c in changes], ensure_ascii=False)


def _changes(text: str) -> tuple[RoomChange, ...]:
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError("not a list of changes")
    found = []
    for item in value:
        setting, on, given = item
        if not isinstance(on, bool) or not (given is None or isinstance(given, str)):
            raise ValueError(f"not a change: {item!r}")
        found.append(RoomChange(RoomSetting(setting), on, given))
    return tuple(found)


def _optional(hint: Any) -> bool:
    union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    return union and type(None) in typing.get_args(hint)


def _codec(hint: Any) -> tuple[Encode, Decode]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        kinds = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(kinds) != 1:
            raise TypeError(f"no entry encoding for {hint}")
        return _codec(kinds[0])
    if hint is bool:
        return (lambda v: "1" if v else "0"), _bool
    if hint is str:
        return str, str
    if hint is int:
        return str, int
    if hint is float:
        return repr, float
    if hint == tuple[RoomChange, ...]:
        return _changes_text, _changes
    if hint is datetime:
        return _ms, _time
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        enum_type = hint
        value_type = type(next(iter(enum_type)).value)
        return (lambda v: str(v.value)), (lambda t: enum_type(value_type(t)))
    if typing.get_origin(hint) in (dict, Mapping, typing.Mapping):
        return (lambda v: json.dumps(dict(v), ensure_ascii=False)), _mapping
    raise TypeError(f"no entry encoding for {hint}")


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    encode: Encode
    decode: Decode
    default: Any  # dataclasses.MISSING when the field is required


def _fields(event_type: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(event_type)
    found = []
    for field in dataclasses.fields(event_type):
        if field.name in _NOT_STORED:
            continue
        default: Any = field.default
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        elif default is dataclasses.MISSING and _optional(hints[field.name]):
            default = None  # left out when None, so None when missing
        encode, decode = _codec(hints[field.name])
        found.append(_Field(field.name, encode, decode, default))
    return tuple(found)


_LAYOUT: dict[type, tuple[_Field, ...]] = {kind: _fields(kind) for kind in EVENT_NAMES}
_BY_NAME: dict[str, type] = {name: kind for kind, name in EVENT_NAMES.items()}


def encode(event: object, origin: str | None = None) -> dict[str, str]:
    """The entry fields of an event (one of EVENT_NAMES)."""
    kind = type(event)
    try:
        layout = _LAYOUT[kind]
    except KeyError:
        raise TypeError(f"{kind.__name__} does not travel through streams") from None
    fields = {EVENT: EVENT_NAMES[kind]}
    if origin is not None:
        fields[ORIGIN] = origin
    for field in layout:
        value = getattr(event, field.name)
        if value is None or value == field.default:
            continue
        fields[field.name] = field.encode(value)
    return fields


def decode(entry_id: str, fields: Mapping[str, str], *, history: bool = False) -> object | None:
    """The event in an entry; None for an event this version does not know (a newer
    server wrote it). Raises EntryError for an entry that is damaged."""
    kind = _BY_NAME.get(fields.get(EVENT, ""))
    if kind is None:
        return None
    values: dict[str, Any] = {}
    try:
        for field in _LAYOUT[kind]:
            text = fields.get(field.name)
            if text is not None:
                values[field.name] = field.decode(text)
            elif field.default is dataclasses.MISSING:
                raise EntryError(f"entry {entry_id} has no {field.name!r}")
            else:
                values[field.name] = field.default
        if kind is ChatMessage:
            values["id"] = cursor(entry_id)
            values["history"] = history
        event: object = kind(**values)
        return event
    except (ValueError, TypeError) as exc:
        if isinstance(exc, EntryError):
            raise
        raise EntryError(f"entry {entry_id} cannot be read: {exc}") from exc


def decode_message(
    entry_id: str, fields: Mapping[str, str], *, history: bool = True
) -> ChatMessage | None:
    """The chat message in an entry, or None if the entry holds another event."""
    if fields.get(EVENT) != EVENT_NAMES[ChatMessage]:
        return None
    message = decode(entry_id, fields, history=history)
    assert isinstance(message, ChatMessage)
    return message


def time_ms(fields: Mapping[str, str]) -> int | None:
    """When the event in an entry happened (ms since the epoch), if it says."""
    text = fields.get("time")
    return int(text) if text is not None and text.isdigit() else None
