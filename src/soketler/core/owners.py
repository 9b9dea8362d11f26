"""Nicknames that belong to someone even while they are away: accounts (a password,
security/accounts.py) and SSH key claims (the first key that logged in with a nickname,
doors/ssh/claims.py). The hub refuses such a nickname, and any nickname that looks like
it (core/lookalikes.py), to every session of every door that has not proved it is the
owner: logged in to the account, or holding the key.

Kept in memory, so choosing a nickname never waits for the disk: the server loads the
accounts when it starts and looks again every few seconds and on SIGHUP; the SSH door
adds the claims. Pure.
"""

from __future__ import annotations

from soketler.core.answers import Refusal
from soketler.core.lookalikes import looks
from soketler.core.session import Session
from soketler.protocols import codes, names

ACCOUNT = "account"  # the detail of a NICK_REGISTERED refusal: log in to the account
KEY = "key"  # claimed by an SSH key


class NickOwners:
    def __init__(self) -> None:
        # Shared with the SSH door's guard (the same set and dict, changed in place).
        self.accounts: set[str] = set()  # nickname keys (names.key) of accounts
        self.claims: dict[str, str] = {}  # nickname key -> the claiming key's fingerprint
        # Account key -> the first message id its private history starts from, learnt at
        # each login (what was said to the nickname before the account existed belongs
        # to whoever held it then).
        self.history_from: dict[str, int] = {}
        self._looks: dict[str, str] = {}  # what an owned nickname looks like -> its key
        self._indexed = (-1, -1)

    def set_accounts(self, keys: frozenset[str] | set[str]) -> None:
        """The accounts as the database has them now (in place: the SSH door shares it)."""
        self.accounts.intersection_update(keys)
        self.accounts.update(keys)
        self._indexed = (-1, -1)

    def _index(self) -> dict[str, str]:
        # The SSH door adds and drops entries in place; their counts tell when to look again.
        size = (len(self.accounts), len(self.claims))
        if size != self._indexed:
            self._looks = {look: key for key in self.claims for look in looks(key)}
            self._looks.update({look: key for key in self.accounts for look in looks(key)})
            self._indexed = size
        return self._looks

    def owner(self, nick: str) -> tuple[str, str] | None:
        """(ACCOUNT or KEY, the owned nickname's key) when `nick` is, or looks like, a
        nickname someone owns; None when it is free for anyone."""
        key = names.key(names.normalize(nick))
        if key in self.accounts:
            return ACCOUNT, key
        if key in self.claims:
            return KEY, key
        if not self.accounts and not self.claims:
            return None
        index = self._index()
        for look in looks(names.normalize(nick)):
            owned = index.get(look)
            if owned is not None:
                return (ACCOUNT if owned in self.accounts else KEY), owned
        return None

    def refusal(self, session: Session, nick: str) -> Refusal | None:
        """Why `session` may not take `nick`, or None if it may."""
        found = self.owner(nick)
        if found is None:
            return None
        kind, key = found
        if session.account is not None and names.key(session.account) == key:
            return None
        if (
            kind == KEY
            and session.fingerprint is not None
            and self.claims.get(key) == session.fingerprint
        ):
            return None
        return Refusal(codes.NICK_REGISTERED, names.normalize(nick), kind)

    def private_since(self, session: Session, default: int) -> int:
        """Where the private history of the nickname `session` now holds starts: for the
        owner of an account, from the account's start, across sessions; for anyone
        else, from `default` (the moment it took the nickname)."""
        account = session.account
        if account is None or names.key(account) != session.key:
            return default
        return min(default, self.history_from.get(session.key, default))
