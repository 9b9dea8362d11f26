"""The JSON-lines flavour: one JSON object per line each way (docs/protocol.md)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from soketler.protocols import plain, wording
from soketler.protocols.events import (
    AwayChanged,
    BadInput,
    Bye,
    ChatMessage,
    ClientEvent,
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
    RoomList,
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

PROTOCOL_VERSION = 1


def looks_like_json(text: str) -> bool:
    """Whether a client's first line chooses the JSON flavour."""
    return text.lstrip().startswith("{")


def _clean(value: object) -> object:
    # Text inside JSON can smuggle control characters as \u escapes: clean it too.
    return clean_text(value) if isinstance(value, str) else value


def parse_line(text: str) -> ClientEvent:
    """One JSON line as a request, or BadInput saying why not. Never raises."""
    try:
        obj: Any = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: "[[[[..." nested deeper than the interpreter allows.
        return BadInput("bad-request", "Not a JSON object.")
    if not isinstance(obj, dict):
        return BadInput("bad-request", "Not a JSON object.")
    rid = obj.get("id")
    if not (rid is None or isinstance(rid, str | int)) or isinstance(rid, bool):
        return BadInput("bad-request", 'Field "id" must be a string or a number.')
    if isinstance(rid, str):
        # It is echoed back as "re": a lone surrogate ("\ud800") could not be encoded.
        rid = clean_text(rid)
    kind = obj.get("type")
    if not isinstance(kind, str):
        return BadInput("bad-request", 'Field "type" must be a string.', rid)
    kind = clean_text(kind)  # an unknown type is named in the error reply
    fields = {key: _clean(value) for key, value in obj.items() if key not in ("type", "id")}
    if kind == "message":
        action = fields.pop("action", False)
        if not isinstance(action, bool):
            return BadInput("bad-request", 'Field "action" must be true or false.', rid)
        if "to" in fields:
            fields["target"] = fields.pop("to")
            command = "msg"
        else:
            command = "me" if action else "say"
        return Request(command, fields=fields, id=rid)
    return Request(kind, fields=fields, id=rid)


def utc_stamp(time: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-11-23T20:15:00.123Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time.microsecond // 1000:03d}Z"


def _with_re(obj: dict[str, Any], re: object) -> dict[str, Any]:
    if re is not None:
        obj["re"] = re
    return obj


def to_object(event: ServerEvent) -> dict[str, Any]:
    """The JSON object for a server event."""
    match event:
        case ChatMessage(id=mid, time=t, sender=sender, text=text, room=room, to=to):
            obj: dict[str, Any] = {"type": "message", "id": mid, "time": utc_stamp(t)}
            if to is not None:
                obj["to"] = to
            else:
                obj["room"] = room
            obj.update({"from": sender, "text": text, "action": event.action})
            if event.history:
                obj["history"] = True
            return obj
        case HistoryEnd(room=room, count=count, more=more, with_nick=with_nick, re=re):
            end: dict[str, Any] = {"type": "history", "count": count, "more": more}
            if event.oldest is not None:
                end["oldest"] = event.oldest
            if room is not None:
                end["room"] = room
            else:
                end["with"] = with_nick
            return _with_re(end, re)
        case SearchEnd(query=query, count=count, more=more, re=re):
            found: dict[str, Any] = {"type": "search", "count": count, "more": more, "q": query}
            if event.oldest is not None:
                found["oldest"] = event.oldest
            return _with_re(found, re)
        case Joined(time=t, room=room, nick=nick):
            return {"type": "join", "time": utc_stamp(t), "room": room, "nick": nick}
        case Parted(time=t, room=room, nick=nick, reason=reason):
            return {
                "type": "part",
                "time": utc_stamp(t),
                "room": room,
                "nick": nick,
                "reason": reason,
            }
        case Quit(time=t, nick=nick, reason=reason):
            return {
                "type": "quit",
                "time": utc_stamp(t),
                "nick": nick,
                "reason": reason,
            }
        case NickChanged(time=t, old=old, new=new):
            return {"type": "nick", "time": utc_stamp(t), "old": old, "new": new}
        case TopicChanged(time=t, room=room, nick=nick, text=text):
            return {
                "type": "topic",
                "time": utc_stamp(t),
                "room": room,
                "nick": nick,
                "text": text,
            }
        case Kicked(time=t, room=room, by=by, nick=nick, reason=reason):
            return {
                "type": "kick",
                "time": utc_stamp(t),
                "room": room,
                "by": by,
                "nick": nick,
                "reason": reason,
            }
        case ModeChanged(time=t, room=room, nick=nick, changes=changes):
            applied = [{"setting": c.setting.value, "on": c.on, "value": c.value} for c in changes]
            return {
                "type": "mode",
                "time": utc_stamp(t),
                "room": room,
                "nick": nick,
                "changes": applied,
                "text": ", ".join(plain.change_text(c) for c in changes),
            }
        case Invited(time=t, by=by, room=room):
            return {"type": "invite", "time": utc_stamp(t), "by": by, "room": room}
        case AwayChanged(time=t, nick=nick, text=text):
            away = None if text is None else text
            return {"type": "away", "time": utc_stamp(t), "nick": nick, "text": away}
        case Welcome(nick=nick, room=room, version=version, re=re):
            obj = {
                "type": "hello",
                "nick": nick,
                "server": "soketler",
                "version": version,
                "protocol": PROTOCOL_VERSION,
                "room": room,
            }
            return _with_re(obj, re)
        case Members(room=room, topic=topic, users=users, re=re):
            who: dict[str, Any] = {"type": "who", "room": room, "topic": topic}
            who.update(users=list(users), count=event.total)
            return _with_re(who, re)
        case RoomList(rooms=rooms, re=re):
            listed = [{"name": r.name, "users": r.users, "topic": r.topic} for r in rooms]
            return _with_re({"type": "rooms", "rooms": listed, "count": event.total}, re)
        case TopicReply(room=room, topic=topic, re=re):
            return _with_re({"type": "info", "text": plain.topic_text(room, topic)}, re)
        case Info(text=text, re=re):
            return _with_re({"type": "info", "text": text}, re)
        case Error(code=code, re=re):
            return _with_re({"type": "error", "code": code, "text": wording.error_text(event)}, re)
        case Pong(re=re):
            return _with_re({"type": "pong"}, re)
        case Bye(reason=reason):
            return {"type": "bye", "reason": reason}
    raise TypeError(f"not a server event: {event!r}")


def search_objects(page: SearchPage) -> list[dict[str, Any]]:
    """A search's objects: each message found, marked as history and as found (with the
    request's id, so a client can tell which search it answers), then the end marker."""
    found = []
    for message in page.messages:
        obj = _with_re(to_object(message), page.end.re)
        obj["search"] = True
        found.append(obj)
    found.append(to_object(page.end))
    return found


def json_bytes(obj: dict[str, Any]) -> bytes:
    """One object as compact UTF-8 JSON, without a newline."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # Input is cleaned of lone surrogates; "replace" makes sure no text that slips
    # through can make encoding raise in the middle of a delivery to many.
    return text.encode("utf-8", "replace")


class JsonCodec(Codec):
    name = "json"

    def encode(self, event: ServerEvent, view: View = View.HERE) -> bytes:
        if isinstance(event, HistoryPage):
            return b"".join(self.encode(m) for m in event.messages) + self.encode(event.end)
        if isinstance(event, TagMessage):
            return b""  # typing notices and the like are for doors that carry tags
        if isinstance(event, SearchPage):
            return b"".join(json_bytes(obj) + b"\n" for obj in search_objects(event))
        return json_bytes(to_object(event)) + b"\n"


JSON = JsonCodec()
