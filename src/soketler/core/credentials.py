"""What the hub's doors need to check passwords: a slow hash, so the answer comes later.

The server gives the hub a `Credentials` (security/logins.py) when it has a server
password or accounts: each check runs off the event loop (scrypt, on threads of its
own, never the history writer's), is slowed down after failures from the same place,
and calls `done` back on the loop. Doors hold the session's input meanwhile
(doors/logins.py), so what the client asks next is handled after the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# The answer to an account check: where the account's private history starts (the
# first message id it may read), or None for a wrong name or password.
AccountAnswer = Callable[[int | None], None]


class Credentials(Protocol):
    @property
    def needs_password(self) -> bool:
        """Whether everyone must give the server password (or log in to an account)."""

    @property
    def has_accounts(self) -> bool:
        """Whether the server keeps accounts (a history database in a file)."""

    def check_server_password(
        self, password: str, address: str, done: Callable[[bool], None]
    ) -> None: ...

    def check_account(
        self, name: str, password: str, address: str, done: AccountAnswer
    ) -> None: ...
