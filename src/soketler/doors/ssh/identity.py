"""Who logged in over SSH, and which nicknames they may take. Pure: no I/O.

The SSH user name is the nickname asked for. A nickname belongs to the first SSH key
that logs in with it (the key's fingerprint is the person), and to an account's
password when it is registered as an account (security/accounts.py): then no other
key, and nobody without the password, may take it, whether at login or with /nick.
"""

from __future__ import annotations

from dataclasses import dataclass

from soketler.doors.ssh import words
from soketler.protocols import names


@dataclass(frozen=True, slots=True)
class Login:
    """How a session logged in: its SSH user name, and the key or the account used."""

    user: str
    fingerprint: str | None = None  # the key's (SHA256:...), when a key was used
    account: str | None = None  # the account, when its password was used
    # It gave the server password (as its SSH password), or its key is on the
    # allowlist: on a server with a password, it is no stranger.
    vouched: bool = False


class NickGuard:
    """Key claims and account names, in memory so that a /nick needs no disk: a claim
    is a few dozen bytes, and the database stays the record (doors/ssh/claims.py)."""

    def __init__(self, claims: dict[str, str] | None = None, accounts: set[str] | None = None):
        self.claims: dict[str, str] = claims if claims is not None else {}  # key -> fingerprint
        self.accounts: set[str] = accounts if accounts is not None else set()  # keys

    def problem(self, login: Login, nick: str) -> str | None:
        """Why `login` may not take `nick` (a sentence), or None if it may."""
        nick = names.normalize(nick)
        key = names.key(nick)
        if login.account is not None and names.key(login.account) == key:
            return None  # its own account
        holder = self.claims.get(key)
        if holder is not None:
            return None if holder == login.fingerprint else words.NICK_CLAIMED.format(nick=nick)
        if key in self.accounts:
            return words.NICK_ACCOUNT.format(nick=nick)
        return None

    def may_claim(self, login: Login, nick: str) -> bool:
        """Whether logging in with a key as `nick` should claim it for the key: a valid
        nickname, with no claim and no account yet."""
        nick = names.normalize(nick)
        key = names.key(nick)
        return (
            login.fingerprint is not None
            and names.nick_problem(nick) is None
            and key not in self.claims
            and key not in self.accounts
        )
