"""A token bucket: `rate` lines per second on average, up to `burst` at once. Pure (the
caller gives the time), shared by the server's pump and the client's pacing."""

from __future__ import annotations


class TokenBucket:
    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._last = now

    def take(self, now: float) -> float:
        """Takes a token: returns 0.0, or the seconds to wait until one is there."""
        if self.rate <= 0:
            return 0.0  # rate limiting is off
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate
