"""`listen -u`: a UDP listener that prints, or echoes, every datagram it gets.

UDP has no connections, so there is no "first client": every datagram is printed
(its source with -v), `--echo` answers each to its sender, and lines typed on stdin
go to whoever sent the latest datagram, which is the peer a person is talking to.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, cast

from soketler.tools import fdcopy
from soketler.tools.duplex import UDP_SEND_CHUNK
from soketler.tools.endpoints import show
from soketler.tools.hub import Log
from soketler.tools.streams import Output, read_input
from soketler.tools.transforms import CrlfLines, HexDump


class DatagramServer(asyncio.DatagramProtocol):
    def __init__(self, *, echo: bool, hex_dump: bool, log: Log, output: Output | None) -> None:
        self.echo = echo
        self.log = log
        self.output = output
        self.transport: asyncio.DatagramTransport | None = None
        self.last_peer: Any = None
        self.dropped = 0
        self._dump = HexDump() if hex_dump else None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDP transport does not inherit from asyncio.DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.last_peer = addr
        self.log(f"datagram from {show(addr)}: {len(data)} bytes")
        if self.echo:
            if self.transport is not None:
                self.transport.sendto(data, addr)
            return
        if self.output is None:
            return
        if self.output.full:
            # Datagrams may be dropped by design; queueing without bound may not.
            self.dropped += 1
            self.log(f"stdout is behind: dropped a datagram from {show(addr)}")
            return
        self.output.write(self._dump.feed(data) if self._dump is not None else data)

    def error_received(self, exc: Exception) -> None:
        # On Linux an ICMP "port unreachable" for an earlier reply lands here.
        self.log(f"error: {exc}")

    def send_input(self, data: bytes) -> None:
        if self.transport is None or self.last_peer is None:
            self.log(f"no peer has sent anything yet: {len(data)} bytes of input dropped")
            return
        self.transport.sendto(data, self.last_peer)


async def serve_udp(
    sock: socket.socket,
    *,
    stdin: int | None,
    stdout: int,
    echo: bool,
    hex_dump: bool,
    crlf: bool,
    log: Log,
    stop: asyncio.Event,
) -> DatagramServer:
    """Serves datagrams on the bound `sock` until `stop` is set."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    # The output exists before the endpoint does: a datagram may be waiting already.
    output = None if echo else Output(stdout)
    transport, server = await loop.create_datagram_endpoint(
        lambda: DatagramServer(echo=echo, hex_dump=hex_dump, log=log, output=output), sock=sock
    )
    stopper = fdcopy.Stopper()
    reading: asyncio.Future[fdcopy.Ending] | None = None
    if stdin is not None and not echo:
        always_open = threading.Event()
        always_open.set()
        reading = read_input(
            stdin,
            server.send_input,
            stopper=stopper,
            gate=always_open,
            transform=CrlfLines() if crlf else None,
            chunk=UDP_SEND_CHUNK,
        )
    try:
        await stop.wait()
    finally:
        transport.close()
        stopper.stop()
        if reading is not None:
            await asyncio.wait([reading], timeout=1.0)
        stopper.close()
        if server.output is not None:
            await server.output.aclose()
    return server
