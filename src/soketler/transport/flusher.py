"""The flusher: writes what connections have queued, a slice of them per loop tick."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from soketler.transport.backlog import Backlog

# Sockets written per slice of a flush pass. A send on loopback costs ~15 µs here, so a
# pass over a room of 1,000 takes ~15 ms; between slices the loop reads sockets and
# takes the store's replies, and whatever they add for a connection still waiting its
# turn leaves in that connection's one send.
FLUSH_SLICE = 64


class Flushable(Protocol):
    def flush(self) -> None: ...


class Flusher:
    """Writes the queued bytes of every connection that got some, in the order they got
    them, a slice at a time. Any door's connection can be flushed (`Flushable`).

    Send system calls, not Python, are the cost of a fan-out: one per recipient per
    pass. Draining one queue a slice per loop tick means a message said while a pass is
    under way joins it for every recipient not yet written, instead of starting a pass
    of its own; under load each connection gets one send per round, however many
    messages that round brought it, and input is never kept waiting behind a pass.
    """

    __slots__ = ("_backlog", "_dirty", "_loop", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop, backlog: Backlog | None = None) -> None:
        self._loop = loop
        self._backlog = backlog
        self._dirty: deque[Flushable] = deque()
        self._scheduled = False

    def __len__(self) -> int:
        """Connections waiting for their turn to write."""
        return len(self._dirty)

    def mark(self, connection: Flushable) -> None:
        self._dirty.append(connection)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        dirty = self._dirty
        # Bounded by the count taken now: a flush that drops a client writes to others,
        # and those wait for the next slice.
        for _ in range(min(len(dirty), FLUSH_SLICE)):
            dirty.popleft().flush()
        if self._backlog is not None:
            self._backlog.drained()
        if dirty:
            self._loop.call_soon(self._flush)
        else:
            self._scheduled = False
