"""Questions about people and the server: WHO, WHOIS, WHOWAS, ISON, USERHOST, AWAY,
LUSERS, MOTD, VERSION, INFO, TIME."""

from __future__ import annotations

from datetime import UTC, datetime

from soketler.doors.irc import render
from soketler.doors.irc.channels import is_channel
from soketler.doors.irc.context import Context
from soketler.doors.irc.hubapi import Refusal, UserInfo
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.isupport import isupport_messages
from soketler.protocols.irc.message import Message

ANY_ROOM = "*"  # RPL_WHOREPLY's channel when the reply is not about a room
MAX_USERHOST = 5


def who(ctx: Context, message: Message) -> None:
    mask = message.params[0] if message.params else "*"
    if is_channel(mask):
        members = ctx.hub.members(mask)
        if not isinstance(members, Refusal):
            for member in members.members:
                render.who_reply(ctx, members.room, member)
    elif "*" in mask or "?" in mask:
        # A mask is matched against the people the asker shares a room with (and
        # itself): looking through every user would cost O(users) per line of input.
        limit = ctx.server.limits.who_replies
        for person in ctx.hub.who_matching(ctx.client.session, mask, limit):
            render.who_reply(ctx, ANY_ROOM, person)
    else:
        # An exact nickname, invisible or not.
        info = ctx.hub.whois(mask, ctx.client.session)
        if isinstance(info, UserInfo):
            flags = render.who_flags(
                ctx, away=info.away is not None, operator=info.operator, bot=info.bot, status=""
            )
            ctx.numeric(
                n.RPL_WHOREPLY,
                ANY_ROOM,
                info.user,
                info.host,
                ctx.server.name,
                info.nick,
                flags,
                f"0 {info.realname}",
            )
    ctx.numeric(n.RPL_ENDOFWHO, mask, texts.END_OF_WHO)


def whois(ctx: Context, message: Message) -> None:
    # WHOIS [<server>] <nick>: with two parameters the nick is the second.
    nick = message.params[-1]
    info = ctx.hub.whois(nick, ctx.client.session)
    if isinstance(info, Refusal):
        ctx.numeric(n.ERR_NOSUCHNICK, nick, texts.NO_SUCH_NICK)
    else:
        render.whois_replies(ctx, info)
        nick = info.nick
    ctx.numeric(n.RPL_ENDOFWHOIS, nick, texts.END_OF_WHOIS)


def whowas(ctx: Context, message: Message) -> None:
    nick = message.params[0]
    limit = ctx.server.limits.whowas
    if len(message.params) > 1 and message.params[1].isdigit() and int(message.params[1]) > 0:
        limit = min(limit, int(message.params[1]))
    entries = ctx.hub.whowas(nick, limit)
    if not entries:
        ctx.numeric(n.ERR_WASNOSUCHNICK, nick, texts.WAS_NO_SUCH_NICK)
    for entry in entries:
        ctx.numeric(n.RPL_WHOWASUSER, entry.nick, entry.user, entry.host, "*", entry.realname)
        ctx.numeric(n.RPL_WHOISSERVER, entry.nick, ctx.server.name, entry.left_at.strftime("%c"))
    ctx.numeric(n.RPL_ENDOFWHOWAS, nick, texts.END_OF_WHOWAS)


def ison(ctx: Context, message: Message) -> None:
    present: list[str] = []
    for param in message.params:
        for nick in param.split():
            info = ctx.hub.whois(nick, ctx.client.session)
            if isinstance(info, UserInfo):
                present.append(info.nick)
    ctx.numeric(n.RPL_ISON, " ".join(present))


def userhost(ctx: Context, message: Message) -> None:
    replies: list[str] = []
    for nick in message.params[:MAX_USERHOST]:
        info = ctx.hub.whois(nick, ctx.client.session)
        if isinstance(info, UserInfo):
            oper = "*" if info.operator else ""
            away = "-" if info.away is not None else "+"
            replies.append(f"{info.nick}{oper}={away}{info.user}@{info.host}")
    ctx.numeric(n.RPL_USERHOST, " ".join(replies))


def away(ctx: Context, message: Message) -> None:
    text = message.params[0][: ctx.server.limits.awaylen] if message.params else ""
    if text:
        ctx.hub.set_away(ctx.client.session, text)
        ctx.numeric(n.RPL_NOWAWAY, texts.NOW_AWAY)
    else:
        ctx.hub.set_away(ctx.client.session, None)
        ctx.numeric(n.RPL_UNAWAY, texts.UN_AWAY)


def lusers(ctx: Context, message: Message) -> None:
    render.lusers_replies(ctx, ctx.hub.stats())


def motd(ctx: Context, message: Message) -> None:
    render.motd_replies(ctx)


def version(ctx: Context, message: Message) -> None:
    server = ctx.server
    ctx.numeric(n.RPL_VERSION, server.version, server.name, server.network)
    ctx.out += isupport_messages(server.name, ctx.client.nick, server.isupport())


def info(ctx: Context, message: Message) -> None:
    for line in texts.INFO_LINES:
        ctx.numeric(n.RPL_INFO, line.format(version=ctx.server.version))
    ctx.numeric(n.RPL_ENDOFINFO, texts.END_OF_INFO)


def time(ctx: Context, message: Message) -> None:
    now = datetime.now(UTC)
    ctx.numeric(n.RPL_TIME, ctx.server.name, now.strftime("%A %B %d %Y -- %H:%M:%S UTC"))
