"""MODE for rooms (flags, key, limit, bans, operator and voice) and for oneself."""

from __future__ import annotations

from soketler.core.bans import ban_mask
from soketler.doors.irc import refusals, render
from soketler.doors.irc.channels import is_channel
from soketler.doors.irc.context import Context
from soketler.doors.irc.hubapi import (
    Refusal,
    RoomChange,
    RoomSetting,
    RoomState,
    UserFlag,
    UserInfo,
)
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.message import Message
from soketler.protocols.irc.modes import (
    ROOM_LETTERS,
    ROOM_SETTINGS,
    ModeChange,
    format_changes,
    parse_channel_modes,
    parse_user_modes,
)

USER_FLAGS: dict[str, UserFlag] = {
    "i": UserFlag.INVISIBLE,
    "B": UserFlag.BOT,
    "o": UserFlag.OPERATOR,
}
BAD_KEY_CHARS = frozenset(" ,:")
# A list mode without a parameter asks for the list: its entry and end numerics.
LIST_REPLIES = {
    "b": (n.RPL_BANLIST, n.RPL_ENDOFBANLIST, texts.END_OF_BANLIST),
    "q": (n.RPL_QUIETLIST, n.RPL_ENDOFQUIETLIST, texts.END_OF_QUIETLIST),
}


def mode(ctx: Context, message: Message) -> None:
    if is_channel(message.params[0]):
        _room_mode(ctx, message)
    else:
        _user_mode(ctx, message)


def _room_mode(ctx: Context, message: Message) -> None:
    room = message.params[0]
    if len(message.params) == 1:
        state = ctx.hub.room_state(room)
        if isinstance(state, Refusal):
            refusals.render(ctx, state, "MODE")
        else:
            _show_room_modes(ctx, state)
        return
    parsed = parse_channel_modes(message.params[1], message.params[2:], ctx.server.channel_modes)
    for letter in parsed.unknown:
        ctx.numeric(n.ERR_UNKNOWNMODE, letter, texts.UNKNOWN_MODE)
    changes: list[RoomChange] = []
    with_parameter = 0
    for change in parsed.changes:
        if change.mode in LIST_REPLIES and change.arg is None:
            _show_list(ctx, room, change.mode)
            continue
        room_change = _as_room_change(ctx, room, change)
        if room_change is None:
            continue
        if room_change.value is not None:
            with_parameter += 1
            if with_parameter > ctx.server.limits.modes:
                continue
        changes.append(room_change)
    if changes:
        for refusal in ctx.hub.change_room(ctx.client.session, room, changes):
            refusals.render(ctx, refusal, "MODE", room)


def _as_room_change(ctx: Context, room: str, change: ModeChange) -> RoomChange | None:
    setting = ROOM_SETTINGS[change.mode]
    value = change.arg
    if setting is RoomSetting.LIMIT and change.adding:
        if value is None or not value.isdigit() or int(value) < 1:
            return None
    elif setting is RoomSetting.KEY and change.adding and value is not None:
        if not value or any(char in BAD_KEY_CHARS for char in value):
            ctx.numeric(n.ERR_INVALIDKEY, room, texts.INVALID_KEY)
            return None
    elif setting in (RoomSetting.BAN, RoomSetting.MUTE) and value is not None:
        value = ban_mask(value)  # a bare address range is *!*@range
    return RoomChange(setting, change.adding, value)


def _show_room_modes(ctx: Context, state: RoomState) -> None:
    letters = "".join(sorted(ROOM_LETTERS[flag] for flag in state.flags))
    args: list[str] = []
    if state.key is not None:
        letters += "k"
        member = state.name.casefold() in {
            r.casefold() for r in ctx.hub.rooms_of(ctx.client.session)
        }
        args.append(state.key if member else "*")
    if state.limit is not None:
        letters += "l"
        args.append(str(state.limit))
    ctx.numeric(n.RPL_CHANNELMODEIS, state.name, "+" + letters, *args, text=False)
    ctx.numeric(n.RPL_CREATIONTIME, state.name, render.timestamp(state.created), text=False)


def _show_list(ctx: Context, room: str, letter: str) -> None:
    state = ctx.hub.room_state(room)
    if isinstance(state, Refusal):
        refusals.render(ctx, state, "MODE")
        return
    entry, end, end_text = LIST_REPLIES[letter]
    # RPL_QUIETLIST carries the mode letter before the mask (charybdis, solanum).
    extra = ("q",) if letter == "q" else ()
    for ban in state.mutes if letter == "q" else state.bans:
        ctx.numeric(
            entry,
            state.name,
            *extra,
            ban.mask,
            ban.set_by,
            render.timestamp(ban.set_at),
            text=False,
        )
    ctx.numeric(end, state.name, *extra, end_text)


def _user_mode(ctx: Context, message: Message) -> None:
    target = message.params[0]
    session = ctx.client.session
    info = ctx.hub.whois(target, session)
    if isinstance(info, Refusal):
        ctx.numeric(n.ERR_NOSUCHNICK, target, texts.NO_SUCH_NICK)
        return
    if info.nick != session.nick:
        ctx.numeric(n.ERR_USERSDONTMATCH, texts.USERS_DONT_MATCH)
        return
    if len(message.params) == 1:
        ctx.numeric(n.RPL_UMODEIS, "+" + _user_letters(info), text=False)
        return
    parsed = parse_user_modes(message.params[1], "".join(USER_FLAGS))
    if parsed.unknown:
        ctx.numeric(n.ERR_UMODEUNKNOWNFLAG, texts.UMODE_UNKNOWN)
    applied: list[ModeChange] = []
    for change in parsed.changes:
        flag = USER_FLAGS[change.mode]
        if flag is UserFlag.OPERATOR and change.adding:
            continue  # only OPER makes an operator
        if ctx.hub.set_user_flag(session, flag, change.adding):
            applied.append(change)
            if flag is UserFlag.OPERATOR:
                ctx.client.operator = False
    if applied:
        ctx.send("MODE", session.nick, *format_changes(applied), source=ctx.own_source)


def _user_letters(info: UserInfo) -> str:
    held = {"i": info.invisible, "B": info.bot, "o": info.operator}
    return "".join(letter for letter in USER_FLAGS if held[letter])
