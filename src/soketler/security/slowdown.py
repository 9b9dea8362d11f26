"""Failed logins slow down the next attempts from the same place.

After n failures in a row, the next attempt from that place waits
`base · 2^(n-1)` seconds (1, 2, 4, ... up to `maximum`). Attempts made at the same
time queue: each books its turn, so opening many connections and guessing on all of
them at once gains nothing. A place with no failure for `forget_after` seconds
starts again from nothing.

A success does not wipe the record: if it did, someone with one account of their own
could log into it between guesses at another and never slow down. A person who
mistyped twice waits a second or two once, which is the price.

The place is the address, except for IPv6, where it is the /64: one machine usually
has a whole /64 to choose addresses from. Memory is bounded: at most `capacity`
places are remembered, and the one whose last failure is oldest goes first.

Pure: the caller gives the time (`now`, monotonic seconds) and does the waiting.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from dataclasses import dataclass

from soketler.core.bans import parse_address

IPV6_PREFIX = 64
# 2^62 seconds is far past any `maximum`; beyond it the float arithmetic would overflow.
_MAX_DOUBLINGS = 62


def place(address: str) -> str:
    """Who an attempt counts against: the address, the /64 for IPv6, IPv4 for mapped."""
    ip = parse_address(address)
    if ip is None:
        return address  # a Unix socket peer, or a name: counted as it is
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


@dataclass(slots=True)
class _Record:
    failures: int
    not_before: float  # the next attempt may not start before this
    last_failure: float


class Slowdown:
    """Per-place delays after failed attempts. See the module docstring."""

    def __init__(
        self,
        *,
        base: float = 1.0,
        maximum: float = 60.0,
        forget_after: float = 900.0,
        capacity: int = 10_000,
    ) -> None:
        if base <= 0 or maximum < base or forget_after <= 0 or capacity < 1:
            raise ValueError("need 0 < base <= maximum, forget_after > 0, capacity >= 1")
        self.base = base
        self.maximum = maximum
        self.forget_after = forget_after
        self.capacity = capacity
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def delay(self, failures: int) -> float:
        """How far apart attempts are kept after `failures` failures in a row."""
        if failures <= 0:
            return 0.0
        return min(self.maximum, self.base * 2.0 ** min(failures - 1, _MAX_DOUBLINGS))

    def _record(self, key: str, now: float) -> _Record | None:
        record = self._records.get(key)
        if record is not None and now - record.last_failure >= self.forget_after:
            del self._records[key]
            return None
        return record

    def failures(self, key: str, now: float) -> int:
        record = self._record(key, now)
        return 0 if record is None else record.failures

    def wait_before_attempt(self, key: str, now: float) -> float:
        """Seconds this attempt must wait before its password is checked.

        Books the attempt's turn: the next one from the same place waits for it.
        """
        record = self._record(key, now)
        if record is None:
            return 0.0
        start = max(now, record.not_before)
        record.not_before = start + self.delay(record.failures)
        return start - now

    def failed(self, key: str, now: float) -> None:
        """Counts a failed attempt against `key`."""
        record = self._record(key, now)
        if record is None:
            record = self._records[key] = _Record(0, now, now)
        record.failures += 1
        record.last_failure = now
        record.not_before = max(record.not_before, now + self.delay(record.failures))
        self._records.move_to_end(key)
        while len(self._records) > self.capacity:
            self._records.popitem(last=False)
