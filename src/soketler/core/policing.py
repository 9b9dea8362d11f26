"""Operations over the hub for logging in and keeping order, the same for every door:
logging in to an account, bans of the whole server, and room bans and mutes given by
a nickname or a mask.

Like the hub's own operations they answer with a `Refusal` (as data) or None, and the
people involved hear of what happened through typed events (`Kicked`, `ModeChanged`,
`Quit`); each door words its own replies.
"""

from __future__ import annotations

from soketler.core import bans, moderation, texts
from soketler.core.answers import Refusal
from soketler.core.bans import ServerBan
from soketler.core.hub import Hub
from soketler.core.session import SERVER_OPERATOR, Room, Session
from soketler.protocols import codes, names
from soketler.protocols.events import RoomChange, RoomSetting


def log_in(hub: Hub, session: Session, account: str, history_from: int) -> None:
    """The session proved it owns `account` (its password was checked): it may use the
    nickname, and reads the account's private history from its start."""
    name = names.normalize(account)
    key = names.key(name)
    session.account = name
    hub.owners.history_from[key] = history_from
    if session.registered and session.key == key:
        session.nick_since = hub.owners.private_since(session, session.nick_since)


def room_mask(hub: Hub, target: str) -> str:
    """What a room ban or mute of `target` holds: the person's user and host when
    someone has that nickname, else the mask (or range, or nickname) as given."""
    person = hub.find_session(target)
    if person is not None:
        return f"*!{person.user}@{person.host}"
    return bans.ban_mask(target)


def server_mask(hub: Hub, target: str) -> str:
    """What a server ban of `target` holds: the address the person connects from (so
    that coming back under another nickname does not help), else the mask as given."""
    person = hub.find_session(target)
    if person is not None and bans.network_of(person.address) is not None:
        return bans.ban_mask(person.address)
    return bans.ban_mask(target)


def ban_in_room(hub: Hub, by: Session, room: Room, target: str, reason: str) -> Refusal | None:
    """Bans `target` from a room (room operators, server operators) and puts out of it
    whoever in it the ban matches."""
    if not moderation.is_operator(room, by):
        return Refusal(codes.NOT_OPERATOR, room.name)
    refused = hub.change_room(
        by, room, (RoomChange(RoomSetting.BAN, True, room_mask(hub, target)),)
    )
    if refused:
        return refused[0]
    for member in [m for m in room.members if m is not by and moderation.banned(room, m)]:
        hub.kick(by, room, member.nick, reason or texts.BANNED_FROM_ROOM)
    return None


def change_list(
    hub: Hub, by: Session, room: Room, setting: RoomSetting, target: str, on: bool
) -> Refusal | None:
    """Adds or removes one mask of a room's bans or mutes."""
    mask = room_mask(hub, target) if on else target
    if not on:
        # Taken off as the list holds it: by the mask itself, or by a nickname's mask.
        listed = room.mutes if setting is RoomSetting.MUTE else room.bans
        wanted = {names.key(bans.ban_mask(target)), names.key(room_mask(hub, target))}
        found = next((ban for ban in listed if names.key(ban.mask) in wanted), None)
        if found is None:
            return Refusal(codes.NOT_LISTED, target, room.name)
        mask = found.mask
    refused = hub.change_room(by, room, (RoomChange(setting, on, mask),))
    return refused[0] if refused else None


def ban_server(hub: Hub, by: Session, target: str, reason: str) -> Refusal | None:
    """A server operator keeps someone off the server: the people the ban matches are
    ended now, and refused when they come back (an address range before they say
    anything, any other mask when they choose a nickname)."""
    if not by.has(SERVER_OPERATOR):
        return Refusal(codes.NOT_SERVER_OPERATOR)
    mask = server_mask(hub, target)
    ban = ServerBan(mask, reason or texts.NO_REASON, by.nick, hub.clock())
    if not hub.bans.add(ban):
        return Refusal(codes.ALREADY_LISTED, mask)
    # Walks every session: a server ban is rare, and must reach whoever it matches.
    for session in list(hub.sessions):
        if session is by or not session.registered:
            continue
        if bans.matches(mask, session.nick, session.user, session.host, session.address):
            hub.close(session, texts.BANNED_FROM_SERVER.format(reason=ban.reason))
    return None


def unban_server(hub: Hub, by: Session, mask: str) -> Refusal | None:
    if not by.has(SERVER_OPERATOR):
        return Refusal(codes.NOT_SERVER_OPERATOR)
    if hub.bans.remove(mask) is None:
        return Refusal(codes.NOT_LISTED, bans.ban_mask(mask))
    return None


def kill(hub: Hub, by: Session, nick: str, reason: str) -> Refusal | None:
    """A server operator ends someone's session; others see it quit with why."""
    return hub.kill(by, nick, texts.KILLED.format(by=by.nick, reason=reason or by.nick))
