from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soketler.security import accounts as accounts_module
from soketler.security.accounts import (
    AccountExists,
    Accounts,
    AccountStore,
    InvalidName,
    NoSuchAccount,
    PasswordChecker,
)
from soketler.security.passwords import ScryptCost, hash_password, parse_hash
from soketler.store.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStore

CHEAP = ScryptCost(log_n=10)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "history.sqlite3")


def test_accounts_are_kept_beside_the_history(db: str) -> None:
    store = AccountStore(db, clock=lambda: 1_700_000_000.0)
    assert store.add("ayşe", hash_password("correct horse", CHEAP)) == "ayşe"
    store.close()
    history = SqliteStore(db)
    history.load()  # the same file still opens as a history database
    history.close()
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    name_key, name, password = raw.execute(
        "SELECT name_key, name, password FROM accounts"
    ).fetchone()
    raw.close()
    assert (name_key, name) == ("ayşe", "ayşe")
    assert password.startswith("$scrypt$ln=10,")  # a hash, never the password


def test_names_are_nicknames_and_case_does_not_make_a_new_one(db: str) -> None:
    store = AccountStore(db)
    store.add("Ayşe", hash_password("correct horse", CHEAP))
    with pytest.raises(AccountExists):
        store.add("AYŞE", hash_password("another one", CHEAP))
    with pytest.raises(InvalidName, match="cannot start with a digit"):
        store.add("9lives", hash_password("correct horse", CHEAP))
    assert store.exists("ayşe") and store.exists("AYS\u0327E")
    assert [a.name for a in store.accounts()] == ["Ayşe"]
    store.close()


def test_change_and_remove(db: str) -> None:
    store = AccountStore(db)
    store.add("bob", "old")
    store.set_password("BOB", "new")
    assert store.password_hash("bob") == "new"
    store.delete("bob")
    assert store.password_hash("bob") is None
    with pytest.raises(NoSuchAccount):
        store.delete("bob")
    with pytest.raises(NoSuchAccount):
        store.set_password("bob", "x")
    store.close()


def test_an_older_database_gets_the_table(db: str) -> None:
    raw = sqlite3.connect(db)

    for step in MIGRATIONS[:2]:
        raw.executescript(step)
    raw.execute("PRAGMA user_version = 2")
    raw.execute(
        "INSERT INTO messages (id, time_ms, sender, sender_key, text) VALUES (1, 0, 'a', 'a', 'hi')"
    )
    raw.commit()
    raw.close()
    store = AccountStore(db)
    store.add("carol", "hash")
    store.close()
    raw = sqlite3.connect(db)
    assert raw.execute("SELECT text FROM messages").fetchall() == [("hi",)]
    raw.close()


@pytest.fixture
async def accounts(db: str) -> AsyncIterator[Accounts]:
    store = AccountStore(db)
    store.add("ayşe", hash_password("correct horse", CHEAP))
    store.close()
    checker = PasswordChecker()
    found = Accounts(db, checker, cost=CHEAP)
    yield found
    checker.close()
    found.close()


async def test_verify(accounts: Accounts) -> None:
    assert await accounts.verify("ayşe", "correct horse")
    assert await accounts.verify("AYŞE", "correct horse")
    assert not await accounts.verify("ayşe", "wrong horse")
    assert not await accounts.verify("nobody", "correct horse")
    assert await accounts.exists("Ayşe")
    assert not await accounts.exists("nobody")
    assert await accounts.name_keys() == frozenset({"ayşe"})


async def test_hashing_runs_on_its_own_threads(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = accounts_module.verify_password

    def spy(password: str, encoded: str) -> bool:
        threads.append(threading.current_thread().name)
        return real(password, encoded)

    monkeypatch.setattr(accounts_module, "verify_password", spy)
    await accounts.verify("ayşe", "correct horse")
    # Not the loop's thread, and not the history writer's.
    assert threads and all(name.startswith("soketler-auth") for name in threads)


async def test_an_unknown_name_costs_a_hash_too(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    costs: list[ScryptCost] = []
    real = accounts_module.verify_password

    def spy(password: str, encoded: str) -> bool:
        costs.append(parse_hash(encoded).cost)
        return real(password, encoded)

    monkeypatch.setattr(accounts_module, "verify_password", spy)
    assert not await accounts.verify("nobody", "guess")
    assert not await accounts.verify("ayşe", "guess")
    assert costs == [CHEAP, CHEAP]  # the same work whether or not the name exists


async def test_a_login_with_an_old_cost_rehashes(db: str) -> None:
    store = AccountStore(db)
    store.add("dave", hash_password("correct horse", CHEAP))
    checker = PasswordChecker()
    stronger = ScryptCost(log_n=11)
    accounts = Accounts(db, checker, cost=stronger)
    try:
        assert not await accounts.verify("dave", "wrong")
        assert parse_hash(store.password_hash("dave") or "").cost == CHEAP  # not on failure
        assert await accounts.verify("dave", "correct horse")
        assert parse_hash(store.password_hash("dave") or "").cost == stronger
        assert await accounts.verify("dave", "correct horse")
    finally:
        checker.close()
        accounts.close()
        store.close()
