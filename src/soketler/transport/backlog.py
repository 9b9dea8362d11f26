"""Output the server owes its clients, and what it does when there is too much of it.

Two rules keep one client from hurting the others, and the server from growing:

- SendQ counts what the kernel has not taken. A connection writes first and counts
  what is left in its transport's buffer. A client whose unsent bytes stay above
  `--sendq` for `--sendq-grace` seconds is not reading, and is dropped; one past
  `SENDQ_HARD_FACTOR` times the SendQ is dropped at once (that bounds our memory). A
  burst that briefly puts more than the SendQ behind a client who reads drops nobody.
- Backpressure. When the output waiting in all (queued for the next flush, plus the
  buffers of clients who are behind but within their SendQ) passes `--output-watermark`, lines
  from clients wait and their sockets are not read, so TCP slows the senders, until the
  output drains below a quarter of it. Under overload the server reads more slowly; it
  does not drop its readers. The same when the history store is behind: past
  `STORE_HIGH` messages waiting for the disk, lines wait until it is down to
  `STORE_LOW`, instead of senders being refused as `busy` (which stays the last resort,
  at the hub's MAX_PENDING).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from soketler.core.config import Limits
    from soketler.transport.pump import Pump

# A client's unsent bytes may pass its SendQ by this factor, briefly, before it is cut.
SENDQ_HARD_FACTOR = 8
# Seconds between looks at the clients above their SendQ.
SENDQ_CHECK_EVERY = 0.5
# Messages waiting for the history store past which lines wait, and below which they
# go on (the hub refuses new messages as `busy` only at 10,000).
STORE_HIGH = 1_000
STORE_LOW = 250


class Backlog:
    __slots__ = (
        "_held",
        "_loop",
        "_over",
        "_timer",
        "hard_sendq",
        "high",
        "limits",
        "low",
        "queued",
        "store_pending",
        "unsent",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limits: Limits,
        store_pending: Callable[[], int] = lambda: 0,
    ) -> None:
        self._loop = loop
        # Messages waiting for the history store (the hub's count).
        self.store_pending = store_pending
        self.limits = limits
        self.hard_sendq = limits.sendq * SENDQ_HARD_FACTOR  # one int, shared by all
        self.high = limits.output_watermark
        self.low = limits.output_watermark // 4
        # Bytes given to connections and not yet to their transports (the same bytes
        # object counts once per recipient: this measures work, not memory).
        self.queued = 0
        # Bytes in the buffers of connections that are behind (above their transport's
        # high-water mark) and within their SendQ; those past it are the SendQ rule's.
        self.unsent = 0
        # Connections whose lines wait until the backlog drains, first held first.
        self._held: deque[Pump] = deque()
        # Connections above their SendQ, and since when (loop time).
        self._over: dict[Pump, float] = {}
        self._timer: asyncio.TimerHandle | None = None

    @property
    def overloaded(self) -> bool:
        return self.queued + self.unsent > self.high or self.store_pending() > STORE_HIGH

    def hold(self, connection: Pump) -> None:
        """The connection stops handling lines until the backlog drains."""
        self._held.append(connection)

    def drained(self) -> None:
        """Output was written: lets held connections go on once it is low enough."""
        held = self._held
        while held and self.queued + self.unsent < self.low and self.store_pending() < STORE_LOW:
            connection = held.popleft()
            connection.backlog_drained()  # may hold it again, at the back

    # --- SendQ ---------------------------------------------------------------------

    def over_sendq(self, connection: Pump) -> None:
        if connection not in self._over:
            self._over[connection] = self._loop.time()
            if self._timer is None:
                self._timer = self._loop.call_later(SENDQ_CHECK_EVERY, self._check)

    def within_sendq(self, connection: Pump) -> None:
        self._over.pop(connection, None)

    def _check(self) -> None:
        self._timer = None
        now = self._loop.time()
        for connection, since in list(self._over.items()):
            if connection.unsent_bytes() <= self.limits.sendq:
                del self._over[connection]
            elif now - since >= self.limits.sendq_grace:
                del self._over[connection]
                connection.drop_for_sendq()
        if self._over:
            self._timer = self._loop.call_later(SENDQ_CHECK_EVERY, self._check)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._over.clear()
        self._held.clear()
