"""Operators, from the configuration: a name, a hashed password, where they may log in from.

In the config file (see needs/tls.md for the whole layout):

    [operators.alice]
    password = "$scrypt$ln=15,r=8,p=1$...$..."   # from `soketler user hash`
    hosts = ["10.0.0.0/8", "2001:db8::/32"]      # optional; default: anywhere

Passwords must be hashes: a plain password in a file is one leak away from being
everyone's. `Operators.check` answers with a typed result that each door renders its
own way (IRC: 381 RPL_YOUREOPER, 464 ERR_PASSWDMISMATCH, 491 ERR_NOOPERHOST).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from soketler.protocols.names import key, normalize
from soketler.security.access import AccessList, AccessListError
from soketler.security.accounts import PasswordChecker
from soketler.security.passwords import DEFAULT_COST, PasswordFormatError, parse_hash

PLAIN_PASSWORD = (
    "operator {name}: the password must be a hash made by `soketler user hash`, "
    "not the password itself"
)


class OperatorConfigError(ValueError):
    """An operator entry that cannot be used; the message names it."""


class OperCheck(enum.Enum):
    OK = "ok"
    WRONG_PASSWORD = "wrong-password"  # also: no such operator (a stranger learns nothing)
    WRONG_HOST = "wrong-host"  # the name and password are right, the address is not


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    password_hash: str
    hosts: AccessList | None = None  # None: from anywhere


def operators_from_config(table: Mapping[str, object]) -> list[Operator]:
    """The `[operators]` table of a config file, checked; raises OperatorConfigError."""
    found: list[Operator] = []
    for name, entry in table.items():
        if not isinstance(entry, Mapping):
            raise OperatorConfigError(f"operator {name}: expected a table with password and hosts")
        password = entry.get("password")
        if not isinstance(password, str):
            raise OperatorConfigError(f"operator {name}: no password")
        try:
            parse_hash(password)
        except PasswordFormatError:
            raise OperatorConfigError(PLAIN_PASSWORD.format(name=name)) from None
        hosts = entry.get("hosts")
        allowed: AccessList | None = None
        if hosts is not None:
            if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
                raise OperatorConfigError(f"operator {name}: hosts is a list of address ranges")
            try:
                allowed = AccessList(allow=hosts)
            except AccessListError as exc:
                raise OperatorConfigError(f"operator {name}: {exc}") from None
        found.append(Operator(normalize(name), password, allowed))
    return found


class Operators:
    """The operators a server knows; `await check(name, password, address)`."""

    def __init__(self, entries: Iterable[Operator], checker: PasswordChecker) -> None:
        self._by_key = {key(entry.name): entry for entry in entries}
        self._checker = checker
        self._decoy: str | None = None
        # The decoy costs what a real operator's hash costs.
        first = next(iter(self._by_key.values()), None)
        self._decoy_cost = parse_hash(first.password_hash).cost if first else DEFAULT_COST

    def __len__(self) -> int:
        return len(self._by_key)

    async def check(self, name: str, password: str, address: str) -> OperCheck:
        entry = self._by_key.get(key(normalize(name)))
        if entry is None:
            # As long as a real check, so that a timer cannot list the operators.
            if self._decoy is None:
                self._decoy = await self._checker.hash(
                    "not an operator's password", self._decoy_cost
                )
            await self._checker.verify(password, self._decoy)
            return OperCheck.WRONG_PASSWORD
        if not await self._checker.verify(password, entry.password_hash):
            return OperCheck.WRONG_PASSWORD
        # The host is judged after the password, so only someone who knows the password
        # learns that the address is the problem.
        if entry.hosts is not None and not entry.hosts.permits(address):
            return OperCheck.WRONG_HOST
        return OperCheck.OK
