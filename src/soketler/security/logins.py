"""The server's password checks: the server password and accounts, slowed down after
failures from the same place (security/slowdown.py).

Everything slow runs on the password threads (`PasswordChecker`): the scrypt hash of an
account or of a server password given as a hash. A server password given as text is
compared in constant time. Each check first waits its turn at its place (the address,
or the /64 of an IPv6 address): after n failures from there, attempts are kept
`2^(n-1)` seconds apart, whatever the door or the connection they come through, so
opening many connections to guess at once gains nothing.

`Logins` is the hub's `core.credentials.Credentials`: the checks are started from the
loop and answer on the loop, through the callbacks the doors give.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TypeVar

from soketler.core.credentials import AccountAnswer
from soketler.security.accounts import Accounts, PasswordChecker
from soketler.security.passwords import is_password_hash
from soketler.security.slowdown import Slowdown, place
from soketler.store.base import StoreError

log = logging.getLogger("soketler.server")
T = TypeVar("T")


class Logins:
    def __init__(
        self,
        password: str,
        accounts: Accounts | None,
        checker: PasswordChecker,
        slowdown: Slowdown | None = None,
    ) -> None:
        self.password = password
        self.accounts = accounts
        self.checker = checker
        self.slowdown = slowdown if slowdown is not None else Slowdown()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def needs_password(self) -> bool:
        return bool(self.password)

    @property
    def has_accounts(self) -> bool:
        return self.accounts is not None

    # --- the checks, as coroutines -------------------------------------------------------

    async def slowed(
        self, address: str, attempt: Callable[[], Awaitable[T]], ok: Callable[[T], bool]
    ) -> T:
        """Runs `attempt` after its place's turn; a failure counts against the place."""
        loop = asyncio.get_running_loop()
        where = place(address)
        wait = self.slowdown.wait_before_attempt(where, loop.time())
        if wait > 0:
            await asyncio.sleep(wait)
        outcome = await attempt()
        if not ok(outcome):
            self.slowdown.failed(where, loop.time())
        return outcome

    async def server_password_ok(self, given: str, address: str) -> bool:
        async def attempt() -> bool:
            if is_password_hash(self.password):
                return await self.checker.verify(given, self.password)
            return hmac.compare_digest(given.encode(), self.password.encode())

        if not self.password:
            return True
        return await self.slowed(address, attempt, bool)

    async def account(self, name: str, password: str, address: str) -> int | None:
        """Where the account's private history starts, or None (wrong, or no accounts)."""
        accounts = self.accounts

        async def attempt() -> int | None:
            if accounts is None:
                return None
            try:
                return await accounts.log_in(name, password)
            except (StoreError, RuntimeError) as exc:  # RuntimeError: shutting down
                log.warning("login of %s refused: %s", name, exc)
                return None

        return await self.slowed(address, attempt, lambda since: since is not None)

    # --- the hub's Credentials: started on the loop, answered on it ----------------------

    def check_server_password(
        self, password: str, address: str, done: Callable[[bool], None]
    ) -> None:
        async def run() -> None:
            try:
                ok = await self.server_password_ok(password, address)
            except Exception:  # a bug: this check fails, the server goes on
                log.exception("a password check failed")
                ok = False
            done(ok)

        self._start(run())

    def check_account(self, name: str, password: str, address: str, done: AccountAnswer) -> None:
        async def run() -> None:
            try:
                since = await self.account(name, password, address)
            except Exception:  # a bug: this login fails, the server goes on
                log.exception("a login check failed")
                since = None
            done(since)

        self._start(run())

    def _start(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stops the checks under way (their sessions are gone: the server is stopping)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
