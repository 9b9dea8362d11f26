"""The server's bans kept across restarts: the `server_bans` table (schema step 6 of
store/sqlite.py), in the history database beside the accounts.

`BanStore` is the table, synchronously; `Bans` runs it on a thread of its own, so that
neither the event loop nor the history writer ever waits for it. Writes are fire and
forget from the loop: a ban is in force the moment it is set, and a failure to keep it
is logged.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from soketler.core.bans import ServerBan
from soketler.protocols.names import key
from soketler.store.tables import Table

log = logging.getLogger("soketler.server")


class BanStore(Table):
    """The `server_bans` table. Use from one thread at a time."""

    WHAT = "server bans"

    def all(self) -> list[ServerBan]:
        rows = self._run("SELECT mask, reason, set_by, set_ms FROM server_bans ORDER BY set_ms")
        return [
            ServerBan(mask, reason, by, datetime.fromtimestamp(ms / 1000, UTC))
            for mask, reason, by, ms in rows
        ]

    def add(self, ban: ServerBan) -> None:
        self._run(
            "INSERT OR REPLACE INTO server_bans (mask_key, mask, reason, set_by, set_ms) "
            "VALUES (?, ?, ?, ?, ?)",
            (key(ban.mask), ban.mask, ban.reason, ban.set_by, int(ban.set_at.timestamp() * 1000)),
        )

    def remove(self, mask: str) -> None:
        self._run("DELETE FROM server_bans WHERE mask_key = ?", (key(mask),))


class Bans:
    """`BanStore` on a thread of its own."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soketler-bans")
        self._store: BanStore | None = None

    def _table(self) -> BanStore:
        if self._store is None:
            self._store = BanStore(self.path)
        return self._store

    async def all(self) -> list[ServerBan]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, lambda: self._table().all())

    def changed(self, ban: ServerBan, added: bool) -> None:
        """Keeps a change (called on the loop; the write happens on the thread)."""

        def write() -> None:
            if added:
                self._table().add(ban)
            else:
                self._table().remove(ban.mask)

        future = self._thread.submit(write)
        future.add_done_callback(self._logged)

    @staticmethod
    def _logged(future: Future[None]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            log.warning("a server ban was not kept: %s", exc)

    def close(self) -> None:
        """Waits for the writes under way, then closes the table."""

        def close_table() -> None:
            if self._store is not None:
                self._store.close()

        self._thread.submit(close_table)
        self._thread.shutdown(wait=True)
