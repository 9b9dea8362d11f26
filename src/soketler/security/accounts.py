"""Accounts: registered nicknames with scrypt-hashed passwords, beside the history.

The `accounts` table lives in the history database (schema step in
`store/sqlite.py`), so one file holds a server's state. Two ways in:

- `AccountStore`: synchronous, for `soketler user add|del|passwd|list` and for the
  threads below. One SQLite connection of its own, never the history writer's.
- `Accounts`: what a server uses. `await accounts.verify(name, password)` runs the
  lookup and the scrypt hash on a small dedicated pool of threads
  (`PasswordChecker`): a login costs tens of milliseconds of CPU, and that time must
  come out of neither the event loop (everyone's chat) nor the history writer
  (everyone's messages reaching the disk). hashlib's scrypt releases the interpreter
  lock, so the threads hash in parallel with the loop.

Verifying a name that has no account still spends the time of one hash, so that a
timer cannot tell which names are registered. A successful login whose hash was made
with a lower cost than the current one is hashed again with the current cost.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from soketler.errors import SoketlerError
from soketler.protocols.names import key, nick_problem, normalize
from soketler.protocols.wording import nick_problem_text
from soketler.security.passwords import (
    DEFAULT_COST,
    ScryptCost,
    hash_password,
    needs_rehash,
    verify_password,
)
from soketler.store.base import StoreError
from soketler.store.tables import Table

T = TypeVar("T")

# Threads for hashing. Each hash is CPU and memory (32 MiB at the default cost): more
# threads than cores only makes every login slower and the memory peak higher.
CHECKER_THREADS = 2

NO_SUCH_ACCOUNT = "no account named {name}"
ACCOUNT_EXISTS = "an account named {name} exists already"


class AccountError(SoketlerError):
    """An account operation that cannot be done; the message says why."""


class NoSuchAccount(AccountError):
    pass


class AccountExists(AccountError):
    pass


class InvalidName(AccountError):
    pass


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    created: datetime
    changed: datetime


def account_name(name: str) -> str:
    """`name` as an account name (a valid nickname), or InvalidName."""
    name = normalize(name)
    problem = nick_problem(name)
    if problem is not None:
        raise InvalidName(f"{name!r} cannot be an account name: {nick_problem_text(problem)}")
    return name


def _ms(moment: float) -> int:
    return int(moment * 1000)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class AccountStore(Table):
    """The accounts table, synchronously. Use from one thread at a time."""

    WHAT = "accounts"

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(path)
        self._clock = clock

    def add(self, name: str, encoded: str) -> str:
        """Registers `name` with a password hash; returns the name as stored. Its private
        history starts after the newest message stored now."""
        name = account_name(name)
        now = _ms(self._clock())
        try:
            self._db.execute(
                "INSERT INTO accounts "
                "(name_key, name, password, created_ms, changed_ms, history_from) "
                "VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(id), 0) + 1 FROM messages))",
                (key(name), name, encoded, now, now),
            )
        except sqlite3.IntegrityError:
            raise AccountExists(ACCOUNT_EXISTS.format(name=name)) from None
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use the accounts in {self.path}: {exc}") from exc
        return name

    def set_password(self, name: str, encoded: str) -> None:
        changed = self._run(
            "UPDATE accounts SET password = ?, changed_ms = ? WHERE name_key = ?",
            (encoded, _ms(self._clock()), key(normalize(name))),
        )
        if changed.rowcount == 0:
            raise NoSuchAccount(NO_SUCH_ACCOUNT.format(name=normalize(name)))

    def delete(self, name: str) -> None:
        removed = self._run("DELETE FROM accounts WHERE name_key = ?", (key(normalize(name)),))
        if removed.rowcount == 0:
            raise NoSuchAccount(NO_SUCH_ACCOUNT.format(name=normalize(name)))

    def password_hash(self, name: str) -> str | None:
        row = self._run(
            "SELECT password FROM accounts WHERE name_key = ?", (key(normalize(name)),)
        ).fetchone()
        return None if row is None else str(row[0])

    def exists(self, name: str) -> bool:
        return self.password_hash(name) is not None

    def history_from(self, name: str) -> int:
        """The first message id of the account's private history (0: no such account)."""
        row = self._run(
            "SELECT history_from FROM accounts WHERE name_key = ?", (key(normalize(name)),)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def name_keys(self) -> frozenset[str]:
        """The casemapped names of every account (one small query: a server keeps this
        set in memory so that checking a nickname needs no disk)."""
        return frozenset(row[0] for row in self._run("SELECT name_key FROM accounts"))

    def accounts(self) -> list[Account]:
        rows = self._run("SELECT name, created_ms, changed_ms FROM accounts ORDER BY name_key")
        return [Account(name, _time(created), _time(changed)) for name, created, changed in rows]


class PasswordChecker:
    """A small pool of threads for password work, apart from the loop and the writer."""

    def __init__(self, threads: int = CHECKER_THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="soketler-auth")

    async def run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    async def verify(self, password: str, encoded: str) -> bool:
        """`verify_password` in the pool (for hashes kept elsewhere: operators, config)."""
        return await self.run(lambda: verify_password(password, encoded))

    async def hash(self, password: str, cost: ScryptCost = DEFAULT_COST) -> str:
        return await self.run(lambda: hash_password(password, cost))

    def close(self) -> None:
        """Waits for the work under way; what has not started is dropped."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class Accounts:
    """A server's view of the accounts: `await verify(name, password)`, `await exists(name)`.

    Each pool thread keeps its own connection to the database, opened on first use.
    """

    def __init__(
        self, path: str, checker: PasswordChecker, cost: ScryptCost = DEFAULT_COST
    ) -> None:
        self.path = path
        self.cost = cost
        self._checker = checker
        self._local = threading.local()
        self._stores: list[AccountStore] = []
        self._lock = threading.Lock()
        self._decoy: str | None = None
        # Lookups alone (is this nickname registered?) take microseconds; they get a
        # thread of their own so that they never wait behind a queue of hashes.
        self._lookups = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soketler-accounts")

    def _store(self) -> AccountStore:
        store: AccountStore | None = getattr(self._local, "store", None)
        if store is None:
            store = AccountStore(self.path)
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store

    def _decoy_hash(self) -> str:
        # Made once, with the current cost: checking a password against it takes as
        # long as against a real account's.
        with self._lock:
            if self._decoy is None:
                self._decoy = hash_password("no account has this password", self.cost)
            return self._decoy

    def _verify(self, name: str, password: str) -> bool:
        store = self._store()
        encoded = store.password_hash(name)
        if encoded is None:
            verify_password(password, self._decoy_hash())
            return False
        if not verify_password(password, encoded):
            return False
        if needs_rehash(encoded, self.cost):
            store.set_password(name, hash_password(password, self.cost))
        return True

    async def verify(self, name: str, password: str) -> bool:
        """True when `name` has an account and `password` is its password."""
        return await self._checker.run(lambda: self._verify(name, password))

    async def log_in(self, name: str, password: str) -> int | None:
        """`verify`, and on success where the account's private history starts (the
        first message id it may read); None for a wrong name or password."""

        def work() -> int | None:
            if not self._verify(name, password):
                return None
            return self._store().history_from(name)

        return await self._checker.run(work)

    async def exists(self, name: str) -> bool:
        """True when `name` is registered (and so may be used only after logging in)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._lookups, lambda: self._store().exists(name))

    async def name_keys(self) -> frozenset[str]:
        """Every registered name, casemapped: load at start and on SIGHUP, then check
        nicknames against it without waiting (see needs/tls.md)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._lookups, lambda: self._store().name_keys())

    def close(self) -> None:
        """Closes the connections; call after the checker's threads have stopped."""
        self._lookups.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()
