"""`pipe()`: a socket joined to an input and an output stream, both ways at once.

This is `nc` in one function: input → socket, socket → output. Each direction is
one `fdcopy.copy` in its own thread; this coroutine supervises them: it half-closes
the socket when the input ends, quits a while after that when asked to (`-q`),
gives up when nothing moves for too long (`-w`), and turns failures into one-line
`ToolError`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from soketler import exitcodes
from soketler.tools import fdcopy
from soketler.tools.errors import ToolError, from_os_error
from soketler.tools.threads import in_thread
from soketler.tools.transforms import CrlfLines, HexDump

# Lines typed into `connect -u` become one datagram each; a pipe's bytes are cut at
# this size, small enough to cross real networks without IP fragmentation trouble.
UDP_SEND_CHUNK = 16384
# How long to wait for the copying threads once the pipe is over. Only a thread
# stuck writing to an output nobody reads can take longer; it is a daemon and is
# left behind rather than hanging the caller.
THREAD_GRACE = 2.0


class HasFileno(Protocol):
    def fileno(self) -> int: ...


Stream = int | HasFileno


@dataclass(frozen=True)
class PipeResult:
    """What moved, and why the pipe ended: "peer-closed", "quit-after-eof" or
    "output-closed" (the local reader went away, as with `| head`)."""

    sent: int
    received: int
    ending: str


def _fd(stream: Stream) -> int:
    return stream if isinstance(stream, int) else stream.fileno()


async def pipe(
    sock: socket.socket,
    input: Stream | None,
    output: Stream,
    *,
    crlf: bool = False,
    hex_dump: bool = False,
    idle_timeout: float | None = None,
    quit_after_eof: float | None = None,
    peer: str = "peer",
    on_progress: Callable[[int, int], None] | None = None,
    progress_every: float = 0.5,
) -> PipeResult:
    """Copies `input` → `sock` and `sock` → `output` until the peer closes.

    At the end of `input` a stream socket is half-closed (the peer sees EOF) and
    reading goes on until the peer closes too, or `quit_after_eof` seconds have
    passed. When the peer's side ends first, the rest of `input` is still sent
    (the peer may have only half-closed), except from a terminal: a person at a
    keyboard wants to hear at once that the other side has gone.

    `input=None` only receives. `idle_timeout` raises a TIMEOUT `ToolError` when
    nothing moves either way for that long. `peer` names the other end in error
    messages. `on_progress(sent, received)` is called every `progress_every` seconds
    while bytes move (a progress meter). The socket is left open for the caller to
    close.
    """
    datagrams = sock.type == socket.SOCK_DGRAM
    sock.setblocking(True)  # the copying threads make plain blocking system calls
    stopper = fdcopy.Stopper()
    sent, received = fdcopy.Progress(), fdcopy.Progress()
    sock_fd, out_fd = sock.fileno(), _fd(output)
    receiving = in_thread(
        "soketler-receive",
        lambda: fdcopy.copy(
            sock_fd,
            out_fd,
            stopper=stopper,
            progress=received,
            transform=HexDump() if hex_dump else None,
            datagrams=datagrams,
        ),
    )
    sending: asyncio.Future[fdcopy.Ending] | None = None
    finish_sending = False
    if input is not None:
        in_fd = _fd(input)
        finish_sending = fdcopy.kind_of(in_fd) is not fdcopy.Kind.TTY
        sending = in_thread(
            "soketler-send",
            lambda: fdcopy.copy(
                in_fd,
                sock_fd,
                stopper=stopper,
                progress=sent,
                transform=CrlfLines() if crlf else None,
                datagrams=datagrams,
                read_size=UDP_SEND_CHUNK if datagrams else None,
            ),
        )
    try:
        ending = await supervise(
            sock,
            receiving,
            sending,
            sent,
            received,
            idle_timeout,
            quit_after_eof,
            finish_sending,
            Ticker(on_progress, progress_every) if on_progress is not None else None,
        )
    except OSError as exc:
        raise explain(exc, peer) from None
    finally:
        stopper.stop()
        # A thread blocked sending to a peer that stopped reading wakes only when
        # the socket is shut down; data already queued still goes out before the FIN.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        threads = [f for f in (receiving, sending) if f is not None]
        await asyncio.wait(threads, timeout=THREAD_GRACE)
        for future in threads:
            if future.done() and not future.cancelled():
                future.exception()  # already reported, or irrelevant once we are ending
        stopper.close()
    return PipeResult(sent=sent.bytes, received=received.bytes, ending=ending)


@dataclass
class Ticker:
    """Calls `report` at most every `every` seconds from the supervising loop."""

    report: Callable[[int, int], None]
    every: float
    last: float = float("-inf")

    def wait(self, now: float) -> float:
        return max(0.0, self.last + self.every - now)

    def tick(self, now: float, sent: int, received: int) -> None:
        if now - self.last >= self.every:
            self.last = now
            self.report(sent, received)


def explain(exc: OSError, peer: str) -> ToolError:
    if exc.errno in (errno.ECONNRESET, errno.EPIPE):
        return ToolError(f"connection reset by peer: {peer}", exitcodes.RESET)
    return from_os_error(exc, peer, None, "transfer with")


async def supervise(
    sock: socket.socket,
    receiving: asyncio.Future[fdcopy.Ending],
    sending: asyncio.Future[fdcopy.Ending] | None,
    sent: fdcopy.Progress,
    received: fdcopy.Progress,
    idle_timeout: float | None,
    quit_after_eof: float | None,
    finish_sending: bool,
    ticker: Ticker | None = None,
) -> str:
    """Waits for the two directions of a pipe and says why it ended (see `pipe`).

    `receiving` and `sending` are the two copies (threads, or tasks for TLS); the
    counters let it notice when nothing has moved for `idle_timeout`.
    """
    pending: set[asyncio.Future[fdcopy.Ending]] = {receiving}
    if sending is not None:
        pending.add(sending)
    quit_at: float | None = None
    last_moved = (sent.bytes, received.bytes)
    last_activity = time.monotonic()
    while True:
        now = time.monotonic()
        wake_in: list[float] = []
        if quit_at is not None:
            wake_in.append(quit_at - now)
        if idle_timeout is not None:
            # Checking four times per timeout keeps the overshoot under a quarter of it.
            wake_in.append(min(idle_timeout / 4, last_activity + idle_timeout - now))
        if ticker is not None:
            ticker.tick(now, sent.bytes, received.bytes)
            wake_in.append(ticker.wait(now))
        timeout = max(0.0, min(wake_in)) if wake_in else None
        done, _ = await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if sending is not None and sending in done:
            pending.discard(sending)
            if _sending_ended(sending) and sock.type == socket.SOCK_STREAM:
                with contextlib.suppress(OSError):  # the peer may be gone already
                    sock.shutdown(socket.SHUT_WR)
            if quit_after_eof is not None:
                quit_at = time.monotonic() + quit_after_eof
        if receiving in done and receiving in pending:
            pending.discard(receiving)
            if receiving.result() is fdcopy.Ending.OUTPUT_CLOSED:
                return "output-closed"
        if receiving not in pending and not (finish_sending and sending in pending):
            return "peer-closed"
        now = time.monotonic()
        if quit_at is not None and now >= quit_at:
            return "quit-after-eof"
        moved = (sent.bytes, received.bytes)
        if moved != last_moved:
            last_moved, last_activity = moved, now
        elif idle_timeout is not None and now - last_activity >= idle_timeout:
            raise ToolError(f"timed out: idle for {idle_timeout:g} s", exitcodes.TIMEOUT)


def _sending_ended(sending: asyncio.Future[fdcopy.Ending]) -> bool:
    """True when the input reached its end, False when the peer stopped listening.

    A peer that closes while we still send (a server that answers one line and
    hangs up) is not an error by itself: what it sent is still to be read, and the
    receiving side reports a reset if there really was one.
    """
    try:
        return sending.result() is fdcopy.Ending.EOF
    except OSError as exc:
        if exc.errno in (errno.EPIPE, errno.ECONNRESET):
            return False
        raise
