"""A room's settings and topic as records beside its stream (cluster mode).

The records (`core.bus.STATE`) are one field each, changed by the effect that goes with
the event that changed them, so a node that reads them and then the stream from that
point has the room as it is: `load` reads them into a room, `setting_effect` and the
`*_effect` functions say how each change is kept. Field names:

    name        the room's display name       created     when it was made (seconds)
    topic       [text, set by, when]          key, limit  the +k key, the +l limit
    flag:VALUE  "1" for each on/off setting    ban:KEY     [mask, set by, when]
    inv:KEY     "1" for each invited nickname key
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from soketler.core import bus as b
from soketler.core import moderation
from soketler.core.answers import Ban
from soketler.core.bus import Effect
from soketler.core.session import Room, Session
from soketler.protocols import names
from soketler.protocols.events import RoomChange, RoomSetting

log = logging.getLogger("soketler.cluster")

NAME, TOPIC, CREATED, KEY, LIMIT = "name", "topic", "created", "key", "limit"
FLAG, BAN, INVITED = "flag:", "ban:", "inv:"


def load(room: Room, state: Mapping[str, str]) -> None:
    """Sets a room's settings and topic from its records (a damaged one is skipped)."""
    for name, value in state.items():
        try:
            _load(room, name, value)
        except (ValueError, TypeError, KeyError) as exc:
            log.error("a damaged setting %s of %s: %s", name, room.key, exc)


def _load(room: Room, name: str, value: str) -> None:
    if name == NAME:
        room.name = value
    elif name == TOPIC:
        text, by, when = json.loads(value)
        room.topic, room.topic_by, room.topic_time = str(text), (str(by) if by else None), when
    elif name == CREATED:
        room.created = float(value)
    elif name.startswith(FLAG):
        room.settings.add(RoomSetting(name[len(FLAG) :]))
    elif name == KEY:
        room.password = value
    elif name == LIMIT:
        room.limit = int(value)
    elif name.startswith(BAN):
        mask, by, when = json.loads(value)
        room.bans.append(Ban(str(mask), str(by), datetime.fromtimestamp(when, UTC)))
    elif name.startswith(INVITED):
        room.invited.add(name[len(INVITED) :])


def topic_effect(text: str, by: str, when: datetime) -> Effect:
    value = json.dumps([text, by, when.timestamp()], ensure_ascii=False)
    return Effect(b.SET, b.STATE, (TOPIC, value))


def invited_effect(nick_key: str, on: bool) -> Effect:
    if on:
        return Effect(b.SET, b.STATE, (INVITED + nick_key, "1"))
    return Effect(b.DELETE, b.STATE, (INVITED + nick_key,))


def copy(room: Room) -> Room:
    """A copy of a room's settings and members' status, to try changes on."""
    scratch = Room(room.name, room.key, room.created)
    scratch.settings = set(room.settings)
    scratch.password, scratch.limit = room.password, room.limit
    scratch.bans = list(room.bans)
    scratch.members = dict(room.members)
    return scratch


def _set(name: str, value: str, on: bool) -> Effect:
    return Effect(b.SET, b.STATE, (name, value)) if on else Effect(b.DELETE, b.STATE, (name,))


def setting_effect(
    room: Room, change: RoomChange, target: Session | None, by: str, now: datetime
) -> Effect:
    """How a change of a room's settings (applied to `room`, a copy) is kept."""
    setting, on, value = change.setting, change.on, change.value
    if setting in moderation.STATUS and target is not None:
        return Effect(b.STATUS_OF, b.MEMBERS, (target.key, room.members.get(target, "")))
    if setting in moderation.FLAGS:
        return _set(FLAG + setting.value, "1", on)
    if setting is RoomSetting.KEY:
        return _set(KEY, value or "", on)
    if setting is RoomSetting.LIMIT:
        return _set(LIMIT, value or "0", on)
    mask = value or ""
    ban = json.dumps([mask, by, now.timestamp()], ensure_ascii=False)
    return _set(BAN + names.key(mask), ban, on)
