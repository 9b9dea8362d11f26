"""Nicknames claimed by SSH keys, kept in the history database (`ssh_keys`, schema step 4
of store/sqlite.py) beside the accounts, so that one file holds a server's state.

`ClaimStore` is the table, synchronously; `Claims` runs it on a thread of its own, so
that neither the event loop nor the history writer ever waits for it. A claim is
made with INSERT OR IGNORE and read back: when two keys race for one nickname, the
database decides, and both learn which key won.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from soketler.protocols.names import key, normalize
from soketler.store.tables import Table

T = TypeVar("T")


class ClaimStore(Table):
    """The `ssh_keys` table. Use from one thread at a time."""

    WHAT = "SSH key claims"

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(path)
        self._clock = clock

    def all(self) -> dict[str, str]:
        """Every claim: casemapped nickname -> key fingerprint."""
        return dict(self._run("SELECT nick_key, fingerprint FROM ssh_keys").fetchall())

    def holder(self, nick: str) -> str | None:
        """The fingerprint of the key that holds `nick`, or None."""
        row = self._run(
            "SELECT fingerprint FROM ssh_keys WHERE nick_key = ?", (key(normalize(nick)),)
        ).fetchone()
        return None if row is None else str(row[0])

    def claim(self, nick: str, fingerprint: str) -> str:
        """Claims `nick` for the key unless a key holds it already; returns the holder's
        fingerprint (ours when the claim was made, or was ours before)."""
        nick = normalize(nick)
        self._run(
            "INSERT OR IGNORE INTO ssh_keys (nick_key, nick, fingerprint, created_ms) "
            "VALUES (?, ?, ?, ?)",
            (key(nick), nick, fingerprint, int(self._clock() * 1000)),
        )
        holder = self.holder(nick)
        assert holder is not None  # just inserted, or there before
        return holder


class Claims:
    """`ClaimStore` on one thread of its own (so one connection, even to ':memory:')."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soketler-ssh-keys")
        self._store: ClaimStore | None = None  # made on the thread, at first use

    def _on_thread(self) -> ClaimStore:
        if self._store is None:
            self._store = ClaimStore(self.path)
        return self._store

    async def _run(self, work: Callable[[ClaimStore], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: work(self._on_thread()))

    async def all(self) -> dict[str, str]:
        return await self._run(ClaimStore.all)

    async def holder(self, nick: str) -> str | None:
        return await self._run(lambda store: store.holder(nick))

    async def claim(self, nick: str, fingerprint: str) -> str:
        return await self._run(lambda store: store.claim(nick, fingerprint))

    async def close(self) -> None:
        """Closes the database on its thread, after the work already asked for."""

        def close(store: ClaimStore) -> None:
            store.close()
            self._store = None

        if self._store is not None:
            await self._run(close)
        self._pool.shutdown(wait=False)
