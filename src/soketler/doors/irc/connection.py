"""Registration and the connection itself: PASS, NICK, USER, CAP, PING, PONG, QUIT."""

from __future__ import annotations

from soketler.doors.irc import refusals, render
from soketler.doors.irc.context import Context
from soketler.doors.irc.hubapi import Refusal
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.isupport import isupport_messages
from soketler.protocols.irc.message import Message
from soketler.protocols.irc.registration import BadPassword, Ready

# PASS as an account's login: "name:password" (as bouncers and several servers take it).
ACCOUNT_SEPARATOR = ":"


def registration_command(ctx: Context, message: Message) -> None:
    """PASS, NICK, USER and CAP: collected by the registration state until complete."""
    client = ctx.client
    if client.registered:
        _after_registration(ctx, message)
        return
    ctx.out += client.registration.receive(message)
    _try_to_complete(ctx)


def _after_registration(ctx: Context, message: Message) -> None:
    if message.command == "CAP":
        outcome = ctx.client.caps.handle(message.params, ctx.client.nick, registered=True)
        ctx.out += outcome.replies
        if outcome.changed:
            ctx.hub.set_caps(ctx.client.session, frozenset(ctx.client.caps.enabled))
    elif message.command == "NICK":
        _rename(ctx, message)
    else:  # PASS, USER: "may not reregister"
        ctx.numeric(n.ERR_ALREADYREGISTERED, texts.ALREADY_REGISTERED)


def _rename(ctx: Context, message: Message) -> None:
    if not message.params or not message.params[0]:
        ctx.numeric(n.ERR_NONICKNAMEGIVEN, texts.NO_NICKNAME_GIVEN)
        return
    nick = message.params[0]
    if nick == ctx.client.session.nick:
        return  # nothing changes, so nobody is told anything
    refusal = ctx.hub.rename(ctx.client.session, nick)
    if refusal is not None:
        refusals.render(ctx, refusal, "NICK")


def _try_to_complete(ctx: Context) -> None:
    client = ctx.client
    outcome = client.registration.outcome()
    if outcome is None or client.checking:
        return
    if isinstance(outcome, BadPassword):
        _wrong_password(ctx)
        return
    _check_pass(ctx, outcome)


def _wrong_password(ctx: Context) -> None:
    # Modern: "the server SHOULD send ERR_PASSWDMISMATCH and MUST close the
    # connection with ERROR".
    ctx.numeric(n.ERR_PASSWDMISMATCH, texts.PASSWORD_MISMATCH)
    ctx.close(texts.PASSWORD_MISMATCH)


def _check_pass(ctx: Context, ready: Ready) -> None:
    """PASS, once NICK and USER are in: the server password, or an account's password
    (`PASS name:password`, or the nickname's own account on a server with no password
    of its own). The check is slow (scrypt, off the loop); registration goes on when it
    answers. A wrong PASS closes the connection; none where the server wants one too."""
    client, hub = ctx.client, ctx.hub
    given = client.registration.password_given
    if given is not None and not client.pass_tried:
        client.pass_tried = True
        account, secret = _pass_account(ctx, given, ready.nick)
        if account is not None or hub.needs_password():
            client.checking = True

            def answered(ok: bool) -> None:
                client.checking = False
                later = ctx.later()
                if not ok:
                    _wrong_password(later)
                else:
                    if account is None:
                        client.password_ok = True
                    else:
                        logged_in(later)
                    _check_pass(later, ready)
                ctx.deliver(later.out)

            hub.check_password(client.session, account, secret, answered)
            return
    session = client.session
    if hub.needs_password() and not client.password_ok and hub.account_of(session) is None:
        ctx.numeric(n.ERR_PASSWDMISMATCH, texts.PASSWORD_REQUIRED)
        ctx.close(texts.PASSWORD_REQUIRED)
        return
    _register(ctx, ready)


def _pass_account(ctx: Context, given: str, nick: str) -> tuple[str | None, str]:
    """(the account PASS logs in to, or None for the server password; the password)."""
    hub = ctx.hub
    name, colon, secret = given.partition(ACCOUNT_SEPARATOR)
    if colon and hub.is_account(name):
        return name, secret
    if not hub.needs_password() and hub.is_account(nick):
        return nick, given
    return None, given


def logged_in(ctx: Context) -> None:
    """900 RPL_LOGGEDIN, to a client that has just proved it owns its account."""
    session = ctx.client.session
    account = ctx.hub.account_of(session) or ""
    nick = session.nick or "*"
    mask = f"{nick}!{session.user or '*'}@{session.host}"
    ctx.numeric(n.RPL_LOGGEDIN, mask, account, texts.LOGGED_IN.format(account=account))


def _register(ctx: Context, ready: Ready) -> None:
    client = ctx.client
    ctx.hub.set_caps(client.session, frozenset(client.caps.enabled))
    refusal: Refusal | None = ctx.hub.register(
        client.session, ready.nick, ready.user, ready.realname
    )
    if refusal is not None:
        refusals.render(ctx, refusal, "NICK")
        client.registration.refuse_nick()
        return
    client.registered = True
    welcome(ctx)


def welcome(ctx: Context) -> None:
    """001-005, LUSERS and MOTD, in the order the Modern document gives."""
    server, session = ctx.server, ctx.client.session
    ctx.numeric(
        n.RPL_WELCOME,
        texts.WELCOME.format(
            network=server.network, nick=f"{session.nick}!{session.user}@{session.host}"
        ),
    )
    ctx.numeric(n.RPL_YOURHOST, texts.YOUR_HOST.format(server=server.name, version=server.version))
    ctx.numeric(
        n.RPL_CREATED,
        texts.CREATED.format(created=server.created.strftime("%Y-%m-%d %H:%M:%S UTC")),
    )
    ctx.out.append(
        Message(
            n.RPL_MYINFO,
            (
                session.nick,
                server.name,
                server.version,
                server.user_modes(),
                server.channel_mode_letters(),
                server.channel_modes.with_parameter(),
            ),
            server.name,
        )
    )
    ctx.out += isupport_messages(server.name, session.nick, server.isupport())
    render.lusers_replies(ctx, ctx.hub.stats())
    render.motd_replies(ctx)


def ping(ctx: Context, message: Message) -> None:
    if not message.params:
        ctx.numeric(n.ERR_NEEDMOREPARAMS, "PING", texts.NEED_MORE_PARAMS)
        return
    # Modern: "PONG <server> <token>", the token given back exactly.
    ctx.send("PONG", ctx.server.name, message.params[0])


def pong(ctx: Context, message: Message) -> None:
    """A client's answer to our PING. The transport counts any line as a sign of life."""


def quit_(ctx: Context, message: Message) -> None:
    reason = message.params[0] if message.params and message.params[0] else ""
    ctx.close(texts.QUIT_WITH_REASON.format(reason=reason) if reason else texts.QUIT)
