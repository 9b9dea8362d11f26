"""While the connection is away: the lines kept to send later, and the countdown (no I/O).

A person who types during an outage expects the line to go out once the server is
back, as a mail client keeps an outbox; it is kept, within a bound, and said so. The
bottom bar counts down to the next attempt, which Ctrl-R brings forward.
"""

from __future__ import annotations

import math
from collections import deque

from soketler.client.events import Disconnected, Event, Reconnected, Reconnecting, Welcome
from soketler.client.requests import ClientRequest

# Lines typed while disconnected that are kept to send once back; more are refused
# (and said so): an outage of hours should not end in a flood of stale lines.
KEEP_LINES = 100
RETRY_KEY = "Ctrl-R"


class Offline:
    """Whether the client is reconnecting, when it tries next, and what waits to be sent."""

    def __init__(self, limit: int = KEEP_LINES) -> None:
        self.limit = limit
        self.kept: deque[ClientRequest] = deque()
        self.reconnecting = False
        self.retry_at: float | None = None  # loop time of the next attempt

    def keep(self, request: ClientRequest) -> bool:
        """Keeps a request to send once back; False when `limit` are waiting already."""
        if len(self.kept) >= self.limit:
            return False
        self.kept.append(request)
        return True

    def take_all(self) -> list[ClientRequest]:
        taken = list(self.kept)
        self.kept.clear()
        return taken

    def apply(self, event: Event, now: float) -> None:
        match event:
            case Disconnected(reconnecting=again):
                self.reconnecting = again
                self.retry_at = None
            case Reconnecting(delay=delay):
                self.retry_at = now + delay
            case Reconnected() | Welcome():
                self.reconnecting = False
                self.retry_at = None

    def status(self, now: float) -> str | None:
        """The bottom bar's words while reconnecting, e.g. `reconnecting in 4 s`."""
        if not self.reconnecting:
            return None
        if self.retry_at is None or self.retry_at <= now:
            parts = ["reconnecting..."]
        else:
            parts = [f"reconnecting in {math.ceil(self.retry_at - now)} s", f"{RETRY_KEY}: now"]
        if self.kept:
            count = len(self.kept)
            parts.append(f"{count} line{'s' if count != 1 else ''} to send")
        return " · ".join(parts)
