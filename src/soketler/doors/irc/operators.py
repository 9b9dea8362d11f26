"""Server operators: OPER and KILL."""

from __future__ import annotations

from soketler.doors.irc import refusals
from soketler.doors.irc.context import Context
from soketler.doors.irc.hubapi import Refusal
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.message import Message


def oper(ctx: Context, message: Message) -> None:
    name, password = message.params[0], message.params[1]

    def done(refusal: Refusal | None) -> None:
        answer = ctx.later()
        if refusal is not None:
            refusals.render(answer, refusal, "OPER")
        else:
            ctx.client.operator = True
            answer.numeric(n.RPL_YOUREOPER, texts.YOURE_OPER)
            answer.send("MODE", ctx.client.session.nick, "+o", source=answer.own_source)
        ctx.deliver(answer.out)

    ctx.hub.oper(ctx.client.session, name, password, done)


def kline(ctx: Context, message: Message) -> None:
    """KLINE [duration] <mask> [:reason]: a ban of the whole server (a nickname bans the
    address its holder connects from; `*!*@203.0.113.0/24` a range). A duration, which
    some servers take first, is not kept: the ban holds until UNKLINE."""
    params = list(message.params)
    if len(params) > 1 and params[0].isdigit():
        params.pop(0)
    mask = params[0]
    reason = params[1] if len(params) > 1 else ""
    refusal = ctx.hub.ban_server(ctx.client.session, mask, reason)
    if refusal is not None:
        refusals.render(ctx, refusal, "KLINE")
        return
    ctx.send("NOTICE", ctx.client.nick, texts.KLINE_ADDED.format(mask=mask))


def unkline(ctx: Context, message: Message) -> None:
    mask = message.params[0]
    refusal = ctx.hub.unban_server(ctx.client.session, mask)
    if refusal is not None:
        refusals.render(ctx, refusal, "UNKLINE")
        return
    ctx.send("NOTICE", ctx.client.nick, texts.KLINE_REMOVED.format(mask=mask))


def kill(ctx: Context, message: Message) -> None:
    nick = message.params[0]
    reason = message.params[1] if len(message.params) > 1 else ""
    text = texts.KILLED.format(killer=ctx.client.session.nick, reason=reason or nick)
    refusal = ctx.hub.kill(ctx.client.session, nick, text)
    if refusal is not None:
        refusals.render(ctx, refusal, "KILL")
