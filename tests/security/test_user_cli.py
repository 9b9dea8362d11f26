"""`soketler user`: as a process with a piped password, and in-process at a terminal."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pytest

from soketler import exitcodes
from soketler.security import usercli
from soketler.security.accounts import AccountStore
from soketler.security.passwords import verify_password


def user(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soketler", "user", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_add_list_passwd_del(tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite3")
    added = user("add", "ayşe", "--db", db, stdin="correct horse\n")
    assert (added.returncode, added.stdout, added.stderr) == (0, "account ayşe added\n", "")
    store = AccountStore(db)
    assert verify_password("correct horse", store.password_hash("ayşe") or "")
    listed = user("list", "--db", db)
    assert listed.stdout.startswith("ayşe\tpassword set ")
    again = user("add", "AYŞE", "--db", db, stdin="another password\n")
    assert again.returncode == exitcodes.FAILURE
    assert again.stderr == "soketler user: an account named AYŞE exists already\n"
    changed = user("passwd", "ayşe", "--db", db, stdin="battery staple\n")
    assert changed.returncode == 0, changed.stderr
    assert verify_password("battery staple", store.password_hash("ayşe") or "")
    assert user("del", "ayşe", "--db", db).stdout == "account ayşe removed\n"
    gone = user("del", "ayşe", "--db", db)
    assert (gone.returncode, gone.stderr) == (1, "soketler user: no account named ayşe\n")
    store.close()


@pytest.mark.parametrize(
    ("args", "stdin", "complaint"),
    [
        (["add", "bob"], "short\n", "a password has at least 8 characters"),
        (["add", "bob"], "", "no password on stdin"),
        (["add", "9lives"], "long enough\n", "cannot be an account name"),
        (["add"], "", "add needs a NAME"),
        (["passwd", "nobody"], "long enough\n", "no account named nobody"),
    ],
)
def test_refusals(tmp_path: Path, args: list[str], stdin: str, complaint: str) -> None:
    done = user(*args, "--db", str(tmp_path / "h.sqlite3"), stdin=stdin)
    assert complaint in done.stderr
    assert done.stderr.count("\n") == 1
    assert done.returncode in (exitcodes.USAGE, exitcodes.FAILURE)


def test_a_database_that_is_not_one(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"not sqlite" * 100)
    done = user("list", "--db", str(junk))
    assert done.returncode == exitcodes.STORE
    assert "is not an SQLite database" in done.stderr


def test_hash_prints_a_line_for_the_config() -> None:
    done = user("hash", stdin="operator secret\n")
    assert done.returncode == 0
    assert verify_password("operator secret", done.stdout.strip())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_at_a_terminal_the_password_is_asked_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["correct horse", "correct horse", "first try", "second try"])
    prompts: list[str] = []

    def ask(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(usercli.getpass, "getpass", ask)
    db = str(tmp_path / "h.sqlite3")
    args = argparse.Namespace(action="add", name="erin", db=db)
    assert usercli.run(args, _Terminal()) == 0
    assert prompts == ["Password for erin: ", "Again: "]
    args = argparse.Namespace(action="passwd", name="erin", db=db)
    assert usercli.run(args, _Terminal()) == exitcodes.USAGE  # the two answers differ
    store = AccountStore(db)
    assert verify_password("correct horse", store.password_hash("erin") or "")
    store.close()
