"""PRIVMSG, NOTICE and TAGMSG.

RFC 2812 3.3.2: a NOTICE never gets an automatic reply, errors included, so that two
programs cannot answer each other forever; every refusal below is for PRIVMSG only.
"""

from __future__ import annotations

from collections.abc import Mapping

from soketler.doors.irc import refusals
from soketler.doors.irc.channels import is_channel, split_list
from soketler.doors.irc.context import Context
from soketler.doors.irc.hubapi import Kind, Refusal, UserInfo
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.caps import MESSAGE_TAGS
from soketler.protocols.irc.message import Message
from soketler.protocols.irc.tags import is_client_only

CTCP = "\x01"
ACTION_PREFIX = CTCP + "ACTION "
INVALID_UTF8 = "INVALID_UTF8"


def split_action(text: str) -> tuple[Kind, str]:
    """A CTCP ACTION (`/me`) is an action for the other doors; anything else is text."""
    if text.startswith(ACTION_PREFIX):
        return Kind.ACTION, text[len(ACTION_PREFIX) :].removesuffix(CTCP)
    return Kind.MESSAGE, text


def relayed_tags(ctx: Context, message: Message) -> Mapping[str, str]:
    """The client-only tags to pass on; only from a client that negotiated message-tags."""
    if not message.tags or not ctx.client.has_cap(MESSAGE_TAGS):
        return {}
    return {key: value for key, value in message.tags.items() if is_client_only(key)}


def privmsg(ctx: Context, message: Message) -> None:
    _send(ctx, message, notice=False)


def notice(ctx: Context, message: Message) -> None:
    _send(ctx, message, notice=True)


def _send(ctx: Context, message: Message, *, notice: bool) -> None:
    command = message.command
    if not message.params or not message.params[0]:
        if not notice:
            ctx.numeric(n.ERR_NORECIPIENT, texts.NO_RECIPIENT.format(command=command))
        return
    if len(message.params) < 2 or not message.params[1]:
        if not notice:
            ctx.numeric(n.ERR_NOTEXTTOSEND, texts.NO_TEXT_TO_SEND)
        return
    if ctx.invalid_utf8:
        # UTF8ONLY is advertised: text that was not UTF-8 is refused, not relayed
        # with replacement characters in it.
        if not notice:
            ctx.fail(command, INVALID_UTF8, texts.INVALID_UTF8)
        return
    kind, text = (Kind.NOTICE, message.params[1]) if notice else split_action(message.params[1])
    tags = relayed_tags(ctx, message)
    session = ctx.client.session
    targets = split_list(message.params[0])
    allowed = ctx.server.limits.max_targets
    if not notice:
        for target in targets[allowed:]:
            ctx.numeric(n.ERR_TOOMANYTARGETS, target, texts.TOO_MANY_TARGETS)
    for target in targets[:allowed]:
        if is_channel(target):
            refusal = ctx.hub.say(session, target, text, kind, tags)
        else:
            refusal = ctx.hub.private(session, target, text, kind, tags)
        if refusal is not None:
            if not notice:
                refusals.render(ctx, refusal, command)
        elif not notice and not is_channel(target):
            _tell_if_away(ctx, target)


def _tell_if_away(ctx: Context, nick: str) -> None:
    info = ctx.hub.whois(nick, ctx.client.session)
    if isinstance(info, UserInfo) and info.away is not None:
        ctx.numeric(n.RPL_AWAY, info.nick, info.away)


def tagmsg(ctx: Context, message: Message) -> None:
    """A message of tags only (typing notices, reactions): for message-tags clients."""
    if not ctx.client.has_cap(MESSAGE_TAGS):
        return
    tags = relayed_tags(ctx, message)
    for target in split_list(message.params[0])[: ctx.server.limits.max_targets]:
        refusal = ctx.hub.tag_only(ctx.client.session, target, tags)
        if isinstance(refusal, Refusal):
            refusals.render(ctx, refusal, "TAGMSG")
