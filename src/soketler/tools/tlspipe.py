"""`tls_pipe()`: `pipe()` for a TLS connection.

The bytes on the wire are not the bytes to copy, so the kernel's zero-copy paths are
out: the event loop owns the connection (a `TlsChannel`), a thread reads the input
(`streams.read_input`) and another writes the output (`streams.Output`). The rules
are those of `pipe()`, through the same `supervise`: at the end of the input our
direction is closed (close_notify, then a TCP half-close) and reading goes on until
the peer finishes, `-q` and `-w` work the same, and nothing grows without bound: a
slow output stops the reading from the peer, a slow peer stops the reading of the
input.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections import deque
from collections.abc import Callable

from soketler.security.tls import explain_connection_error
from soketler.tools import fdcopy
from soketler.tools.duplex import PipeResult, Stream, Ticker, explain, supervise
from soketler.tools.errors import ToolError
from soketler.tools.streams import Output, read_input
from soketler.tools.tlschannel import TlsChannel
from soketler.tools.transforms import CrlfLines, HexDump

# Input read ahead of the peer: past the high mark the input thread waits.
INPUT_HIGH_WATER = 1 << 20
INPUT_LOW_WATER = 1 << 18
# A TLS record carries at most 16 KiB; handing the SSLObject more only splits it there.
SEND_CHUNK = 1 << 16
THREAD_GRACE = 2.0
# Seconds the reading side may take to bring the alert that says why a connection failed.
ALERT_GRACE = 0.5


class _Input:
    """Chunks from the input thread, waiting in the loop until the peer takes them."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.gate = threading.Event()  # clear: the input thread waits
        self.gate.set()
        self.arrived = asyncio.Event()

    def deliver(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        if self.size > INPUT_HIGH_WATER:
            self.gate.clear()
        self.arrived.set()

    def take(self) -> bytes | None:
        if not self.chunks:
            self.arrived.clear()
            return None
        data = self.chunks.popleft()
        self.size -= len(data)
        if self.size <= INPUT_LOW_WATER:
            self.gate.set()
        return data


async def tls_pipe(
    channel: TlsChannel,
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
    """Copies `input` → `channel` and `channel` → `output`; see `duplex.pipe`.

    The socket is left open for the caller to close.
    """
    sent, received = fdcopy.Progress(), fdcopy.Progress()
    room = asyncio.Event()  # set while the output can take more
    room.set()
    out = Output(_fd(output), on_full=room.clear, on_drained=room.set)
    stopper = fdcopy.Stopper()
    reading: asyncio.Future[fdcopy.Ending] | None = None
    sending: asyncio.Task[fdcopy.Ending] | None = None
    receiving = asyncio.create_task(_receive(channel, out, room, received, hex_dump))
    finish_sending = False
    if input is not None:
        in_fd = _fd(input)
        finish_sending = fdcopy.kind_of(in_fd) is not fdcopy.Kind.TTY
        queued = _Input()
        reading = read_input(
            in_fd,
            queued.deliver,
            stopper=stopper,
            gate=queued.gate,
            transform=CrlfLines() if crlf else None,
            chunk=SEND_CHUNK,
        )
        reading.add_done_callback(lambda _: queued.arrived.set())
        sending = asyncio.create_task(_send(channel, queued, reading, sent))
    try:
        ending = await supervise(
            channel.sock,
            receiving,
            sending,
            sent,
            received,
            idle_timeout,
            quit_after_eof,
            finish_sending,
            Ticker(on_progress, progress_every) if on_progress is not None else None,
        )
    except ssl.SSLError as exc:
        failure = explain_connection_error(await _the_telling_error(exc, receiving), peer)
        raise ToolError(failure.message, failure.exit_code) from None
    except OSError as exc:
        raise explain(exc, peer) from None
    finally:
        stopper.stop()
        for task in (receiving, sending):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task
        if reading is not None:
            await asyncio.wait([reading], timeout=THREAD_GRACE)
            if reading.done() and not reading.cancelled():
                reading.exception()  # the input's own failure is not the pipe's to report
        stopper.close()
        await out.aclose()
    return PipeResult(sent=sent.bytes, received=received.bytes, ending=ending)


async def _the_telling_error(
    exc: ssl.SSLError, receiving: asyncio.Task[fdcopy.Ending]
) -> ssl.SSLError:
    """The error to report when the connection failed. With TLS 1.3 a server that
    refuses the client's certificate says so in an alert after the handshake; sending
    may fail first on the closed connection (an EOF), while the alert is still on its
    way to the reading side: the reading side's error says why, so it wins."""
    if not receiving.done():
        await asyncio.wait([receiving], timeout=ALERT_GRACE)
    if receiving.done() and not receiving.cancelled():
        told = receiving.exception()
        if isinstance(told, ssl.SSLError):
            return told
    return exc


async def _receive(
    channel: TlsChannel,
    out: Output,
    room: asyncio.Event,
    received: fdcopy.Progress,
    hex_dump: bool,
) -> fdcopy.Ending:
    dump = HexDump() if hex_dump else None
    while True:
        await room.wait()
        data = await channel.receive()
        if not data:
            return fdcopy.Ending.EOF
        received.bytes += len(data)
        received.chunks += 1
        out.write(dump.feed(data) if dump is not None else data)
        if out.closed:
            return fdcopy.Ending.OUTPUT_CLOSED


async def _send(
    channel: TlsChannel,
    queued: _Input,
    reading: asyncio.Future[fdcopy.Ending],
    sent: fdcopy.Progress,
) -> fdcopy.Ending:
    while True:
        data = queued.take()
        if data is None:
            if reading.done():
                # Everything read is delivered (the thread hands chunks over before it
                # reports the end), so the input is really over.
                ending = reading.result()
                await channel.close_sending()
                return ending
            await queued.arrived.wait()  # set by a chunk, or by the end of the input
            continue
        await channel.send(data)
        sent.bytes += len(data)
        sent.chunks += 1


def _fd(stream: Stream) -> int:
    return stream if isinstance(stream, int) else stream.fileno()
