"""The chat load generator: processes full of clients that join one room, send on an
open-loop schedule, and count and time what the server delivers.

Layout (see README.md): one *sender* process holds the 10 senders (and, for the slow
consumer scenario, the client that never reads); one or more *receiver* processes hold
everybody else. All of them are pinned to the load CPU, apart from the server's.
Receivers are telnet-style clients of the lines door, or browsers: WebSocket clients
of the web door (`WebReader`); the senders are always on the lines door.

- Deliveries are counted by the one-byte marker `~` with `bytes.count`: C speed, and a
  one-byte marker cannot be cut in two by a read boundary. IRC servers may put `~` in
  a user name (`bob!~bob@host`), so IRC clients count ` :~`, the marker at the start
  of a message's text, keeping the last two bytes of each read for the next.
- Each message carries its *intended* send time (CLOCK_MONOTONIC, µs, hex) after the
  marker, so latency is measured from when it should have left, not from when a late
  generator got round to it: a stall anywhere shows up (no coordinated omission).
- Only a sample of receivers parse lines and record latencies.
- The coordinator talks to the processes over pipes, with small tuples.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import math
import multiprocessing
import os
import random
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from benchmarks import util
from soketler.protocols import codes, wording
from soketler.protocols.events import Error

SENDERS = 10
MARK = b"~"
STAMP = re.compile(rb"~([0-9a-f]+)\.")
# A flood line's tag, before its sequence number, by sender (see _flood_line).
FLOOD_TAGS = [b"~f%d:" % sender for sender in range(SENDERS)]
# How soketler begins a refusal ("Not sent: the server is busy …").
REFUSED = wording.error_text(Error(codes.BUSY)).split(":", 1)[0].encode() + b":"
QUIT = re.compile(rb"-- (\S+) quit \(([^)\r\n]*)\)")
REGISTERED = b"You are in #lobby"
MEMBERS = b"-- #lobby ("
# A browser's registration ends with the end of its #lobby replay.
WEB_REGISTERED = b'"type":"history"'
# What a browser counts: frame headers hold any byte (0x7E, "~", is the length byte of
# every frame of 126 bytes or more), so the marker is where the text begins.
WEB_MARK = b'"text":"~'
IRC_MARK = b" :~"
IRC_JOINED = b" 366 "  # RPL_ENDOFNAMES: the JOIN is complete
IRC_ROOM = b"#lobby"
# Clients of many rooms enter theirs with the JSON flavour's hello (no stop in #lobby,
# which would make one room of everyone); their registration ends with the member list.
JSON_REGISTERED = b'"type":"who"'


@dataclass(frozen=True)
class ChatTarget:
    kind: str  # "soketler" (registers, echoes to the sender), "ncat" (neither), "ngircd"
    port: int
    host: str = util.HOST
    server_pid: int = 0
    register: bool = True  # False: soketler clients connect and never choose a nickname
    irc: bool = False  # clients speak IRC (NICK, USER, JOIN #lobby, PRIVMSG)
    web_port: int = 0  # soketler's web door, for receivers that are browsers
    # Other processes whose CPU counts as the server's (worker processes, Redis).
    other_pids: tuple[int, ...] = ()

    @property
    def server_pids(self) -> tuple[int, ...]:
        return (self.server_pid, *self.other_pids)

    @property
    def registers(self) -> bool:
        return self.irc or (self.kind == "soketler" and self.register)

    @property
    def echoes(self) -> bool:
        """Whether a sender gets its own message back (and is counted): soketler's
        plain door does; IRC servers do not without echo-message; ncat does not."""
        return self.kind == "soketler" and not self.irc


class Tally:
    """What one process has seen since the coordinator last asked."""

    __slots__ = ("closed", "count", "latencies", "quits", "refused")

    def __init__(self) -> None:
        self.count = 0
        self.closed = 0
        self.refused = 0  # refusals the senders got (soketler's "Not sent: …")
        self.latencies: list[int] = []
        self.quits: list[tuple[int, str, str]] = []


class Client(asyncio.Protocol):
    def __init__(
        self, tally: Tally, nick: bytes | None, sample: bool, room: str | None = None
    ) -> None:
        self.tally = tally
        self.nick = nick
        self.sample = sample
        self.room = room  # enter this room (JSON flavour) rather than #lobby
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        # Set while the transport holds bytes the kernel has not taken (flood senders
        # set their high-water mark to 0, so this means "the socket is full").
        self.writable: asyncio.Future[None] | None = None
        self.lost = False
        self.watch_refusals = False
        # Markers counted by this client (a flood checks each client's share).
        self.count = 0
        # After a flood: per sender, the highest line number seen so far (see _track).
        self.last: list[int] | None = None
        self.own = -1  # the sender whose lines this client does not get (ncat's senders)
        self.closed_books = False
        self.keep = False
        self._recent = b""
        self._before = b""
        self._carry = b""
        self.registered = nick is None
        self.closing = False
        self._buf = b""
        self._scan = 0
        self._pending = b""
        self.started = 0
        self.done = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.nick is not None and self.room is not None:
            hello = {"type": "hello", "nick": self.nick.decode(), "room": self.room, "replay": 0}
            transport.write(json.dumps(hello).encode() + b"\n")  # type: ignore[attr-defined]
        elif self.nick is not None:
            transport.write(self.nick + b"\r\n")  # type: ignore[attr-defined]
        else:
            self._ready()

    def _ready(self) -> None:
        self.done = util.mono_us()
        if not self.ready.done():
            self.ready.set_result(None)

    def data_received(self, data: bytes) -> None:
        if not self.registered:
            data = self._register(data)
            if not data:
                return
        if self.watch_refusals:
            self.tally.refused += data.count(REFUSED)
        if self.closed_books:
            return
        count = data.count(MARK)
        self.tally.count += count
        self.count += count
        if self.last is not None:
            self._track(data)
        elif self.keep:
            # For the ledger at the end of a flood: the last piece, and the end of
            # the one before (a tag cut in two by the boundary).
            self._before = self._recent[-24:]
            self._recent = data
        if self.sample:
            self._parse(data)

    def _track(self, data: bytes) -> None:
        """Notes, per sender, the number of its last line in `data` (ten searches
        from the end, so it is not done while a flood is measured). A sender's lines
        reach a client in order, so a client that lost none has counted, from each
        sender, its last line's number + 1 lines."""
        if self._carry:
            data, self._carry = self._carry + data, b""
        last = self.last
        assert last is not None
        for sender in range(len(last)):
            tag = FLOOD_TAGS[sender]
            end = len(data)
            while (at := data.rfind(tag, 0, end)) >= 0:
                stop = data.find(b" ", at, at + 24)
                # A tag that does not parse was cut by the end of `data` (it is kept
                # for the next piece) or, with ncat, by the prefix it puts before
                # each piece it forwards: the line before it tells.
                try:
                    seq = int(data[at + len(tag) : stop], 16) if stop > 0 else -1
                except ValueError:
                    seq = -1
                if seq >= 0:
                    last[sender] = max(last[sender], seq)
                    break
                end = at
        tail = data.rfind(MARK, max(0, len(data) - 24))
        if tail >= 0 and data.find(b" ", tail) < 0:
            self._carry = data[tail:]
        # Once every sender has been seen, the count and the numbers agree: the books
        # close, and from then on this client reads without counting (cheap, so the
        # load generator catches up and holds nobody back).
        own = self.own
        if all(n >= 0 for s, n in enumerate(last) if s != own):
            self.closed_books = True

    def start_tracking(self) -> None:
        """After a flood: from the last pieces kept, then from what comes next."""
        self.last = [-1] * SENDERS
        self._carry = b""
        before, recent, self._before, self._recent = self._before, self._recent, b"", b""
        self._track(before)
        self._track(recent)

    @property
    def untagged(self) -> int:
        """Lines counted whose tag has not come in full yet (0 or 1)."""
        return 1 if self._carry else 0

    def _register(self, data: bytes) -> bytes:
        """Registration ends with the members line after 'You are in #lobby' (in a
        room of its own: the room's member list); returns whatever came after it."""
        buf = self._buf = self._buf + data
        if self.room is not None:
            at = buf.find(JSON_REGISTERED)
            end = buf.find(b"\n", at) if at >= 0 else -1
            if end < 0:
                return b""
            self.registered = True
            self._buf = b""
            self._ready()
            return buf[end + 1 :]
        at = buf.find(REGISTERED, max(0, self._scan - len(REGISTERED)))
        if at >= 0:
            members = buf.find(MEMBERS, at)
            end = buf.find(b"\n", members) if members >= 0 else -1
            if end >= 0:
                self.registered = True
                self._buf = b""
                self._ready()
                return buf[end + 1 :]
        else:
            self._scan = len(buf)
        return b""

    def _parse(self, data: bytes) -> None:
        arrived = util.mono_us()
        pending = self._pending + data
        cut = pending.rfind(b"\n") + 1
        self._pending = pending[cut:]
        chunk = pending[:cut]
        latencies = self.tally.latencies
        for stamp in STAMP.findall(chunk):
            latencies.append(arrived - int(stamp, 16))
        if b" quit (" in chunk:
            for nick, reason in QUIT.findall(chunk):
                self.tally.quits.append((arrived, nick.decode(), reason.decode()))

    def pause_writing(self) -> None:
        if self.writable is None or self.writable.done():
            self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.resume_writing()
        if not self.closing:
            self.tally.closed += 1
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before registering: {exc}"))


class IrcClient(Client):
    """A load client speaking IRC: registers and joins #lobby in one write, then counts
    the messages it reads by ` :~` (see the module's docstring)."""

    def __init__(self, tally: Tally, nick: bytes | None, sample: bool) -> None:
        super().__init__(tally, nick, sample)
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        assert self.nick is not None
        nick = self.nick
        transport.write(  # type: ignore[attr-defined]
            b"NICK %s\r\nUSER %s 0 * :%s\r\nJOIN %s\r\n" % (nick, nick, nick, IRC_ROOM)
        )

    def data_received(self, data: bytes) -> None:
        if not self.registered:
            data = self._register(data)
            if not data:
                return
        counted = self._tail + data
        self.tally.count += counted.count(IRC_MARK)
        self._tail = data[-2:]
        if b"PING" in data:
            self._pong(data)
        if self.sample:
            self._parse(data)

    def _pong(self, data: bytes) -> None:
        # A server that asks whether an idle reader is there gets an answer.
        for line in data.split(b"\r\n"):
            if line.startswith(b"PING ") and self.transport is not None:
                self.transport.write(b"PONG " + line[5:] + b"\r\n")

    def _register(self, data: bytes) -> bytes:
        """Registration ends with the end of #lobby's names; returns what came after."""
        buf = self._buf = self._buf + data
        at = buf.find(IRC_JOINED, max(0, self._scan - len(IRC_JOINED)))
        while at >= 0:
            end = buf.find(b"\n", at)
            if end < 0:
                return b""
            if IRC_ROOM in buf[at:end]:
                self.registered = True
                self._buf = b""
                self._ready()
                return buf[end + 1 :]
            at = buf.find(IRC_JOINED, end)
        self._scan = len(buf)
        if b"PING" in buf:
            self._pong(buf)
            self._buf = buf = buf.rsplit(b"\n", 1)[-1]
            self._scan = len(buf)
        return b""


class WebReader(Client):
    """A browser: the WebSocket handshake by hand, a masked `hello` frame, then each
    message counted by `WEB_MARK` (what a read cuts in two is counted with the next
    read). Reads only; it sends nothing after its hello."""

    def __init__(self, tally: Tally, nick: bytes | None, sample: bool, host: str, port: int):
        super().__init__(tally, nick, sample)
        self.upgraded = False
        self.host = host
        self.port = port
        self._tail = b""

    def data_received(self, data: bytes) -> None:
        if not self.registered:
            data = self._register(data)
            if not data:
                return
        joined = self._tail + data
        self.tally.count += joined.count(WEB_MARK)
        self._tail = joined[1 - len(WEB_MARK) :]
        if self.sample:
            self._parse(data)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(  # type: ignore[attr-defined]
            (
                f"GET /ws HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def _register(self, data: bytes) -> bytes:
        buf = self._buf = self._buf + data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return b""
            if not buf.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(f"no WebSocket: {buf[:80]!r}")
            self.upgraded = True
            buf = self._buf = buf[end + 4 :]
            hello = json.dumps({"type": "hello", "nick": (self.nick or b"").decode()})
            assert self.transport is not None
            self.transport.write(_client_frame(hello.encode()))
        at = buf.find(WEB_REGISTERED)
        close = buf.find(b"}", at) if at >= 0 else -1
        if close < 0:
            return b""
        self.registered = True
        self._buf = b""
        self._ready()
        return buf[close + 1 :]

    def _parse(self, data: bytes) -> None:
        # Frames, not lines: every stamp in what arrived is whole once its frame is, and
        # a frame cut by a read is finished by the next one; stamps are read up to the
        # last whole message text (ended by its closing quote).
        arrived = util.mono_us()
        pending = self._pending + data
        cut = pending.rfind(b'",') + 1
        self._pending = pending[cut:]
        latencies = self.tally.latencies
        for stamp in STAMP.findall(pending[:cut]):
            latencies.append(arrived - int(stamp, 16))


def _client_frame(payload: bytes) -> bytes:
    """A masked text frame, as a browser sends (short payloads only: a hello)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x81, 0x80 | len(payload))) + mask + masked


@dataclass
class ProcessPlan:
    """What one generator process does."""

    nicks: list[str]
    samples: int = 0  # this many of its clients parse timestamps
    sender: bool = False
    slow_nick: str | None = None  # a client that never reads (4 KiB SO_RCVBUF)
    concurrency: int = 200  # connections being opened at once
    pace: float = 0.0  # seconds between connection attempts
    source: str = "127.0.0.1"
    deadline: float = 0.0  # seconds to connect and register; then report what is done
    web: bool = False  # its clients are browsers on the web door
    rooms: list[str] | None = None  # each client's room (JSON flavour), None: #lobby


# Seconds between two samples of the deliveries while a flood goes on.
TIMELINE_STEP = 0.25
# Lines a flood sender hands its transport at once.
FLOOD_BLOCK = 64


def _flood_line(sender: int, seq: int, size: int) -> bytes:
    # Not a timestamp (no "~hex." for the sampled clients to take for one): a flood is
    # paced by TCP, not by a schedule, so there is no intended send time to measure from.
    head = b"~f%d:%x " % (sender, seq)
    return head + b"x" * max(0, size - len(head) - 2) + b"\r\n"


def _message(intended_us: int, sender: int, size: int) -> bytes:
    head = b"~%x.%d " % (intended_us, sender)
    return head + b"x" * max(0, size - len(head) - 2) + b"\r\n"


def _json_message(intended_us: int, sender: int, size: int) -> bytes:
    text = _message(intended_us, sender, size - 24)[:-2].decode()
    return b'{"type":"say","text":"' + text.encode() + b'"}\n'


def _irc_message(intended_us: int, sender: int, size: int) -> bytes:
    return b"PRIVMSG " + IRC_ROOM + b" :" + _message(intended_us, sender, size)


class Worker:
    """The body of one generator process (runs on its own uvloop loop)."""

    def __init__(self, conn: Connection, target: ChatTarget, plan: ProcessPlan) -> None:
        self.conn = conn
        self.target = target
        self.plan = plan
        self.tally = Tally()
        self.clients: list[Client] = []
        self.slow: Client | None = None
        self.slow_sock: socket.socket | None = None
        self.stopped = asyncio.Event()
        self.sending: asyncio.Future[None] | None = None
        self.written: list[int] = []  # lines each flood sender handed its socket
        self.timeline: list[tuple[int, int]] = []  # (µs, deliveries so far) in a flood
        self._sampler: asyncio.TimerHandle | None = None

    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            registrations, unfinished = await self._connect_all()
        except Exception as exc:  # reported to the coordinator, which gives up cleanly
            self.conn.send(("failed", f"{type(exc).__name__}: {exc}"))
            return
        self.conn.send(("ready", registrations, unfinished))
        loop.add_reader(self.conn.fileno(), self._command)
        await self.stopped.wait()

    async def _connect_all(self) -> tuple[list[tuple[int, int]], int]:
        loop = asyncio.get_running_loop()
        plan = self.plan
        gate = asyncio.Semaphore(plan.concurrency)
        sample_every = max(1, len(plan.nicks) // plan.samples) if plan.samples else 0

        async def one(index: int, nick: str) -> Client:
            sample = bool(sample_every) and index % sample_every == 0
            sample = sample and index // sample_every < plan.samples
            name = nick.encode() if self.target.registers else None
            host = self.target.host
            port = self.target.web_port if plan.web else self.target.port

            def make() -> Client:
                if plan.web:
                    return WebReader(self.tally, name, sample, host, port)
                if self.target.irc:
                    return IrcClient(self.tally, name, sample)
                room = plan.rooms[index] if plan.rooms else None
                return Client(self.tally, name, sample, room)

            async with gate:
                started = util.mono_us()
                _, client = await loop.create_connection(
                    make, host, port, local_addr=(plan.source, 0)
                )
                client.started = started
                if plan.pace:
                    await asyncio.sleep(plan.pace)
            await client.ready
            return client

        tasks = [asyncio.ensure_future(one(i, nick)) for i, nick in enumerate(plan.nicks)]
        if plan.deadline:
            # A bounded storm: report who made it in time; the rest are abandoned.
            done, pending = await asyncio.wait(tasks, timeout=plan.deadline)
            for task in pending:
                task.cancel()
            self.clients = [t.result() for t in done if not t.exception()]
            return [(c.started, c.done) for c in self.clients], len(tasks) - len(self.clients)
        try:
            self.clients = list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        if plan.slow_nick is not None:
            await self._connect_slow(plan.slow_nick)
        return [(c.started, c.done) for c in self.clients], 0

    async def _connect_slow(self, nick: str) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        # Before connect, so the window the client advertises is small from the start.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        sock.bind((self.plan.source, 0))
        await loop.sock_connect(sock, (self.target.host, self.target.port))
        name = nick.encode() if self.target.registers else None
        _, client = await loop.create_connection(lambda: Client(Tally(), name, False), sock=sock)
        await client.ready
        assert client.transport is not None
        client.transport.pause_reading()  # from now on it never reads
        self.slow = client

    # --- commands from the coordinator ------------------------------------------------

    def _command(self) -> None:
        # The loop's reader makes the pipe non-blocking, and a large reply (a step's
        # latencies) would then fail half-written: replies are sent blocking.
        os.set_blocking(self.conn.fileno(), True)
        try:
            message = self.conn.recv()
        except EOFError:
            self._stop()
            return
        kind = message[0]
        tally = self.tally
        if kind == "poll":
            self.conn.send((tally.count, tally.closed))
        elif kind == "snap":
            self.conn.send(
                (
                    tally.count,
                    tally.closed,
                    tally.latencies,
                    tally.quits,
                    util.self_cpu(),
                    tally.refused,
                )
            )
            tally.latencies = []
            tally.quits = []
        elif kind == "send":
            self.sending = asyncio.ensure_future(self._send(*message[1:]))
        elif kind == "flood":
            self.sending = asyncio.ensure_future(self._flood(*message[1:]))
        elif kind == "keep":
            for index, client in enumerate(self.clients):
                client.keep = True
                client.own = self._own(index)
            self.timeline = []
            self._sample()
            self.conn.send(("keeping",))
        elif kind == "track":
            self._sample()
            if self._sampler is not None:
                self._sampler.cancel()
                self._sampler = None
            for client in self.clients:
                client.start_tracking()
            self.conn.send(("tracking",))
        elif kind == "timeline":
            self.conn.send(self.timeline)
        elif kind == "taken":
            self.conn.send(self._taken(*message[1:]))
        elif kind == "track-poll":
            self.conn.send(self._unchecked())
        elif kind == "ledger":
            self.conn.send(self._ledger())
        elif kind == "slow-alive":
            self.conn.send(self._slow_alive())
        elif kind == "stop":
            self._stop()

    def _own(self, index: int) -> int:
        """The sender whose lines this client does not get (-1: none): flood senders
        are the clients of the same index in the sender process, and only soketler
        sends a line back to its sender."""
        return index if self.plan.sender and self.target.kind != "soketler" else -1

    def _unchecked(self) -> int:
        """Connected clients that have not yet seen a line from every sender."""
        return sum(not (c.closed_books or c.lost) for c in self.clients)

    def _ledger(self) -> list[tuple[int, list[int], int, bool, int]]:
        return [
            (c.count, c.last or [-1] * SENDERS, c.untagged, c.lost, self._own(i))
            for i, c in enumerate(self.clients)
        ]

    def _slow_alive(self) -> bool:
        """Whether the server still holds the client that never reads."""
        if self.slow is None or self.slow.transport is None:
            return False
        sock = self.slow.transport.get_extra_info("socket")
        try:
            # TCP_INFO's first byte is the state; 1 is ESTABLISHED. Reading the socket
            # would show us the RST only after the 4 MB the kernel buffered for it.
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        except OSError:
            return False
        return bool(info[0] == 1)

    async def _send(self, msg_rate: float, duration: float, shape: str, t0: int, size: int) -> None:
        """Sends `msg_rate` messages a second in all for `duration` seconds, from t0.

        spread: message k leaves at t0 + k/rate from sender k mod 10, evenly apart.
        step:   the 10 senders send together, every 10/rate seconds (bursts).
        """
        senders = [c.transport for c in self.clients]
        count = len(senders)
        message = _irc_message if self.target.irc else _message
        if self.plan.rooms:
            message = _json_message
        total = int(msg_rate * duration)
        gap = 1e6 / msg_rate
        late_max = 0
        k = 0
        while k < total:
            current = util.mono_us()
            while k < total:
                due = t0 + int((k if shape == "spread" else (k // count) * count) * gap)
                if due > current:
                    break
                transport = senders[k % count]
                if transport is not None:
                    transport.write(message(due, k % count, size))
                late_max = max(late_max, current - due)
                k += 1
            if k < total:
                due = t0 + int((k if shape == "spread" else (k // count) * count) * gap)
                await asyncio.sleep(max(0.0, (due - util.mono_us()) / 1e6))
        self.conn.send(("sent", total, late_max))

    def _sample(self) -> None:
        """Notes (when, deliveries so far) every TIMELINE_STEP while a flood goes on:
        taken here, not asked for by the coordinator, so a busy process samples late
        but never delays anything."""
        self.timeline.append((util.mono_us(), self.tally.count))
        self._sampler = asyncio.get_running_loop().call_later(TIMELINE_STEP, self._sample)

    async def _flood(self, seconds: float, size: int) -> None:
        """Every sender writes lines as fast as its socket takes them, for `seconds`.

        A sender writes a block of lines only when its transport holds nothing (its
        high-water mark is 0): the kernel, that is TCP, decides the pace. Senders keep
        reading all along (they are members of the room).
        """
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        written = [0] * len(self.clients)

        async def one(index: int, client: Client) -> None:
            transport = client.transport
            if transport is None:
                return
            transport.set_write_buffer_limits(high=0)
            while not client.lost:
                left = end - loop.time()
                if left <= 0:
                    return
                waiting = client.writable
                if waiting is not None and not waiting.done():
                    await asyncio.wait([waiting], timeout=left)
                    continue
                first = written[index]
                seqs = range(first, first + FLOOD_BLOCK)
                transport.write(b"".join([_flood_line(index, seq, size) for seq in seqs]))
                written[index] = first + FLOOD_BLOCK
                # The socket may have room for the next block at once: let the loop
                # read (and answer the coordinator) in between.
                await asyncio.sleep(0)

        for client in self.clients:
            client.watch_refusals = True
        began = util.mono_us()
        await asyncio.gather(*(one(i, c) for i, c in enumerate(self.clients)))
        self.written = written
        self.conn.send(("flooded", written, began, util.mono_us()))

    def _taken(self, size: int) -> list[int]:
        """Per sender, the lines the server has read from its socket so far: what was
        written, less what our transport, our socket and the server's socket still
        hold (the last two from /proc/net/tcp)."""
        queues = util.tcp_queues()
        server = util.proc_address(self.target.host, self.target.port)
        taken = []
        for index, client in enumerate(self.clients):
            transport = client.transport
            if transport is None or client.lost:
                taken.append(0)
                continue
            host, port = transport.get_extra_info("sockname")[:2]
            mine = util.proc_address(host, port)
            ours = queues.get((mine, server), (0, 0))[0]
            theirs = queues.get((server, mine), (0, 0))[1]
            unsent = transport.get_write_buffer_size() + ours + theirs
            taken.append(max(0, self.written[index] * size - unsent) // size)
        return taken

    def _stop(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.conn.fileno())
        for client in [*self.clients, *([self.slow] if self.slow else [])]:
            client.closing = True
            if client.transport is not None:
                client.transport.abort()
        self.stopped.set()


def _worker_main(conn: Connection, target: ChatTarget, plan: ProcessPlan) -> None:
    util.pin_self(util.LOAD_CPU)
    if plan.sender:
        # The senders share their CPU with the receivers; a higher priority keeps them
        # on schedule (where allowed: it needs root). Lateness is measured either way.
        with contextlib.suppress(OSError):
            os.nice(-10)
    try:
        import uvloop

        factory: Any = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(Worker(conn, target, plan).main())
    with contextlib.suppress(OSError):
        conn.send(("stopped",))


# --- the coordinator's side ---------------------------------------------------------------


@dataclass
class StepResult:
    rate: float  # offered deliveries per second
    shape: str
    sent: int
    expected: int
    delivered: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    latencies: int  # how many latencies the percentiles come from
    generator_cpu: float  # share of one core used by all generator processes
    server_cpu: float  # share of one core used by the server
    sender_late_ms: float  # worst lateness of the sender against its schedule
    dropped: int  # clients the server closed during the step
    quits: list[tuple[float, str, str]]  # (seconds after the step began, nick, reason)

    @property
    def share(self) -> float:
        return self.delivered / self.expected if self.expected else 0.0

    def sustained(self, p99_limit_ms: float = 100.0) -> bool:
        return self.delivered >= self.expected and self.p99_ms <= p99_limit_ms

    def line(self) -> str:
        return (
            f"{util.human_rate(self.rate):>6}/s {self.shape:6} delivered "
            f"{100 * self.share:6.2f}%  p50 {self.p50_ms:7.1f} ms  p99 {self.p99_ms:7.1f} ms"
            f"  server {100 * self.server_cpu:3.0f}%  load {100 * self.generator_cpu:3.0f}%"
            + (f"  dropped {self.dropped}" if self.dropped else "")
        )


@dataclass
class FloodResult:
    seconds: float  # how long the senders wrote
    written: int  # lines the senders handed to their sockets
    taken: int  # of those, lines the server had read when the senders stopped
    in_window: int  # deliveries counted while the senders wrote
    owed: int  # deliveries owed for the lines the server passed on (see Fleet._settle)
    delivered: int  # deliveries made
    behind: int  # lines the slowest connected client was behind the furthest, at the end
    unchecked: int  # connected clients that had no line from some sender (see _settle)
    generator_cpu: float  # share of one core, all generator processes, in the window
    server_cpu: float  # share of one core, in the window
    dropped: int  # clients whose connection the server closed or reset
    refused: int  # lines the server answered with a refusal (soketler: "Not sent: …")
    quits: list[tuple[float, str, str]]  # (monotonic seconds, nick, reason), sampled
    # per generator process: (seconds since the senders began, deliveries so far)
    timelines: list[list[tuple[float, int]]]

    @property
    def rate(self) -> float:
        """Deliveries a second while the senders wrote."""
        return self.in_window / self.seconds if self.seconds else 0.0

    @property
    def share(self) -> float:
        return self.delivered / self.owed if self.owed else float("nan")

    @property
    def longest_pause(self) -> float:
        """The longest time, while the senders wrote, that a generator process saw
        nothing arrive (between its samples)."""
        longest = 0.0
        for timeline in self.timelines:
            pause = 0.0
            for (t0, n0), (t1, n1) in itertools.pairwise(timeline):
                if t1 <= 0 or t0 >= self.seconds:
                    continue
                pause = pause + min(t1, self.seconds) - max(t0, 0.0) if n1 == n0 else 0.0
                longest = max(longest, pause)
        return longest

    def line(self) -> str:
        return (
            f"{util.human_rate(self.rate):>6}/s for {self.seconds:.1f} s (longest pause "
            f"{self.longest_pause:.1f} s)  delivered {100 * self.share:6.2f}%  dropped "
            f"{self.dropped}  lines written "
            f"{self.written:,}, read by the server {self.taken:,}, refused {self.refused:,}"
            f"  server {100 * self.server_cpu:3.0f}%  load {100 * self.generator_cpu:3.0f}%"
            + (f"  unchecked {self.unchecked}" if self.unchecked else "")
        )


class Fleet:
    """Many clients in one room of a chat server, driven from this process."""

    def __init__(
        self,
        target: ChatTarget,
        clients: int,
        *,
        samples: int = 20,
        slow: bool = False,
        per_process: int = 5000,
        timeout: float = 120.0,
        deadline: float = 0.0,
        web: bool = False,
        rooms: int = 1,
    ) -> None:
        """`rooms` > 1: the clients are spread over that many rooms, each with one
        sender of its own (and no #lobby)."""
        self.target = target
        self.clients = clients
        self.rooms = rooms
        self.slow = slow
        self.timeout = timeout
        self._procs: list[multiprocessing.process.BaseProcess] = []
        self._conns: list[Connection] = []
        self.registrations: list[tuple[int, int]] = []
        self.unfinished = 0
        self.setup_seconds = 0.0
        tag = random.randrange(1 << 30)
        senders = SENDERS if rooms == 1 else rooms
        names = [f"#r{tag}x{n}" for n in range(rooms)] if rooms > 1 else None
        receivers = clients - senders
        nprocs = max(1, math.ceil(receivers / per_process))
        ncat = target.kind == "ncat"
        # ncat's listen backlog is 10 and it accepts in bursts: faster than one
        # connection per 2 ms, SYNs get dropped and each drop costs a 1 s retransmit.
        concurrency, pace = (1, 0.002) if ncat else (200, 0.0)
        if target.kind == "ngircd":
            # Measured: with 200 connections opening at once, ngIRCd drops or never
            # answers about one in ten of them (its listen backlog is small); with 20
            # at a time, none.
            concurrency = 20
        plans = [
            ProcessPlan(
                [f"s{tag}x{i}" for i in range(senders)],
                sender=True,
                slow_nick=f"slow{tag}" if slow else None,
                concurrency=concurrency,
                pace=pace,
                rooms=names,
            )
        ]
        for p in range(nprocs):
            share = range(p, receivers, nprocs)
            plans.append(
                ProcessPlan(
                    [f"r{tag}x{i}" for i in share],
                    samples=samples // nprocs + (1 if p < samples % nprocs else 0),
                    concurrency=concurrency,
                    pace=pace,
                    web=web,
                    rooms=[names[i % rooms] for i in share] if names else None,
                )
            )
        for plan in plans:
            plan.deadline = deadline
            # A fresh source address per process and run: the ephemeral ports that
            # earlier runs left in TIME_WAIT belong to other addresses.
            plan.source = "127." + ".".join(str(random.randrange(1, 255)) for _ in range(3))
        self._plans = plans

    @property
    def members(self) -> int:
        return self.clients + (1 if self.slow else 0)

    @property
    def room_size(self) -> float:
        """Members of each room (the rooms share the clients evenly)."""
        return self.members / self.rooms

    @property
    def recipients(self) -> float:
        """Deliveries per message that we count: soketler's plain door delivers to the
        sender too, ncat and IRC servers to everyone but the sender; the client that
        never reads is not counted."""
        size = self.clients / self.rooms
        return size if self.target.echoes else size - 1

    def __enter__(self) -> Fleet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        started = util.now()
        conns: list[Connection | None] = [None] * len(self._plans)

        def spawn(index: int) -> Connection:
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(theirs, self.target, self._plans[index]))
            proc.daemon = True
            proc.start()
            theirs.close()
            self._procs.append(proc)
            conns[index] = mine
            return mine

        try:
            # Receivers all at once (a join storm), then the senders, so that by the
            # time the senders join, everyone who will count is already in the room.
            receivers = [spawn(i) for i in range(1, len(self._plans))]
            for conn in [*receivers, None]:
                _, registrations, unfinished = self._expect(conn or spawn(0), "ready", self.timeout)
                self.registrations += registrations
                self.unfinished += unfinished
        finally:
            self._conns = [c for c in conns if c is not None]
        self.setup_seconds = util.now() - started

    def _expect(self, conn: Connection, kind: str, timeout: float) -> Any:
        if not conn.poll(timeout):
            raise TimeoutError(f"no '{kind}' from a load process in {timeout:.0f} s")
        reply = conn.recv()
        if reply[0] == "failed":
            raise RuntimeError(f"load process failed: {reply[1]}")
        if reply[0] != kind:
            raise RuntimeError(f"load process said {reply[0]!r}, expected {kind!r}")
        return reply

    def _ask(self, message: tuple[Any, ...]) -> list[Any]:
        for conn in self._conns:
            conn.send(message)
        replies = []
        for conn in self._conns:
            if not conn.poll(30):
                raise TimeoutError("a load process does not answer")
            replies.append(conn.recv())
        return replies

    def counts(self) -> tuple[int, int]:
        replies = self._ask(("poll",))
        return sum(r[0] for r in replies), sum(r[1] for r in replies)

    def quits(self, since_us: int) -> list[tuple[float, str, str]]:
        """The quits the sampled receivers have seen since the last step (their
        latencies are dropped), as (seconds after `since_us`, nick, reason)."""
        return [((q[0] - since_us) / 1e6, q[1], q[2]) for r in self._ask(("snap",)) for q in r[3]]

    def slow_alive(self) -> bool:
        sender = self._conns[0]
        sender.send(("slow-alive",))
        return bool(sender.recv())

    def step(
        self,
        rate: float,
        duration: float,
        shape: str,
        *,
        size: int = 64,
        stall: float = 1.0,
        drain: float = 5.0,
    ) -> StepResult:
        """Offers `rate` deliveries a second for `duration` seconds and waits (at most
        `drain` seconds, or until nothing arrives for `stall`) for them to arrive."""
        before = self._ask(("snap",))
        base = sum(r[0] for r in before)
        closed0 = sum(r[1] for r in before)
        cpu0 = sum(r[4] for r in before)
        server0 = sum(util.process_cpu(pid) for pid in self.target.server_pids)
        began = util.now()
        t0 = util.mono_us() + 50_000
        sender = self._conns[0]
        sender.send(("send", rate / self.room_size, duration, shape, t0, size))
        # The sender keeps answering polls while it sends, but nobody polls it now.
        _, sent, late_us = self._expect(sender, "sent", duration + 30)
        expected = round(sent * self.recipients)
        last, last_change = -1, util.now()
        deadline = util.now() + drain
        while True:
            got = self.counts()[0] - base
            if got >= expected or util.now() > deadline:
                break
            if got != last:
                last, last_change = got, util.now()
            elif util.now() - last_change > stall:
                break
            time.sleep(0.02)
        wall = util.now() - began
        after = self._ask(("snap",))
        server_cpu = sum(util.process_cpu(pid) for pid in self.target.server_pids) - server0
        latencies = sorted(x for r in after for x in r[2])
        quits = sorted(q for r in after for q in r[3])
        t0_s = t0 / 1e6
        return StepResult(
            rate=rate,
            shape=shape,
            sent=sent,
            expected=expected,
            delivered=sum(r[0] for r in after) - base,
            p50_ms=util.percentile(latencies, 50) / 1000,
            p99_ms=util.percentile(latencies, 99) / 1000,
            max_ms=(latencies[-1] / 1000) if latencies else float("nan"),
            latencies=len(latencies),
            generator_cpu=(sum(r[4] for r in after) - cpu0) / wall,
            server_cpu=server_cpu / wall,
            sender_late_ms=late_us / 1000,
            dropped=sum(r[1] for r in after) - closed0,
            quits=[(q[0] / 1e6 - t0_s, q[1], q[2]) for q in quits],
        )

    def flood(self, seconds: float, *, size: int = 64, wait: float = 10.0) -> FloodResult:
        """The senders write as fast as TCP lets them for `seconds`. Then every client
        notes the number of the last line it got from each sender, from what it
        kept of the end of the flood and, if that did not show every sender, from
        what the server sends next (it has plenty left of each; we wait at most
        `wait` seconds). The ledger (`_settle`) tells who missed what."""
        self._ask(("keep",))
        before = self._ask(("snap",))
        closed0 = sum(r[1] for r in before)
        cpu0 = sum(r[4] for r in before)
        server0 = util.process_cpu(self.target.server_pid)
        began = util.now()
        sender = self._conns[0]
        sender.send(("flood", seconds, size))
        _, written, start_us, end_us = self._expect(sender, "flooded", seconds + 30)
        # What it cost, and what arrived while the senders wrote: each process noted its
        # count every quarter of a second; read at the senders' start and end.
        server_cpu = util.process_cpu(self.target.server_pid) - server0
        wall = util.now() - began
        during = self._ask(("snap",))
        sender.send(("taken", size))
        taken = sender.recv()
        self._ask(("track",))
        timelines = self._ask(("timeline",))
        deadline = util.now() + wait
        while sum(self._ask(("track-poll",))) and util.now() < deadline:
            time.sleep(0.1)
        ledger = [row for rows in self._ask(("ledger",)) for row in rows]
        after = self._ask(("snap",))
        quits = sorted(q for r in [*during, *after] for q in r[3])
        owed, got, behind, unchecked = self._settle(ledger, taken, written)
        window = (end_us - start_us) / 1e6
        return FloodResult(
            seconds=window,
            written=sum(written),
            taken=sum(taken),
            in_window=round(
                sum(_at(t, end_us) - _at(t, start_us) for t in timelines if len(t) > 1)
            ),
            owed=owed,
            delivered=got,
            behind=behind,
            unchecked=unchecked,
            generator_cpu=(sum(r[4] for r in during) - cpu0) / wall,
            server_cpu=server_cpu / wall,
            dropped=sum(r[1] for r in after) - closed0,
            refused=sum(r[5] for r in after),
            quits=[(q[0] / 1e6, q[1], q[2]) for q in quits],
            timelines=[
                [((t - start_us) / 1e6, n - timeline[0][1]) for t, n in timeline]
                for timeline in timelines
            ],
        )

    @staticmethod
    def _settle(
        ledger: list[tuple[int, list[int], int, bool, int]], taken: list[int], written: list[int]
    ) -> tuple[int, int, int, int]:
        """Deliveries owed and made, from every client's count and last line numbers.

        A client still connected is owed, from each sender, its last line's number
        + 1 lines (a sender's lines arrive in order, so any shortfall is a line lost
        on the way). A client that was dropped is owed everything the server passed
        on to anyone: the furthest any connected client got, or, when nobody is
        connected any more, what the server read from the senders. A connected
        client that has had no line at all from some sender that wrote cannot be
        checked: it is left out of both, and counted as unchecked.

        Returns (owed, made, the most lines a connected client was behind the
        furthest one, clients unchecked)."""
        alive = [row for row in ledger if not row[3]]
        furthest = [max((row[1][s] for row in alive), default=-1) for s in range(SENDERS)]
        if not alive:
            furthest = [n - 1 for n in taken]
        owed = got = behind = unchecked = 0
        for count, last, untagged, lost, own in ledger:
            mine = [s for s in range(len(written)) if written[s] and s != own]
            if lost:
                owed += sum(furthest[s] + 1 for s in mine)
                got += count
                continue
            behind = max(behind, sum(furthest[s] - last[s] for s in mine))
            if any(last[s] < 0 for s in mine):
                unchecked += 1  # left out: every member gets the same lines
            else:
                owed += sum(last[s] + 1 for s in mine) + untagged
                got += count
        return owed, got, behind, unchecked

    def close(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.send(("stop",))
        for proc in self._procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        for conn in self._conns:
            conn.close()
        self._procs.clear()
        self._conns.clear()


def _at(timeline: list[tuple[int, int]], when: int) -> float:
    """A process's count at `when` (µs), between its two samples around it."""
    for (t0, n0), (t1, n1) in itertools.pairwise(timeline):
        if t0 <= when <= t1:
            return n0 + (n1 - n0) * (when - t0) / (t1 - t0) if t1 > t0 else n1
    return float(timeline[-1][1] if when > timeline[-1][0] else timeline[0][1])


def join_times(registrations: Sequence[tuple[int, int]]) -> list[int]:
    """When each client finished registering, in order (µs, CLOCK_MONOTONIC)."""
    return sorted(done for _, done in registrations)
