"""Password checks as doors use them: the session's input is held while the slow check
runs (what the client sends meanwhile waits, in order), and the answer comes back on
the loop. On a correct account password the session is logged in to the account."""

from __future__ import annotations

from collections.abc import Callable

from soketler.core import policing
from soketler.core.bans import parse_address
from soketler.core.hub import Hub
from soketler.core.session import Session
from soketler.transport.pump import Pump


def needs_password(hub: Hub) -> bool:
    return hub.credentials is not None and hub.credentials.needs_password


def has_accounts(hub: Hub) -> bool:
    return hub.credentials is not None and hub.credentials.has_accounts


def private_link(session: Session) -> bool:
    """Whether a password may cross this connection: encrypted, or on this machine."""
    if session.secure or not session.address:  # no address: a Unix socket
        return True
    address = parse_address(session.address)
    return address is not None and address.is_loopback


def _hold(session: Session) -> None:
    if isinstance(session.peer, Pump):
        session.peer.hold_input()


def _release(session: Session) -> None:
    if isinstance(session.peer, Pump):
        session.peer.release_input()


def check_account(
    hub: Hub, session: Session, name: str, password: str, done: Callable[[bool], None]
) -> None:
    """Checks an account's password; `done(ok)` on the loop, after logging in on success."""
    credentials = hub.credentials
    if credentials is None or not credentials.has_accounts:
        done(False)
        return
    _hold(session)

    def answered(since: int | None) -> None:
        try:
            if session.closed:
                return
            if since is not None:
                policing.log_in(hub, session, name, since)
            done(since is not None)
        finally:
            _release(session)

    credentials.check_account(name, password, session.address, answered)


def check_server_password(
    hub: Hub, session: Session, password: str, done: Callable[[bool], None]
) -> None:
    """Checks the server password; `done(ok)` on the loop."""
    credentials = hub.credentials
    if credentials is None or not credentials.needs_password:
        done(True)
        return
    _hold(session)

    def answered(ok: bool) -> None:
        try:
            if not session.closed:
                done(ok)
        finally:
            _release(session)

    credentials.check_server_password(password, session.address, answered)
