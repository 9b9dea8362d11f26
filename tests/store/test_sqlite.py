"""The SQLite backend: schema versions, bad files, bad places."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from soketler.store.base import StoreError
from soketler.store.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStore
from tests.store.test_contract import room_msg, texts


def test_a_new_file_gets_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "h.db"
    store = SqliteStore(str(path))
    store.load()
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_an_older_schema_migrates_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO messages (id, time_ms, room_key, room, sender, sender_key, text) "
        "VALUES (5, 1700000000000, '#dev', '#dev', 'eski', 'eski', 'v1 mesajı')"
    )
    db.close()
    store = SqliteStore(str(path))
    assert store.load().last_id == 5
    [old] = store.room_page("#dev", 10, None).messages
    assert old.text == "v1 mesajı" and old.action is False
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="schema version 99, newer than"):
        SqliteStore(str(path)).load()
    assert path.read_bytes() == before


def test_a_damaged_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not an SQLite database, or is damaged"):
        SqliteStore(str(path)).load()
    assert path.read_bytes() == before


def test_someone_elses_database_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (n INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="did not make"):
        SqliteStore(str(path)).load()


def test_an_unusable_place_is_a_clear_error(tmp_path: Path) -> None:
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder"):
        SqliteStore(str(a_file / "h.db")).load()


def test_a_group_that_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "h.db"))
    store.load()
    store.write([room_msg(5, "first")], [])
    # Id 5 again, in the middle of a group of 300 written in several statements.
    group = [room_msg(i, f"m{i}") for i in range(6, 150)] + [room_msg(5, "again")]
    group += [room_msg(i, f"m{i}") for i in range(150, 305)]
    with pytest.raises(StoreError):
        store.write(group, [])
    assert texts(store.room_page("#dev", 200, None).messages) == ["first"]
    store.write([room_msg(6, "after")], [])  # and the store still works
    assert texts(store.room_page("#dev", 200, None).messages) == ["first", "after"]
    store.close()


def test_a_small_group_that_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    # Up to 256 rows are one statement, its own transaction.
    store = SqliteStore(str(tmp_path / "h.db"))
    store.load()
    store.write([room_msg(5, "first")], [])
    with pytest.raises(StoreError):
        store.write([room_msg(6, "a"), room_msg(5, "again"), room_msg(7, "b")], [])
    assert texts(store.room_page("#dev", 200, None).messages) == ["first"]
    store.close()


def test_processes_opening_a_new_file_at_once_make_its_tables_once(tmp_path: Path) -> None:
    # Worker processes (`serve --workers`) open the same new database in the same moment:
    # each migration step must run once, whoever reads the version first.
    script = (
        "import sys\n"
        "from soketler.store.sqlite import SqliteStore\n"
        "store = SqliteStore(sys.argv[1])\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"  # all of them at once
        "print(store.connection().execute('PRAGMA user_version').fetchone()[0])\n"
    )
    for attempt in range(3):
        path = str(tmp_path / f"shared{attempt}.sqlite3")
        starts = [
            subprocess.Popen(
                [sys.executable, "-c", script, path],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        for proc in starts:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
        for proc in starts:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in starts:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert out.strip() == str(SCHEMA_VERSION)
