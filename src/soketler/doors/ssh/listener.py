"""Opening the SSH door's listener: the host key, the allowlist, the key claims and the
accounts, then asyncssh listening on the entry's addresses and port."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from typing import Any

import asyncssh

from soketler import paths
from soketler.core.config import Listener
from soketler.doors import Door
from soketler.doors.ssh.claims import Claims
from soketler.doors.ssh.identity import NickGuard
from soketler.doors.ssh.keys import Allowlist, fingerprint, host_key
from soketler.doors.ssh.server import Gate, SshLogin
from soketler.security.accounts import Accounts, PasswordChecker
from soketler.transport.server import LISTEN_BACKLOG, ChatServer

log = logging.getLogger("soketler.server")


class SshListener:
    """The door's listener as the server keeps it (`doors.Listening`), and what it
    holds open: the claims' and the accounts' threads."""

    def __init__(
        self,
        acceptor: asyncssh.SSHAcceptor,
        pending: set[SshLogin],
        claims: Claims,
        accounts: Accounts | None,
        checker: PasswordChecker | None,
    ) -> None:
        self._acceptor = acceptor
        self._pending = pending
        self._claims = claims
        self._accounts = accounts
        self._checker = checker

    @property
    def sockets(self) -> Sequence[Any]:
        sockets: Sequence[Any] = self._acceptor.sockets
        return sockets

    def close(self) -> None:
        """Stops accepting. Connections still logging in are cut: they have no session
        to say goodbye to (the hub says it to the others)."""
        self._acceptor.close()
        for login in list(self._pending):
            login.close()

    async def wait_closed(self) -> None:
        await self._acceptor.wait_closed()
        await self._claims.close()
        if self._checker is not None:
            await asyncio.to_thread(self._checker.close)  # waits for a hash under way
        if self._accounts is not None:
            self._accounts.close()


async def listen(server: ChatServer, listener: Listener, door: Door) -> SshListener:
    """Opens the SSH listener of a listener entry. Raises DoorSetupError (a key file),
    StoreError (the database) or OSError (the address)."""
    config = server.config
    if logging.getLogger("asyncssh").level == logging.NOTSET:
        # asyncssh logs every connection and login step at INFO: ours says enough.
        logging.getLogger("asyncssh").setLevel(logging.WARNING)
    path = config.ssh_host_key or paths.default_ssh_host_key()
    key, made = await asyncio.to_thread(host_key, path)
    log.info("%s SSH host key %s: %s", "made the" if made else "using the", path, fingerprint(key))
    allowlist = None
    if config.ssh_allow_keys:
        allowlist = await asyncio.to_thread(Allowlist, config.ssh_allow_keys)
    claims = Claims(config.db)
    checker = accounts = None
    try:
        # The hub's own set and dict: a claim made here keeps the nickname for its key
        # on every door (core/owners.py).
        owners = server.hub.owners
        guard = NickGuard(owners.claims, owners.accounts)
        guard.claims.update(await claims.all())
        if allowlist is None:
            accounts = server.accounts
            if accounts is None:  # history (and so accounts) kept nowhere but here
                checker = PasswordChecker()
                accounts = Accounts(config.db, checker)
                guard.accounts.update(await accounts.name_keys())
        gate = Gate(guard, claims, accounts, allowlist, server.slowdown, server.logins)
        pending: set[SshLogin] = set()
        acceptor = await asyncssh.create_server(
            lambda: SshLogin(server, door, gate, pending),
            list(listener.hosts) or None,
            listener.port,
            server_host_keys=[key],
            backlog=LISTEN_BACKLOG,
            reuse_address=True,
            encoding=None,  # bytes: the screens decode, with their own limits
            line_editor=False,  # prompt_toolkit edits the line
            login_timeout=config.ssh_login_timeout,
            agent_forwarding=False,
            x11_forwarding=False,
            **_keepalive(server),
        )
    except BaseException:
        await claims.close()
        if checker is not None:  # the accounts were made here: they close here
            checker.close()
            if accounts is not None:
                accounts.close()
        raise
    # Only what was made here closes with the listener (the server's are the server's).
    own = accounts if checker is not None else None
    return SshListener(acceptor, pending, claims, own, checker)


def _keepalive(server: ChatServer) -> dict[str, Any]:
    """A dead peer must not keep its nickname. asyncssh sends a keepalive request (every
    client answers it, unseen by the person) after each `interval` of silence and cuts a
    client that leaves more than `count_max` of them unanswered: silent `idle_timeout`
    plus `ping_timeout`, as the other doors' clients, it is gone."""
    limits = server.config.limits
    if limits.idle_timeout <= 0:
        return {}
    interval = limits.ping_timeout if limits.ping_timeout > 0 else limits.idle_timeout
    unanswered = max(1, math.ceil(limits.idle_timeout / interval))
    return {"keepalive_interval": interval, "keepalive_count_max": unanswered}
