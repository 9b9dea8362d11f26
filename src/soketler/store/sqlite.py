"""History in an SQLite file: the embedded default.

WAL mode with synchronous=FULL: a committed transaction survives the process being
killed and the machine losing power. That would be slow one message at a time, so the
writer thread commits whole groups (see `store.archive.ThreadedArchive`).
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from soketler.protocols.events import ChatMessage
from soketler.protocols.names import key
from soketler.protocols.query import SearchQuery, Term
from soketler.store.base import (
    PRUNE_SLICE,
    HistoryStore,
    Page,
    Retention,
    Saved,
    StoreError,
    Topic,
)

SCHEMA_VERSION = 6
# Seconds to keep asking for WAL while other processes open the same file.
WAL_PATIENCE = 10.0


# MIGRATIONS[n] takes a database from schema version n to n + 1. Each runs in one
# transaction with the version bump, so a crash mid-way leaves the old version intact.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,       -- UTC, milliseconds since the epoch
        room_key TEXT,                  -- NULL for a private message
        room TEXT,
        sender TEXT NOT NULL,
        sender_key TEXT NOT NULL,
        target TEXT,                    -- the recipient of a private message
        target_key TEXT,
        text TEXT NOT NULL
    );
    CREATE INDEX messages_by_room ON messages (room_key, id);
    CREATE INDEX messages_by_pair ON messages (sender_key, target_key, id);
    """,
    # Version 2 keeps /me actions apart from messages, and room topics across restarts.
    """
    ALTER TABLE messages ADD COLUMN action INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE topics (
        room_key TEXT PRIMARY KEY,
        room TEXT NOT NULL,
        text TEXT NOT NULL,
        set_by TEXT,
        time_ms INTEGER NOT NULL
    );
    """,
    # Accounts (`soketler user add`, see security/accounts.py). IF NOT EXISTS: this step
    # creates only its own table and is harmless wherever it ends up in this list.
    """
    CREATE TABLE IF NOT EXISTS accounts (
        name_key TEXT PRIMARY KEY,      -- the casemapped nickname (names.key)
        name TEXT NOT NULL,             -- as it was registered
        password TEXT NOT NULL,         -- $scrypt$ln=..,r=..,p=..$salt$hash
        created_ms INTEGER NOT NULL,
        changed_ms INTEGER NOT NULL
    );
    """,
    # Version 4 indexes message text for search (FTS5). The index holds no copy of the
    # text (content='messages'); triggers keep it in step with every insert, prune and
    # edit, so no writer can forget it. The tokenizer folds case and accents the same
    # way as `store.query.tokens`.
    """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content='messages', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END;
    """,
    # Version 5: nicknames claimed by SSH keys (doors/ssh/claims.py): the first key to log
    # in as a nickname holds it. IF NOT EXISTS, like the accounts: harmless at any place.
    """
    CREATE TABLE IF NOT EXISTS ssh_keys (
        nick_key TEXT PRIMARY KEY,      -- the casemapped nickname (names.key)
        nick TEXT NOT NULL,             -- as it was first used
        fingerprint TEXT NOT NULL,      -- the key's SHA256:... fingerprint
        created_ms INTEGER NOT NULL
    );
    """,
    # Version 6: where each account's private history starts (the first message id after
    # it was made: what was said to its nickname before belongs to whoever held it; an
    # account already there starts now), and the server's bans (core/bans.py).
    """
    ALTER TABLE accounts ADD COLUMN history_from INTEGER NOT NULL DEFAULT 0;
    UPDATE accounts SET history_from = (SELECT COALESCE(MAX(id), 0) + 1 FROM messages);
    CREATE TABLE IF NOT EXISTS server_bans (
        mask_key TEXT PRIMARY KEY,      -- the casemapped mask (names.key)
        mask TEXT NOT NULL,             -- nick!user@host, the host maybe an address range
        reason TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_ms INTEGER NOT NULL
    );
    """,
]
assert len(MIGRATIONS) == SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    """A script's statements, one by one (a trigger's body holds semicolons of its own:
    a statement ends where SQLite says it is complete)."""
    found, piece = [], ""
    for part in script.split(";"):
        piece += part + ";"
        if sqlite3.complete_statement(piece):
            if piece.strip(" \n;"):
                found.append(piece)
            piece = ""
    return found


def _write_ahead(db: sqlite3.Connection) -> None:
    """Turns on WAL. Turning it on needs the file to itself, and SQLite says "locked" at
    once rather than wait while another process opening the same file holds it: try
    again for a while."""
    deadline = time.monotonic() + WAL_PATIENCE
    pause = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)  # start-up, on the thread that opens the store
        pause = min(pause * 2, 0.1)


def _migrate(db: sqlite3.Connection, step: int) -> None:
    """Takes the database from version `step` to `step + 1` in one transaction, unless
    another process sharing the file (worker processes start at once) did it first: the
    version is read again under the write lock."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] <= step:
            for statement in _statements(MIGRATIONS[step]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {step + 1}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


_COLUMNS = "id, time_ms, room, sender, target, text, action"
# The private messages between two nicknames a and b, given as (a, b, b, a).
_PAIR = (
    "room_key IS NULL AND ((sender_key = ? AND target_key = ?) "
    "OR (sender_key = ? AND target_key = ?))"
)


# A group of messages is written with one statement of many rows, not one statement per
# row: each call into SQLite gives up the interpreter lock and must win it back from the
# event loop, which is busy writing to sockets exactly when groups are big. A group of
# up to this many rows, with no topic, is one statement and so its own transaction: one
# call in all. Bigger groups are cut into statements of this size in one transaction.
MAX_ROWS_PER_INSERT = 256


_INSERTED = (
    "id",
    "time_ms",
    "room_key",
    "room",
    "sender",
    "sender_key",
    "target",
    "target_key",
    "text",
    "action",
)


@functools.lru_cache(maxsize=64)
def _insert_sql(rows: int) -> str:
    row = "(" + ",".join("?" * len(_INSERTED)) + ")"
    return f"INSERT INTO messages ({', '.join(_INSERTED)}) VALUES " + ",".join([row] * rows)


def _ms(time: datetime) -> int:
    return int(time.timestamp() * 1000)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _fts_term(term: Term) -> str:
    # Tokens hold only letters and digits, so quoting cannot be broken out of; doubling
    # any quote is FTS5's escape all the same.
    phrase = " ".join(term.tokens).replace('"', '""')
    return f'"{phrase}"' + ("*" if term.prefix else "")


def _message(row: tuple[int, int, str | None, str, str | None, str, int]) -> ChatMessage:
    mid, time_ms, room, sender, target, text, action = row
    return ChatMessage(
        mid, _time(time_ms), sender, text, room=room, to=target, action=bool(action), history=True
    )


class SqliteStore(HistoryStore):
    def __init__(self, path: str) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        # What is left of the retention pass under way (see prune).
        self._prune_plan: list[tuple[str, tuple[object, ...]]] | None = None

    # --- opening ---------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        where = f"history database {self.path}"
        parent = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the {where}: {exc.strerror}") from exc
        try:
            # The writer thread owns the connection after start-up; sqlite3 needs to be told
            # that another thread than the creating one will use it.
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the {where}: {exc}") from exc
        try:
            # One snapshot for both questions: another process may be making the tables.
            db.execute("BEGIN")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            db.execute("COMMIT")
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the {where} has schema version {version}, newer than this soketler "
                    f"understands ({SCHEMA_VERSION}); upgrade soketler or use another --db"
                )
            if version == 0 and tables:
                raise StoreError(f"the {where} holds tables soketler did not make; not touching it")
            _write_ahead(db)
            db.execute("PRAGMA synchronous=FULL")
            for step in range(version, SCHEMA_VERSION):
                _migrate(db, step)
        except sqlite3.DatabaseError as exc:
            db.close()
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise StoreError(f"the {where} is not an SQLite database, or is damaged") from exc
            raise StoreError(f"cannot use the {where}: {exc}") from exc
        except StoreError:
            db.close()
            raise
        self._db = db
        return db

    def connection(self) -> sqlite3.Connection:
        """The database, opened and migrated, for other tables in the same file (accounts).

        Use it from one thread at a time, and not from the history writer's."""
        return self._open()

    def load(self) -> Saved:
        db = self._open()
        try:
            last = db.execute("SELECT max(id) FROM messages").fetchone()[0] or 0
            topics = {
                row[0]: Topic(row[0], row[1], row[2], row[3], _time(row[4]))
                for row in db.execute("SELECT room_key, room, text, set_by, time_ms FROM topics")
            }
            # Prove now, not at the first message, that the file can be written.
            db.execute("BEGIN IMMEDIATE")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use the history database {self.path}: {exc}") from exc
        return Saved(last, topics)

    # --- writing -----------------------------------------------------------------------

    def write(self, messages: Sequence[ChatMessage], topics: Sequence[Topic]) -> None:
        db = self._open()
        values: list[object] = []  # the rows one after another, in _INSERTED's order
        for m in messages:
            values += (
                m.id,
                _ms(m.time),
                key(m.room) if m.room is not None else None,
                m.room,
                m.sender,
                key(m.sender),
                m.to,
                key(m.to) if m.to is not None else None,
                m.text,
                int(m.action),
            )
        try:
            if messages and not topics and len(messages) <= MAX_ROWS_PER_INSERT:
                db.execute(_insert_sql(len(messages)), values)  # autocommit: atomic
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                for done in range(0, len(messages), MAX_ROWS_PER_INSERT):
                    rows = min(MAX_ROWS_PER_INSERT, len(messages) - done)
                    width = len(_INSERTED)
                    db.execute(_insert_sql(rows), values[done * width : (done + rows) * width])
                if topics:
                    db.executemany(
                        "INSERT OR REPLACE INTO topics (room_key, room, text, set_by, time_ms) "
                        "VALUES (?,?,?,?,?)",
                        [(t.room_key, t.room, t.text, t.set_by, _ms(t.time)) for t in topics],
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the history database {self.path}: {exc}") from exc

    # --- reading -----------------------------------------------------------------------

    def _page(self, where: str, args: tuple[object, ...], limit: int, before: int | None) -> Page:
        db = self._open()
        bound = "" if before is None else " AND id < ?"
        params = args if before is None else (*args, before)
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE {where}{bound} ORDER BY id DESC LIMIT ?",
            (*params, limit + 1),
        ).fetchall()
        more = len(rows) > limit
        return Page([_message(row) for row in reversed(rows[:limit])], more)

    def room_page(self, room_key: str, limit: int, before: int | None) -> Page:
        return self._page("room_key = ?", (room_key,), limit, before)

    def private_page(
        self, key_a: str, key_b: str, limit: int, before: int | None, after: int = 0
    ) -> Page:
        return self._page(
            f"{_PAIR} AND id >= ?", (key_a, key_b, key_b, key_a, after), limit, before
        )

    def search(
        self,
        query: SearchQuery,
        viewer_key: str,
        rooms: Collection[str] | None,
        limit: int,
        before: int | None,
        tz: tzinfo = UTC,
        private_after: int = 0,
    ) -> Page:
        where: list[str] = []
        params: list[object] = []
        # With words to look up, the text index leads: the unary + keeps SQLite from
        # walking a whole room (or a sender's messages) and matching text row by row.
        plus = "+" if query.terms else ""
        if query.room is not None:
            room = key(query.room)
            if rooms is not None and room not in rooms:
                return Page([], False)
            where.append(f"{plus}m.room_key = ?")
            params.append(room)
        else:
            visible = "m.room_key IS NOT NULL"
            if rooms is not None:
                visible += f" AND m.room_key IN ({','.join('?' * len(rooms))})"
                params += rooms
            mine = "(m.sender_key = ? OR m.target_key = ?) AND m.id >= ?"
            where.append(f"(({visible}) OR (m.room_key IS NULL AND {mine}))")
            params += (viewer_key, viewer_key, private_after)
        if query.sender is not None:
            where.append(f"{plus}m.sender_key = ?")
            params.append(key(query.sender))
        start, end = query.bounds(tz)
        if start is not None:
            where.append("m.time_ms >= ?")
            params.append(_ms(start))
        if end is not None:
            where.append("m.time_ms < ?")
            params.append(_ms(end))
        # Ordered and bounded by the index's own rowids, the index hands matches out
        # newest first and stops at the limit, instead of every match being sorted.
        source, ids = "messages AS m", "m.id"
        if query.terms:
            source, ids = (
                "messages_fts JOIN messages AS m ON m.id = messages_fts.rowid",
                "messages_fts.rowid",
            )
            where.append("messages_fts MATCH ?")
            params.append(" ".join(_fts_term(term) for term in query.terms))
        if before is not None:
            where.append(f"{ids} < ?")
            params.append(before)
        columns = ", ".join(f"m.{c.strip()}" for c in _COLUMNS.split(","))
        conditions = " AND ".join(where)
        sql = f"SELECT {columns} FROM {source} WHERE {conditions} ORDER BY {ids} DESC LIMIT ?"
        db = self._open()
        try:
            rows = db.execute(sql, (*params, limit + 1)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot search the history database {self.path}: {exc}") from exc
        return Page([_message(row) for row in reversed(rows[:limit])], len(rows) > limit)

    def prune(self, retention: Retention, now: datetime, limit: int = PRUNE_SLICE) -> int:
        db = self._open()
        try:
            if self._prune_plan is None:
                self._prune_plan = self._plan(db, retention, now)
            removed = 0
            db.execute("BEGIN IMMEDIATE")
            try:
                while self._prune_plan and removed < limit:
                    condition, params = self._prune_plan[0]
                    left = limit - removed
                    gone = db.execute(
                        "DELETE FROM messages WHERE id IN (SELECT id FROM messages "
                        f"WHERE {condition} ORDER BY id LIMIT ?)",
                        (*params, left),
                    ).rowcount
                    removed += gone
                    if gone < left:
                        self._prune_plan.pop(0)  # this part of the pass is done
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._prune_plan = None
            raise StoreError(f"cannot prune the history database {self.path}: {exc}") from exc
        if not self._prune_plan:
            self._prune_plan = None
        return removed

    @staticmethod
    def _plan(
        db: sqlite3.Connection, retention: Retention, now: datetime
    ) -> list[tuple[str, tuple[object, ...]]]:
        """What one retention pass deletes, as conditions on messages, each deleted in
        slices by id. Working out which rooms and conversations are over the limit is
        one read at the start of a pass, not one per slice."""
        plan: list[tuple[str, tuple[object, ...]]] = []
        if retention.days > 0:
            plan.append(("time_ms < ?", (_ms(now - timedelta(days=retention.days)),)))
        if retention.messages > 0:
            keep = retention.messages
            rooms = db.execute(
                "SELECT room_key FROM messages WHERE room_key IS NOT NULL "
                "GROUP BY room_key HAVING count(*) > ?",
                (keep,),
            ).fetchall()
            for (room_key,) in rooms:
                # Everything older than the room's newest `keep` messages.
                (oldest_kept,) = db.execute(
                    "SELECT id FROM messages WHERE room_key = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                    (room_key, keep - 1),
                ).fetchone()
                plan.append(("room_key = ? AND id < ?", (room_key, oldest_kept)))
            pairs = db.execute(
                "SELECT min(sender_key, target_key), max(sender_key, target_key) FROM messages "
                "WHERE room_key IS NULL GROUP BY 1, 2 HAVING count(*) > ?",
                (keep,),
            ).fetchall()
            for a, b in pairs:
                (oldest_kept,) = db.execute(
                    f"SELECT id FROM messages WHERE {_PAIR} ORDER BY id DESC LIMIT 1 OFFSET ?",
                    (a, b, b, a, keep - 1),
                ).fetchone()
                plan.append((f"{_PAIR} AND id < ?", (a, b, b, a, oldest_kept)))
        return plan

    def writable(self) -> None:
        db = self._open()
        try:
            # Writes the header page again (same value): a real write, which fails as
            # a message would while the disk is full or the file is locked.
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"cannot write to the history database {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
