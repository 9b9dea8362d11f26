"""Progress on stderr: bytes, rate and time left for a transfer, ports done for a probe.

On a terminal the line is redrawn in place (carriage return, erase to the end);
elsewhere (`--progress` into a log) each update is a line of its own. The words
are made by pure functions, so they are tested without a clock or a terminal.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TextIO

# A transfer from a file at least this big shows progress without being asked.
BIG_TRANSFER = 1 << 20
# A probe of at least this many ports shows progress without being asked.
MANY_PORTS = 100
EVERY = 0.5  # seconds between updates
_RATE_WINDOW = 3.0  # the rate is measured over the last few seconds, not since the start
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
_ERASE_LINE = "\r\x1b[K"


def size(count: float) -> str:
    """1536 -> '1.5 KiB'; bytes below 1 KiB are counted exactly."""
    unit = 0
    while count >= 1024 and unit < len(_UNITS) - 1:
        count /= 1024
        unit += 1
    return f"{count:.0f} B" if unit == 0 else f"{count:.1f} {_UNITS[unit]}"


def duration(seconds: float) -> str:
    """75 -> '1:15'; an hour or more -> '1:02:03'."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def transfer_line(
    sent: int, received: int, total: int | None, rate: float, elapsed: float, done: bool
) -> str:
    """`sent 412.0 MiB of 1.0 GiB (40%), 512.0 MiB/s, 0:01 left; received 0 B`; when
    `done`, the time it took and the average rate instead."""
    if total:
        shown = min(sent, total)
        head = f"sent {size(shown)} of {size(total)} ({100 * shown // total}%)"
    else:
        head = f"sent {size(sent)}"
    if done:
        tail = f", in {duration(elapsed)}" + (f" ({size(rate)}/s)" if rate > 0 else "")
    elif total and rate > 0 and sent < total:
        tail = f", {size(rate)}/s, {duration((total - sent) / rate)} left"
    elif rate > 0:
        tail = f", {size(rate)}/s"
    else:
        tail = ""  # nothing measured yet
    return f"{head}{tail}; received {size(received)}"


def probe_line(done: int, total: int, open_ports: int, elapsed: float) -> str:
    """`probed 512 of 1024 ports (50%), 3 open, 0:04`."""
    percent = 100 * done // total if total else 100
    return f"probed {done} of {total} ports ({percent}%), {open_ports} open, {duration(elapsed)}"


class Meter:
    """Draws a progress line at most every `every` seconds, and a last one at the end."""

    def __init__(
        self,
        out: TextIO | None = None,
        *,
        every: float = EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out if out is not None else sys.stderr
        self.every = every
        self.clock = clock
        self.started = clock()
        self.terminal = _isatty(self.out)
        self._last_drawn = -every  # the first update is drawn at once
        self._drawn = False

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def due(self) -> bool:
        return self.clock() - self._last_drawn >= self.every

    def draw(self, text: str) -> None:
        self._last_drawn = self.clock()
        self._drawn = True
        if self.terminal:
            self.out.write(_ERASE_LINE + text)
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def finish(self, text: str) -> None:
        """The last state, on a line of its own (the terminal's cursor moves on)."""
        self.draw(text)
        if self.terminal:
            self.out.write("\n")
            self.out.flush()


class TransferMeter:
    """Progress of `pipe()`: fed the byte counts, knows the rate and the time left."""

    def __init__(self, total: int | None, meter: Meter | None = None) -> None:
        self.total = total
        self.meter = meter or Meter()
        self._samples: deque[tuple[float, int]] = deque()
        self.last = (0, 0)  # (sent, received) at the latest update

    def _rate(self, now: float, sent: int, received: int) -> float:
        moved = sent + received
        self._samples.append((now, moved))
        while len(self._samples) > 2 and now - self._samples[0][0] > _RATE_WINDOW:
            self._samples.popleft()
        first_time, first_moved = self._samples[0]
        span = now - first_time
        return (moved - first_moved) / span if span > 0 else 0.0

    def update(self, sent: int, received: int) -> None:
        self.last = (sent, received)
        now = self.meter.clock()
        rate = self._rate(now, sent, received)
        if self.meter.due():
            line = transfer_line(sent, received, self.total, rate, self.meter.elapsed, False)
            self.meter.draw(line)

    def finish(self, sent: int | None = None, received: int | None = None) -> None:
        """The final line: the counts given, or the last ones seen (after a failure)."""
        sent = self.last[0] if sent is None else sent
        received = self.last[1] if received is None else received
        elapsed = self.meter.elapsed
        average = (sent + received) / elapsed if elapsed > 0 else 0.0
        self.meter.finish(transfer_line(sent, received, self.total, average, elapsed, True))


def wanted(asked: bool | None, big_enough: bool) -> bool:
    """`--progress` (True), `--no-progress` (False), or neither (None): then on when
    stderr is a terminal and the work is big enough to be worth watching."""
    if asked is not None:
        return asked
    return big_enough and _isatty(sys.stderr)


def file_size(fd: int | None) -> int | None:
    """Bytes left to read from `fd` when it is a regular file; None otherwise."""
    if fd is None:
        return None
    try:
        info = os.fstat(fd)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    try:
        offset = os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        offset = 0
    return max(0, info.st_size - offset)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
