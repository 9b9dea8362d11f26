"""Key claims in the history database: made once, kept across restarts, raced safely."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from soketler.doors.ssh.claims import Claims, ClaimStore
from soketler.store.sqlite import MIGRATIONS, SCHEMA_VERSION


def test_the_first_key_keeps_the_nickname_across_restarts(tmp_path: Path) -> None:
    path = str(tmp_path / "history.sqlite3")
    store = ClaimStore(path)
    assert store.claim("Ayşe", "SHA256:first") == "SHA256:first"
    assert store.claim("AYŞE", "SHA256:second") == "SHA256:first"  # one nickname
    store.close()
    again = ClaimStore(path)
    assert again.holder("ayşe") == "SHA256:first"
    assert again.holder("nobody") is None
    assert again.all() == {"ayşe": "SHA256:first"}
    again.close()


def test_a_database_of_an_older_schema_gains_the_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[: SCHEMA_VERSION - 1]:
        raw.executescript(step)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    raw.execute("INSERT INTO topics VALUES ('#a', '#a', 'kept', NULL, 0)")
    raw.close()
    store = ClaimStore(str(path))
    assert store.claim("cem", "SHA256:k") == "SHA256:k"
    store.close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("SELECT text FROM topics").fetchone()[0] == "kept"
    raw.close()


async def test_claims_on_their_thread_even_in_memory() -> None:
    claims = Claims(":memory:")
    try:
        # One thread, one connection: the in-memory database lives as long as the claims.
        assert await claims.claim("ayse", "SHA256:a") == "SHA256:a"
        assert await claims.claim("ayse", "SHA256:b") == "SHA256:a"
        assert await claims.holder("ayse") == "SHA256:a"
        assert await claims.all() == {"ayse": "SHA256:a"}
    finally:
        await claims.close()
