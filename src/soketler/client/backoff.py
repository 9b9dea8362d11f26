"""How long to wait between reconnection attempts: exponential, capped, jittered.

Jitter matters when a server restarts: without it every client that lost the
connection at the same instant comes back at the same instants, in waves.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    initial: float = 0.5  # seconds before the first attempt (before jitter)
    factor: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.5  # up to this fraction of each delay is taken off at random
    attempts: int | None = None  # None: keep trying until closed

    def __post_init__(self) -> None:
        if self.initial < 0 or self.maximum < self.initial or self.factor < 1:
            raise ValueError("need 0 <= initial <= maximum and factor >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction between 0 and 1")
        if self.attempts is not None and self.attempts < 0:
            raise ValueError("attempts cannot be negative")

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The wait before each attempt; ends after `attempts` of them, if set."""
        rng = rng or random.Random()
        base = self.initial
        count = 0
        while self.attempts is None or count < self.attempts:
            yield base * (1.0 - self.jitter * rng.random())
            base = min(self.maximum, base * self.factor)
            count += 1
