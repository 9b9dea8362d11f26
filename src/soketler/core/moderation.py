"""Room settings and who may do what in a room: the rules the hub enforces for every
door (a telnet user cannot talk in a moderated room any more than an IRC user can).

Pure functions over a room and sessions; the hub emits the events.
"""

from __future__ import annotations

from datetime import datetime

from soketler.core import bans
from soketler.core.answers import Ban, Refusal
from soketler.core.session import (
    OPERATOR,
    SERVER_OPERATOR,
    STATUS_ORDER,
    VOICE,
    Room,
    Session,
)
from soketler.protocols import codes, names
from soketler.protocols.events import RoomChange, RoomSetting

# Bans one room keeps: each join and message is checked against every one of them.
MAX_BANS = 100
# The on/off settings; the others carry a value.
FLAGS = frozenset(
    {
        RoomSetting.TOPIC_LOCK,
        RoomSetting.NO_OUTSIDE,
        RoomSetting.MODERATED,
        RoomSetting.INVITE_ONLY,
        RoomSetting.SECRET,
    }
)
STATUS = {RoomSetting.OPERATOR: OPERATOR, RoomSetting.VOICE: VOICE}
KEY_REMOVED = "*"  # the value shown for a key taken off (the key itself stays unsaid)


def address(session: Session) -> str:
    """The nick!user@host that ban masks are matched against."""
    return f"{session.nick}!{session.user}@{session.host}"


def banned(room: Room, session: Session) -> bool:
    return _listed(room.bans, session)


def muted(room: Room, session: Session) -> bool:
    return _listed(room.mutes, session)


def _listed(masks: list[Ban], session: Session) -> bool:
    if not masks:
        return False
    # Masks are compared under the shared identity rule (names.key), so a ban on
    # "AYŞE*" holds for "ayşe"; a host part that is an address range holds for the
    # addresses in it (core/bans.py).
    nick, user, host, where = session.nick, session.user, session.host, session.address
    return any(bans.matches(ban.mask, nick, user, host, where) for ban in masks)


def is_operator(room: Room, session: Session) -> bool:
    """Operators of the room (its maker first), and server operators in every room."""
    return OPERATOR in room.members.get(session, "") or session.has(SERVER_OPERATOR)


def join_refusal(room: Room, session: Session, key: str | None) -> Refusal | None:
    """Why `session` may not join `room`, or None."""
    invited = session.key in room.invited
    if banned(room, session) and not invited:
        return Refusal(codes.BANNED, room.name)
    if RoomSetting.INVITE_ONLY in room.settings and not invited:
        return Refusal(codes.INVITE_ONLY, room.name)
    if room.password and key != room.password:
        return Refusal(codes.BAD_KEY, room.name)
    if room.limit and len(room.members) >= room.limit:
        return Refusal(codes.ROOM_FULL, room.name)
    return None


def send_refusal(room: Room, session: Session) -> Refusal | None:
    """Why `session` may not say something in `room`, or None."""
    status = room.members.get(session)
    if status is None:
        if RoomSetting.NO_OUTSIDE in room.settings:
            return Refusal(codes.CANNOT_SEND, room.name)
        status = ""
    if status:
        return None  # operators and voiced members may always speak
    if RoomSetting.MODERATED in room.settings or banned(room, session) or muted(room, session):
        return Refusal(codes.CANNOT_SEND, room.name)
    return None


def topic_refusal(room: Room, session: Session) -> Refusal | None:
    if session not in room.members:
        return Refusal(codes.NOT_IN_ROOM, room.name)
    if RoomSetting.TOPIC_LOCK in room.settings and not is_operator(room, session):
        return Refusal(codes.NOT_OPERATOR, room.name)
    return None


def with_status(status: str, symbol: str, on: bool) -> str:
    held = set(status)
    if on:
        held.add(symbol)
    else:
        held.discard(symbol)
    return "".join(s for s in STATUS_ORDER if s in held)


def apply(
    room: Room, change: RoomChange, by: str, now: datetime, target: Session | None
) -> RoomChange | Refusal | None:
    """Applies one change made by a room operator: what changed (to tell the room), a
    refusal, or None when it changed nothing. `target` is the session an OPERATOR or
    VOICE change names (None when nobody holds that nickname)."""
    setting, on, value = change.setting, change.on, change.value
    if setting in STATUS:
        if target is None:
            return Refusal(codes.NO_SUCH_NICK, value or "")
        status = room.members.get(target)
        if status is None:
            return Refusal(codes.USER_NOT_IN_ROOM, target.nick, room.name)
        new = with_status(status, STATUS[setting], on)
        if new == status:
            return None
        room.members[target] = new
        return RoomChange(setting, on, target.nick)
    if setting in FLAGS:
        if (setting in room.settings) == on:
            return None
        if on:
            room.settings.add(setting)
        else:
            room.settings.discard(setting)
        return RoomChange(setting, on)
    if setting is RoomSetting.KEY:
        if on:
            if not value:
                return None
            if room.password:
                return Refusal(codes.KEY_SET, room.name)
            room.password = value
            return RoomChange(setting, True, value)
        if not room.password:
            return None
        room.password = ""
        return RoomChange(setting, False, KEY_REMOVED)
    if setting is RoomSetting.LIMIT:
        if on:
            limit = int(value) if value is not None and value.isdigit() else 0
            if limit < 1 or limit == room.limit:
                return None
            room.limit = limit
            return RoomChange(setting, True, str(limit))
        if not room.limit:
            return None
        room.limit = 0
        return RoomChange(setting, False)
    # BAN, MUTE: lists of masks
    if not value:
        return None
    masks = room.mutes if setting is RoomSetting.MUTE else room.bans
    value = bans.ban_mask(value)
    wanted = names.key(value)
    existing = next((ban for ban in masks if names.key(ban.mask) == wanted), None)
    if on:
        if existing is not None or len(masks) >= MAX_BANS:
            return None
        masks.append(Ban(value, by, now))
    else:
        if existing is None:
            return None
        masks.remove(existing)
        value = existing.mask
    return RoomChange(setting, on, value)
