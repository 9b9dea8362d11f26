"""SASL PLAIN (IRCv3 sasl-3.1): logging in to an account while registering.

    C: CAP REQ :sasl            S: CAP * ACK :sasl
    C: AUTHENTICATE PLAIN       S: AUTHENTICATE +
    C: AUTHENTICATE <base64 of "authzid NUL account NUL password">
    S: 900 (logged in) and 903, or 904

The capability is offered only where a password may cross the connection (TLS, or
this machine), and only when the server keeps accounts. The payload comes in chunks
of 400 bytes (a chunk shorter than 400, or "+", ends it) and is at most 4 chunks: a
name and a password need no more. The check itself is slow (scrypt, off the loop,
slowed down after failures from the same place); meanwhile what the client sends waits.
"""

from __future__ import annotations

import base64
import binascii

from soketler.doors.irc.connection import logged_in
from soketler.doors.irc.context import Context
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.message import Message

CAP = "sasl"
MECHANISMS = "PLAIN"
CHUNK = 400
MAX_CHUNKS = 4
ABORT = "*"
EMPTY = "+"


def authenticate(ctx: Context, message: Message) -> None:
    client, hub = ctx.client, ctx.hub
    arg = message.params[0]
    if arg == ABORT:
        client.sasl = None
        ctx.numeric(n.ERR_SASLABORTED, texts.SASL_ABORTED)
        return
    if hub.account_of(client.session) is not None:
        ctx.numeric(n.ERR_SASLALREADY, texts.SASL_ALREADY)
        return
    if client.sasl is None:
        _start(ctx, arg)
        return
    if arg != EMPTY:
        client.sasl.append(arg)
    if len(client.sasl) > MAX_CHUNKS:
        client.sasl = None
        ctx.numeric(n.ERR_SASLTOOLONG, texts.SASL_TOO_LONG)
        return
    if len(arg) == CHUNK:
        return  # more to come
    payload, client.sasl = "".join(client.sasl), None
    _check(ctx, payload)


def _start(ctx: Context, mechanism: str) -> None:
    client, hub = ctx.client, ctx.hub
    if CAP not in client.caps.enabled or not hub.has_accounts():
        ctx.numeric(n.ERR_SASLFAIL, texts.SASL_FAILED)
    elif mechanism.upper() != MECHANISMS:
        ctx.numeric(n.RPL_SASLMECHS, MECHANISMS, texts.SASL_MECHS)
        ctx.numeric(n.ERR_SASLFAIL, texts.SASL_FAILED)
    elif not hub.private_link(client.session):
        ctx.numeric(n.ERR_SASLFAIL, texts.SASL_NEEDS_TLS)
    else:
        client.sasl = []
        ctx.out.append(Message("AUTHENTICATE", (EMPTY,)))


def _check(ctx: Context, payload: str) -> None:
    credentials = _plain(payload)
    if credentials is None:
        ctx.numeric(n.ERR_SASLFAIL, texts.SASL_FAILED)
        return
    account, password = credentials

    def answered(ok: bool) -> None:
        later = ctx.later()
        if ok:
            logged_in(later)
            later.numeric(n.RPL_SASLSUCCESS, texts.SASL_SUCCESS)
        else:
            later.numeric(n.ERR_SASLFAIL, texts.SASL_FAILED)
        ctx.deliver(later.out)

    ctx.hub.check_password(ctx.client.session, account, password, answered)


def _plain(payload: str) -> tuple[str, str] | None:
    """(account, password) of a PLAIN message (RFC 4616), or None when it is not one.
    An authorization identity other than the account itself is refused."""
    try:
        raw = base64.b64decode(payload, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    parts = raw.split("\0")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        return None
    authzid, account, password = parts
    if authzid and authzid != account:
        return None
    return account, password
