"""Passwords in the lines door: the server password, accounts (`/login`) and operators
(`/oper`), for telnet and nc users (asked, one line each) and JSON programs (fields).

Choosing a nickname (the first plain line, `/nick`, or JSON's `hello`) goes through
`register`: a nickname that is an account's needs its password (which also counts as
the server password: account holders are no strangers), and on a server with a
password everyone else gives that first. A plain client is asked for what is missing
after it gives the nickname, so the question comes once it is known to be telnet (a
telnet client is then told not to show what is typed, RFC 857); a JSON client gives
`password` in its `hello`, or is told `nick-registered` / `password-required`.

The answer to a question is the next line as typed (a password may start with `/`),
never shown to anyone, logged or stored. A wrong server password ends the
connection; a wrong account password lets the person choose another nickname. Every
check is slowed down after failures from the same place (security/logins.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from soketler.core import owners, texts
from soketler.core.answers import Refusal
from soketler.core.session import PASSWORD_GIVEN, SERVER_OPERATOR
from soketler.doors import logins
from soketler.doors.lines import words
from soketler.protocols import codes, names
from soketler.protocols.connection import ServerConnection
from soketler.protocols.events import Error, Info, RequestId
from soketler.transport.pump import Pump

if TYPE_CHECKING:
    from soketler.core.hub import Hub
    from soketler.core.session import Session

# What the next plain line answers.
SERVER_PASSWORD = "server"
ACCOUNT_PASSWORD = "account"
OPERATOR_PASSWORD = "operator"

Registered = Callable[[], None]  # what to do once the session has its nickname


@dataclass(frozen=True, slots=True)
class Asking:
    """A question put to a plain client; its door state until the answer comes."""

    what: str  # SERVER_PASSWORD, ACCOUNT_PASSWORD, OPERATOR_PASSWORD
    name: str  # the nickname it registers as, the account, or the operator
    re: RequestId
    then_register: str | None = None  # after logging in: register as this nickname


def _plain(session: Session) -> bool:
    return session.codec.name == "plain"


def _hide_input(hub: Hub, session: Session, hidden: bool) -> None:
    peer = session.peer
    if isinstance(peer, Pump) and isinstance(peer.receiver, ServerConnection):
        negotiation = peer.receiver.hide_input(hidden)
        if negotiation:
            hub.send_bytes(session, negotiation)


def ask(hub: Hub, session: Session, question: Asking, prompt: str) -> None:
    session.door_state = question
    hub.send(session, Info(prompt, question.re))
    _hide_input(hub, session, True)


def answer(hub: Hub, session: Session, question: Asking, line: str, done: Registered) -> None:
    """The line that answers `question` (taken whole, never echoed or kept)."""
    session.door_state = None
    _hide_input(hub, session, False)
    if question.what == SERVER_PASSWORD:
        server_password(hub, session, question.name, line, question.re, done)
    elif question.what == ACCOUNT_PASSWORD:
        log_in(hub, session, question.name, line, question.re, question.then_register, done)
    else:
        oper(hub, session, question.name, line, question.re)


def passed(session: Session) -> bool:
    """Whether it may be let in on a server with a password."""
    return session.has(PASSWORD_GIVEN) or session.account is not None


def register(
    hub: Hub, session: Session, nick: str, re: RequestId, password: str | None, done: Registered
) -> None:
    """Registers `nick` once what it needs is given (see the module docstring); `done`
    runs when the session has it."""
    nick = names.normalize(nick)
    if hub.nicks.problem(session, nick) is None:
        owner = hub.owners.owner(nick)
        if owner is not None and owner[0] == owners.ACCOUNT and logins.has_accounts(hub):
            account = owner[1]
            if session.account is None or names.key(session.account) != account:
                if password is not None:
                    log_in(hub, session, account, password, re, nick, done)
                elif _plain(session):
                    question = Asking(ACCOUNT_PASSWORD, account, re, nick)
                    ask(hub, session, question, words.ACCOUNT_PROMPT.format(nick=nick))
                else:
                    refused = Error(
                        codes.NICK_REGISTERED,
                        re=re,
                        subject=nick,
                        detail=owners.ACCOUNT,
                        prompt=True,
                    )
                    hub.send(session, refused)
                return
        if logins.needs_password(hub) and not passed(session) and owner is None:
            if password is not None:
                server_password(hub, session, nick, password, re, done)
            elif _plain(session):
                ask(hub, session, Asking(SERVER_PASSWORD, nick, re), words.SERVER_PROMPT)
            else:
                hub.send(session, Error(codes.PASSWORD_REQUIRED, re=re, prompt=True))
            return
    if hub.register(session, nick, re):
        done()


def server_password(
    hub: Hub, session: Session, nick: str, password: str, re: RequestId, done: Registered
) -> None:
    def answered(ok: bool) -> None:
        if not ok:
            hub.send(session, Error(codes.BAD_PASSWORD, re=re))
            hub.close(session, texts.WRONG_PASSWORD)
            return
        session.set_flag(PASSWORD_GIVEN, True)
        register(hub, session, nick, re, None, done)

    logins.check_server_password(hub, session, password, answered)


def log_in(
    hub: Hub,
    session: Session,
    account: str,
    password: str,
    re: RequestId,
    then_register: str | None,
    done: Registered,
) -> None:
    """Logs in to an account; then registers `then_register` (a nickname), if given."""
    if not logins.has_accounts(hub):
        hub.send(session, Error(codes.NO_SUCH_ACCOUNT_HERE, re=re))
        return

    def answered(ok: bool) -> None:
        if not ok:
            hub.send(session, Error(codes.BAD_PASSWORD, re=re))
            if not session.registered and _plain(session):
                hub.send(session, Info(words.CHOOSE_NICK))
            return
        if not session.registered and then_register is not None:
            register(hub, session, then_register, re, None, done)
            return
        name = session.account or account
        hub.send(session, Info(words.LOGGED_IN.format(account=name), re))

    logins.check_account(hub, session, account, password, answered)


def oper(hub: Hub, session: Session, name: str, password: str, re: RequestId) -> None:
    def done(refusal: Refusal | None) -> None:
        if refusal is None:
            hub.send(session, Info(words.OPERATOR_NOW, re))
        else:
            hub.refuse(session, refusal, re)

    if session.has(SERVER_OPERATOR):
        hub.send(session, Info(words.OPERATOR_NOW, re))
        return
    hub.oper(session, name, password, done)
