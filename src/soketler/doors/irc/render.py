"""Replies built from hub data: NAMES, WHO, WHOIS, topic, LIST, LUSERS.

The same builders serve a command's direct answer and, once the hub sends them as
events, what follows a JOIN (the topic and the member list).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from soketler.doors.irc.context import Context
from soketler.doors.irc.hubapi import MemberInfo, Members, ServerStats, TopicInfo, UserInfo
from soketler.doors.irc.server_info import BOT_MODE
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.caps import MULTI_PREFIX, USERHOST_IN_NAMES
from soketler.protocols.irc.message import MAX_LINE_CONTENT, pack_words

PUBLIC_ROOM = "="  # RPL_NAMREPLY's channel type (RFC 2812 5.1)
SECRET_ROOM = "@"


def status_shown(ctx: Context, status: str) -> str:
    """All status symbols with multi-prefix, otherwise only the highest."""
    return status if ctx.client.has_cap(MULTI_PREFIX) else status[:1]


def timestamp(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def names_replies(ctx: Context, members: Members) -> None:
    """RPL_NAMREPLY lines (as many as 512 bytes need) and RPL_ENDOFNAMES."""
    userhost = ctx.client.has_cap(USERHOST_IN_NAMES)
    words = [
        status_shown(ctx, m.status) + (f"{m.nick}!{m.user}@{m.host}" if userhost else m.nick)
        for m in members.members
    ]
    nick = ctx.client.nick
    overhead = len(f":{ctx.server.name} {n.RPL_NAMREPLY} {nick} = {members.room} :".encode())
    for group in pack_words(words, MAX_LINE_CONTENT - overhead):
        kind = SECRET_ROOM if members.secret else PUBLIC_ROOM
        ctx.numeric(n.RPL_NAMREPLY, kind, members.room, " ".join(group))
    ctx.numeric(n.RPL_ENDOFNAMES, members.room, texts.END_OF_NAMES)


def topic_replies(ctx: Context, topic: TopicInfo, *, when_empty: bool) -> None:
    """RPL_TOPIC and RPL_TOPICWHOTIME; RPL_NOTOPIC only when asked (not after JOIN)."""
    if not topic.text:
        if when_empty:
            ctx.numeric(n.RPL_NOTOPIC, topic.room, texts.NO_TOPIC)
        return
    ctx.numeric(n.RPL_TOPIC, topic.room, topic.text)
    if topic.set_by and topic.set_at is not None:
        ctx.numeric(
            n.RPL_TOPICWHOTIME, topic.room, topic.set_by, timestamp(topic.set_at), text=False
        )


def who_flags(ctx: Context, *, away: bool, operator: bool, bot: bool, status: str) -> str:
    flags = "G" if away else "H"
    if operator:
        flags += "*"
    flags += status_shown(ctx, status)
    if bot:
        flags += BOT_MODE
    return flags


def who_reply(ctx: Context, room: str, member: MemberInfo) -> None:
    flags = who_flags(
        ctx, away=member.away, operator=member.operator, bot=member.bot, status=member.status
    )
    ctx.numeric(
        n.RPL_WHOREPLY,
        room,
        member.user,
        member.host,
        ctx.server.name,
        member.nick,
        flags,
        f"0 {member.realname}",
    )


def whois_replies(ctx: Context, info: UserInfo) -> None:
    nick = info.nick
    ctx.numeric(n.RPL_WHOISUSER, nick, info.user, info.host, "*", info.realname)
    if info.rooms:
        words = [status_shown(ctx, status) + room for status, room in info.rooms]
        overhead = len(
            f":{ctx.server.name} {n.RPL_WHOISCHANNELS} {ctx.client.nick} {nick} :".encode()
        )
        for group in pack_words(words, MAX_LINE_CONTENT - overhead):
            ctx.numeric(n.RPL_WHOISCHANNELS, nick, " ".join(group))
    ctx.numeric(n.RPL_WHOISSERVER, nick, ctx.server.name, ctx.server.network)
    if info.away is not None:
        ctx.numeric(n.RPL_AWAY, nick, info.away)
    if info.operator:
        ctx.numeric(n.RPL_WHOISOPERATOR, nick, texts.WHOIS_OPERATOR)
    if info.bot:
        ctx.numeric(n.RPL_WHOISBOT, nick, texts.WHOIS_BOT.format(network=ctx.server.network))
    if info.account is not None:
        ctx.numeric(n.RPL_WHOISACCOUNT, nick, info.account, texts.WHOIS_ACCOUNT)
    if info.secure:
        ctx.numeric(n.RPL_WHOISSECURE, nick, texts.WHOIS_SECURE)
    ctx.numeric(
        n.RPL_WHOISIDLE, nick, str(int(info.idle)), timestamp(info.signon), texts.WHOIS_IDLE
    )


def list_replies(ctx: Context, rooms: Iterable[tuple[str, int, str]]) -> None:
    ctx.numeric(n.RPL_LISTSTART, "Channel", texts.LIST_START)
    for name, users, topic in rooms:
        ctx.numeric(n.RPL_LIST, name, str(users), topic)
    ctx.numeric(n.RPL_LISTEND, texts.LIST_END)


def lusers_replies(ctx: Context, stats: ServerStats) -> None:
    total = stats.users + stats.invisible
    most = max(stats.max_users, total)
    ctx.numeric(
        n.RPL_LUSERCLIENT,
        texts.LUSER_CLIENT.format(users=stats.users, invisible=stats.invisible, servers=1),
    )
    ctx.numeric(n.RPL_LUSEROP, str(stats.operators), texts.LUSER_OP)
    ctx.numeric(n.RPL_LUSERUNKNOWN, str(stats.unregistered), texts.LUSER_UNKNOWN)
    ctx.numeric(n.RPL_LUSERCHANNELS, str(stats.rooms), texts.LUSER_CHANNELS)
    ctx.numeric(n.RPL_LUSERME, texts.LUSER_ME.format(clients=total, servers=0))
    ctx.numeric(
        n.RPL_LOCALUSERS, str(total), str(most), texts.LOCAL_USERS.format(count=total, max=most)
    )
    ctx.numeric(
        n.RPL_GLOBALUSERS, str(total), str(most), texts.GLOBAL_USERS.format(count=total, max=most)
    )


def motd_replies(ctx: Context) -> None:
    motd = ctx.server.motd
    if not motd:
        ctx.numeric(n.ERR_NOMOTD, texts.NO_MOTD)
        return
    ctx.numeric(n.RPL_MOTDSTART, texts.MOTD_START.format(server=ctx.server.name))
    for line in motd:
        ctx.numeric(n.RPL_MOTD, texts.MOTD_LINE.format(line=line))
    ctx.numeric(n.RPL_ENDOFMOTD, texts.END_OF_MOTD)
