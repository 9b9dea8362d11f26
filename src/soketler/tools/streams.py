"""Standard input and output for servers with many peers (`listen -k`, `listen -u`).

With one peer, `pipe()` copies straight between descriptors. With many, the event
loop owns the sockets and needs stdin as a feed of chunks and stdout as a sink that
never blocks it: a slow reader on our stdout must slow the clients down (their
reading is paused), not freeze the loop or fill memory.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Callable

from soketler.tools import fdcopy
from soketler.tools.threads import in_thread
from soketler.tools.transforms import Transform

OUTPUT_HIGH_WATER = 1 << 20  # bytes queued for stdout before the peers are paused
OUTPUT_LOW_WATER = 1 << 18  # ... and the level at which they are resumed
INPUT_CHUNK = 1 << 16
GATE_RECHECK = 0.5  # seconds between looks at the stopper while input is held back


class Output:
    """A stdout writer thread behind a bounded queue, with full/drained callbacks.

    Both callbacks run in the event loop. When the reader of our stdout goes away
    (EPIPE) further output is dropped: the peers are still served.
    """

    def __init__(
        self,
        fd: int,
        *,
        on_full: Callable[[], None] = lambda: None,
        on_drained: Callable[[], None] = lambda: None,
    ) -> None:
        self._fd = fd
        self._on_full, self._on_drained = on_full, on_drained
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0
        self._loop = asyncio.get_running_loop()
        self.full = False
        self.closed = False
        self._done = in_thread("soketler-output", self._run)

    def write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        with self._lock:
            self._pending += len(data)
            pending = self._pending
        self._queue.put(data)
        if not self.full and pending > OUTPUT_HIGH_WATER:
            self.full = True
            self._on_full()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if not self.closed:
                try:
                    _write_all(self._fd, data)
                except OSError:
                    self.closed = True  # our reader went away; keep serving the peers
            with self._lock:
                self._pending -= len(data)
                drained = self._pending <= OUTPUT_LOW_WATER
            if drained and self.full:
                self._loop.call_soon_threadsafe(self._drained)

    def _drained(self) -> None:
        if self.full and self._pending <= OUTPUT_LOW_WATER:
            self.full = False
            self._on_drained()

    async def aclose(self, grace: float = 2.0) -> None:
        """Writes out what is queued (for up to `grace` seconds) and ends the thread."""
        self._queue.put(None)
        await asyncio.wait([self._done], timeout=grace)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_input(
    fd: int,
    deliver: Callable[[bytes], None],
    *,
    stopper: fdcopy.Stopper,
    gate: threading.Event,
    transform: Transform | None = None,
    chunk: int = INPUT_CHUNK,
) -> asyncio.Future[fdcopy.Ending]:
    """Reads `fd` in a thread and calls `deliver(chunk)` in the loop for each read.

    Reading waits while `gate` is clear, which is how slow peers hold back a fast
    stdin instead of letting their send buffers grow without bound.
    """
    loop = asyncio.get_running_loop()

    def run() -> fdcopy.Ending:
        waiter = fdcopy.Waiter(fd, stopper)
        while waiter.ready():
            if not gate.wait(GATE_RECHECK):
                continue
            data = os.read(fd, chunk)
            if not data:
                tail = transform.flush() if transform is not None else b""
                if tail:
                    loop.call_soon_threadsafe(deliver, tail)
                return fdcopy.Ending.EOF
            if transform is not None:
                data = transform.feed(data)
            loop.call_soon_threadsafe(deliver, data)
        return fdcopy.Ending.STOPPED

    return in_thread("soketler-input", run)
