"""Rooms: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE.

A successful JOIN, PART, KICK or topic change is answered by the hub's events (the
JOIN line, the topic and names that follow it), which reach every member, the client
included, in the room's one order. The handlers here answer only what is the
client's alone: refusals, and the replies to questions.
"""

from __future__ import annotations

from soketler.doors.irc import refusals, render
from soketler.doors.irc.context import Context
from soketler.doors.irc.hubapi import Refusal
from soketler.protocols import names as names_rule
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.message import Message

CHANNEL_PREFIX = "#"  # CHANTYPES
LEAVE_ALL = "0"  # "JOIN 0" leaves every room (RFC 2812 3.2.1)


def is_channel(name: str) -> bool:
    return name.startswith(CHANNEL_PREFIX)


def split_list(param: str) -> list[str]:
    return [item for item in param.split(",") if item]


def join(ctx: Context, message: Message) -> None:
    session = ctx.client.session
    if message.params[0] == LEAVE_ALL:
        for room in ctx.hub.rooms_of(session):
            ctx.hub.part(session, room, "")
        return
    rooms = split_list(message.params[0])
    keys = split_list(message.params[1]) if len(message.params) > 1 else []
    for index, room in enumerate(rooms):
        if not is_channel(room):
            ctx.numeric(n.ERR_NOSUCHCHANNEL, room, texts.NO_SUCH_CHANNEL)
            continue
        key = keys[index] if index < len(keys) else None
        refusal = ctx.hub.join(session, room, key)
        if refusal is not None:
            refusals.render(ctx, refusal, "JOIN")


def part(ctx: Context, message: Message) -> None:
    reason = message.params[1] if len(message.params) > 1 else ""
    for room in split_list(message.params[0]):
        refusal = ctx.hub.part(ctx.client.session, room, reason)
        if refusal is not None:
            refusals.render(ctx, refusal, "PART")


def topic(ctx: Context, message: Message) -> None:
    room = message.params[0]
    if len(message.params) == 1:
        answer = ctx.hub.topic(ctx.client.session, room)
        if isinstance(answer, Refusal):
            refusals.render(ctx, answer, "TOPIC")
        else:
            render.topic_replies(ctx, answer, when_empty=True)
        return
    text = message.params[1][: ctx.server.limits.topiclen]
    refusal = ctx.hub.set_topic(ctx.client.session, room, text)
    if refusal is not None:
        refusals.render(ctx, refusal, "TOPIC")


def names(ctx: Context, message: Message) -> None:
    if not message.params:
        # Modern lets a server answer a bare NAMES with only the end; listing every
        # room would cost O(users) for one line of input.
        ctx.numeric(n.RPL_ENDOFNAMES, "*", texts.END_OF_NAMES)
        return
    for room in split_list(message.params[0]):
        members = ctx.hub.members(room)
        if isinstance(members, Refusal):
            ctx.numeric(n.RPL_ENDOFNAMES, room, texts.END_OF_NAMES)
        else:
            render.names_replies(ctx, members)


def list_(ctx: Context, message: Message) -> None:
    wanted = (
        {names_rule.key(room) for room in split_list(message.params[0])} if message.params else None
    )
    rooms = [
        (room.name, room.users, room.topic)
        for room in ctx.hub.room_list(ctx.client.session)
        if wanted is None or names_rule.key(room.name) in wanted
    ]
    render.list_replies(ctx, rooms)


def kick(ctx: Context, message: Message) -> None:
    """KICK <room>[,<room>...] <nick>[,<nick>...] [:reason]: one room for every nick, or
    as many rooms as nicks, paired in order (RFC 2812 3.2.8)."""
    rooms = split_list(message.params[0])
    nicks = split_list(message.params[1])
    session = ctx.client.session
    # Without a reason, the kicker's nickname is the reason (as most servers do).
    reason = message.params[2][: ctx.server.limits.kicklen] if len(message.params) > 2 else ""
    reason = reason or session.nick
    if len(rooms) == 1:
        pairs = [(rooms[0], nick) for nick in nicks]
    elif len(rooms) == len(nicks):
        pairs = list(zip(rooms, nicks, strict=True))
    else:
        ctx.numeric(n.ERR_NEEDMOREPARAMS, "KICK", texts.NEED_MORE_PARAMS)
        return
    for room, nick in pairs:
        refusal = ctx.hub.kick(session, room, nick, reason)
        if refusal is not None:
            refusals.render(ctx, refusal, "KICK", room)


def invite(ctx: Context, message: Message) -> None:
    nick, room = message.params[0], message.params[1]
    refusal = ctx.hub.invite(ctx.client.session, nick, room)
    if refusal is not None:
        refusals.render(ctx, refusal, "INVITE", room)
        return
    ctx.numeric(n.RPL_INVITING, nick, room, text=False)
