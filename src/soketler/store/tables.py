"""A table kept in the history database beside the history (accounts, SSH key claims,
server bans), so that one file holds a server's state: its own connection to the file,
opened and migrated by `SqliteStore`, and one sentence for any SQLite failure."""

from __future__ import annotations

import sqlite3
from typing import ClassVar

from soketler.store.base import StoreError
from soketler.store.sqlite import SqliteStore


class Table:
    """One such table, synchronously. Use from one thread at a time."""

    WHAT: ClassVar[str] = "table"  # what it holds, as an error says it

    def __init__(self, path: str) -> None:
        self.path = path
        self._store = SqliteStore(path)
        self._db = self._store.connection()  # opens and migrates; raises StoreError

    def _run(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use the {self.WHAT} in {self.path}: {exc}") from exc

    def close(self) -> None:
        self._store.close()
