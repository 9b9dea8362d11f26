"""Moving bytes from one file descriptor to another as fast as the kernel allows.

This is the engine under `soketler connect` and `soketler listen`. It works on raw
descriptors in a blocking thread because that is both the fastest and the most
general shape: stdin and stdout may be pipes, regular files, ttys or sockets, and
regular files and ttys cannot be watched by an event loop at all.

Fast paths (Linux), tried in this order, each falling back to the next:
- `splice(2)` when one side is a pipe: the kernel moves pages, Python never sees them;
- `sendfile(2)` from a regular file to a socket;
- `splice(2)` through a private pipe for socket → file or socket → socket;
- a plain `readv`/`write` loop over one preallocated buffer (no per-chunk copies),
  which is also the only path when the bytes must be transformed (CRLF, hex dump).

Every blocking read is preceded by a `poll` that also watches a `Stopper`, so the
thread that owns the copy can be told to end even while its source is silent.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import fcntl
import os
import select
import stat
from collections.abc import Callable
from dataclasses import dataclass

from soketler.tools.transforms import Transform

CHUNK = 1 << 20  # 1 MiB: large enough that per-call overhead vanishes at GB/s rates
DATAGRAM_CHUNK = 1 << 16  # one read is one datagram; 64 KiB holds the largest UDP payload
_HAS_SPLICE = hasattr(os, "splice")
_SPLICE_FLAGS = getattr(os, "SPLICE_F_MOVE", 0) | getattr(os, "SPLICE_F_MORE", 0)


class Kind(enum.Enum):
    SOCKET = "socket"
    PIPE = "pipe"
    FILE = "file"
    TTY = "tty"
    DEVICE = "device"  # /dev/null, /dev/zero and other character devices
    OTHER = "other"


def kind_of(fd: int) -> Kind:
    mode = os.fstat(fd).st_mode
    if stat.S_ISSOCK(mode):
        return Kind.SOCKET
    if stat.S_ISFIFO(mode):
        return Kind.PIPE
    if stat.S_ISREG(mode):
        return Kind.FILE
    if stat.S_ISCHR(mode):
        return Kind.TTY if os.isatty(fd) else Kind.DEVICE
    return Kind.OTHER


def widen_pipe(fd: int) -> None:
    """Grows a pipe's buffer to 1 MiB when allowed: 16× fewer wake-ups per GiB."""
    set_size: int | None = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is None:
        return
    # Above /proc/sys/fs/pipe-max-size or not ours to change: keep the default.
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, set_size, CHUNK)


class Stopper:
    """A self-pipe: `stop()` makes `fileno()` readable, which wakes every `poll` on it."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self.stopped = False

    def fileno(self) -> int:
        return self._read

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        # BlockingIOError means it is readable already: nobody is left unwoken.
        with contextlib.suppress(OSError):
            os.write(self._write, b"!")

    def close(self) -> None:
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)


class Ending(enum.Enum):
    EOF = "eof"  # the source ended
    STOPPED = "stopped"  # the Stopper fired
    OUTPUT_CLOSED = "output-closed"  # the destination went away (EPIPE on a pipe)


@dataclass
class Progress:
    """Bytes moved so far; written by the copying thread, read by watchdogs."""

    bytes: int = 0
    chunks: int = 0


class _SpliceUnsupported(Exception):
    """splice(2) refused these descriptors; nothing was moved by the failing call."""


def copy(
    src: int,
    dst: int,
    *,
    stopper: Stopper | None = None,
    progress: Progress | None = None,
    transform: Transform | None = None,
    datagrams: bool = False,
    read_size: int | None = None,
) -> Ending:
    """Copies `src` to `dst` until EOF, a stop, or a closed destination.

    `datagrams` keeps message boundaries: each read is written with exactly one
    write (UDP). Errors other than a closed destination pipe are raised as OSError
    for the caller to explain.
    """
    progress = progress if progress is not None else Progress()
    waiter = Waiter(src, stopper)
    src_kind, dst_kind = kind_of(src), kind_of(dst)
    if transform is None and not datagrams and _HAS_SPLICE:
        try:
            if src_kind is Kind.PIPE or dst_kind is Kind.PIPE:
                for fd, fd_kind in ((src, src_kind), (dst, dst_kind)):
                    if fd_kind is Kind.PIPE:
                        widen_pipe(fd)
                return _splice_direct(src, dst, waiter, progress)
            if src_kind is Kind.FILE and dst_kind is Kind.SOCKET:
                return _sendfile(src, dst, waiter, progress)
            if src_kind is Kind.SOCKET and dst_kind in (Kind.FILE, Kind.DEVICE, Kind.SOCKET):
                return _splice_through_pipe(src, dst, waiter, progress)
        except _SpliceUnsupported:
            pass  # e.g. a file system without splice support: the plain loop always works
    if read_size is None:
        read_size = DATAGRAM_CHUNK if datagrams else CHUNK
    return _read_write(src, dst, waiter, progress, transform, read_size)


class Waiter:
    """Blocks until `src` has something (data, EOF or an error) or the stopper fires."""

    def __init__(self, src: int, stopper: Stopper | None) -> None:
        self._stopper = stopper
        self._poll = select.poll()
        self._poll.register(src, select.POLLIN | select.POLLPRI)
        if stopper is not None:
            self._poll.register(stopper.fileno(), select.POLLIN)

    def ready(self) -> bool:
        """False when told to stop. Regular files are always ready, so this is cheap."""
        if self._stopper is None:
            return True
        while not self._stopper.stopped:
            try:
                events = self._poll.poll()
            except InterruptedError:  # pragma: no cover - Python retries EINTR itself
                continue
            if any(fd != self._stopper.fileno() for fd, _ in events):
                return not self._stopper.stopped
        return False


def _output_closed(exc: OSError, dst: int) -> bool:
    # A reader that went away (`| head`) ends the copy quietly; a socket peer that
    # went away is an error the caller reports.
    return exc.errno == errno.EPIPE and kind_of(dst) is not Kind.SOCKET


def _splice_direct(src: int, dst: int, waiter: Waiter, progress: Progress) -> Ending:
    return _kernel_copy(
        lambda: os.splice(src, dst, CHUNK, flags=_SPLICE_FLAGS), dst, waiter, progress
    )


def _sendfile(src: int, dst: int, waiter: Waiter, progress: Progress) -> Ending:
    return _kernel_copy(lambda: os.sendfile(dst, src, None, CHUNK), dst, waiter, progress)


def _kernel_copy(move: Callable[[], int], dst: int, waiter: Waiter, progress: Progress) -> Ending:
    """Repeats one zero-copy call (splice or sendfile) until it reports the end."""
    first = True
    while waiter.ready():
        try:
            moved = move()
        except OSError as exc:
            if first and exc.errno in (errno.EINVAL, errno.ENOSYS):
                raise _SpliceUnsupported from exc
            if _output_closed(exc, dst):
                return Ending.OUTPUT_CLOSED
            raise
        first = False
        if moved == 0:
            return Ending.EOF
        progress.bytes += moved
        progress.chunks += 1
    return Ending.STOPPED


def _splice_through_pipe(src: int, dst: int, waiter: Waiter, progress: Progress) -> Ending:
    pipe_read, pipe_write = os.pipe()
    try:
        widen_pipe(pipe_write)
        first = True
        while waiter.ready():
            try:
                moved = os.splice(src, pipe_write, CHUNK, flags=_SPLICE_FLAGS)
            except OSError as exc:
                if first and exc.errno == errno.EINVAL:
                    raise _SpliceUnsupported from exc
                raise
            if moved == 0:
                return Ending.EOF
            pending = moved
            while pending:
                try:
                    out = os.splice(pipe_read, dst, pending, flags=_SPLICE_FLAGS)
                except OSError as exc:
                    if first and exc.errno == errno.EINVAL:
                        # The destination cannot take spliced pages (some ttys and file
                        # systems): hand over what is already in our pipe the slow way.
                        _drain(pipe_read, dst, pending)
                        progress.bytes += pending
                        return _read_write(src, dst, waiter, progress, None, CHUNK)
                    if _output_closed(exc, dst):
                        return Ending.OUTPUT_CLOSED
                    raise
                pending -= out
            first = False
            progress.bytes += moved
            progress.chunks += 1
        return Ending.STOPPED
    finally:
        os.close(pipe_read)
        os.close(pipe_write)


def _drain(pipe_read: int, dst: int, count: int) -> None:
    while count:
        data = os.read(pipe_read, count)
        _write_all(dst, memoryview(data))
        count -= len(data)


def _write_all(dst: int, view: memoryview) -> None:
    while view:
        written = os.write(dst, view)
        view = view[written:]


def _read_write(
    src: int,
    dst: int,
    waiter: Waiter,
    progress: Progress,
    transform: Transform | None,
    read_size: int,
) -> Ending:
    buffer = bytearray(read_size)
    view = memoryview(buffer)
    try:
        while waiter.ready():
            count = os.readv(src, [buffer])
            if count == 0:
                if transform is not None:
                    _write_all(dst, memoryview(transform.flush()))
                return Ending.EOF
            chunk = view[:count]
            if transform is not None:
                chunk = memoryview(transform.feed(bytes(chunk)))
            _write_all(dst, chunk)
            progress.bytes += count
            progress.chunks += 1
        return Ending.STOPPED
    except OSError as exc:
        if _output_closed(exc, dst):
            return Ending.OUTPUT_CLOSED
        raise
    finally:
        view.release()
