"""`soketler user add|del|passwd|list|hash`: the implementation behind commands/user.py."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from soketler import exitcodes
from soketler.paths import default_database
from soketler.security.accounts import (
    AccountExists,
    AccountStore,
    InvalidName,
    NoSuchAccount,
    account_name,
)
from soketler.security.passwords import PasswordRefused, check_new_password, hash_password
from soketler.store.base import StoreError

NEEDS_NAME = "{action} needs a NAME"
PASSWORDS_DIFFER = "the two passwords differ; nothing changed"
NO_PASSWORD = "no password on stdin"


class _Usage(Exception):
    """Bad arguments or a refused password: exit 2 with the message."""


def _fail(message: str, code: int) -> int:
    print(f"soketler user: {message}", file=sys.stderr)
    return code


def read_password(stdin: TextIO, prompt: str) -> str:
    """Twice from a terminal (without echo), else the first line of stdin."""
    if stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise _Usage(PASSWORDS_DIFFER)
        password = first
    else:
        line = stdin.readline()
        if not line:
            raise _Usage(NO_PASSWORD)
        password = line.removesuffix("\n").removesuffix("\r")
    try:
        check_new_password(password)
    except PasswordRefused as exc:
        raise _Usage(str(exc)) from None
    return password


def run(args: argparse.Namespace, stdin: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    action: str = args.action
    try:
        if action == "hash":
            print(hash_password(read_password(stdin, "Password to hash: ")))
            return exitcodes.OK
        if action != "list" and not args.name:
            raise _Usage(NEEDS_NAME.format(action=action))
        store = AccountStore(args.db or default_database())
        try:
            return _act(store, action, args.name, stdin)
        finally:
            store.close()
    except _Usage as exc:
        return _fail(str(exc), exitcodes.USAGE)
    except InvalidName as exc:
        return _fail(str(exc), exitcodes.USAGE)
    except (NoSuchAccount, AccountExists) as exc:
        return _fail(str(exc), exitcodes.FAILURE)
    except StoreError as exc:
        return _fail(str(exc), exitcodes.STORE)


def _act(store: AccountStore, action: str, name: str, stdin: TextIO) -> int:
    if action == "list":
        for account in store.accounts():
            changed = account.changed.strftime("%Y-%m-%d %H:%M UTC")
            print(f"{account.name}\tpassword set {changed}")
        return exitcodes.OK
    if action == "del":
        store.delete(name)
        print(f"account {name} removed")
        return exitcodes.OK
    if action == "add":
        name = account_name(name)  # a bad name is refused before the password is asked
        if store.exists(name):  # before asking for a password that would be thrown away
            raise AccountExists(f"an account named {name} exists already")
        stored = store.add(name, hash_password(read_password(stdin, f"Password for {name}: ")))
        print(f"account {stored} added")
        return exitcodes.OK
    # passwd
    if not store.exists(name):
        raise NoSuchAccount(f"no account named {name}")
    store.set_password(name, hash_password(read_password(stdin, f"New password for {name}: ")))
    print(f"password of {name} changed")
    return exitcodes.OK
