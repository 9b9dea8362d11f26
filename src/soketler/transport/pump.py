"""The per-client pump, the same for every door: requests in at the rate the limits
allow, the hub's bytes out as the client reads them.

Input: a door's receiver turns bytes into requests; each line spends a token of the
client's bucket (`--rate`, `--burst`). Out of tokens, the socket is not read (the
kernel pushes back on the sender) until one is due: a paste is slowed down, with one
notice, not cut. A client is dropped for flooding only when more than `--flood-lines`
lines wait at once. When the server as a whole is behind with its output, lines wait
the same way until it catches up (transport/backlog.py).

Output: writes are queued and coalesced: however many events a client gets before its
turn in the flusher, its socket sees one write. What the kernel does not take stays in
the transport's buffer and counts against the client's SendQ (transport/backlog.py: a
client that stays above it is not reading, and is dropped; nobody waits for it).

The pump speaks to its transport through `Wire`, the part of an asyncio transport it
uses, so a door whose library gives it something else (a WebSocket, an SSH channel)
wraps that in a `Wire` and gets the same limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from soketler.core import texts
from soketler.core.session import Session
from soketler.protocols import codes
from soketler.protocols.events import Error, Info, Request
from soketler.protocols.ratelimit import TokenBucket

if TYPE_CHECKING:
    from soketler.core.config import Limits
    from soketler.core.hub import Hub
    from soketler.doors import Door, Receiver
    from soketler.transport.backlog import Backlog
    from soketler.transport.server import ChatServer

log = logging.getLogger("soketler.server")

# Lines one connection handles in one turn of the loop; the rest wait for the next turn,
# after what these said has been fanned out. Without a bound, ten senders flat out
# (uvloop reads 256 KiB at once: thousands of lines) fan out tens of thousands of
# messages in one turn, and every reader's queue is past its SendQ before a byte of it
# could be sent.
LINES_PER_TURN = 32

# What a client is told, once, when its lines start to wait for the rate limit.
SLOW_DOWN = "Slow down: past {burst} at once, lines go out {rate:g} a second; none are lost."


class Wire(Protocol):
    """What the pump needs of a transport (asyncio's transports have all of it)."""

    def write(self, data: bytes) -> None: ...

    def get_write_buffer_size(self) -> int: ...

    def is_closing(self) -> bool: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


class Pump:
    """One client of any door: the hub's `Peer`, and its input under the limits."""

    # Thousands of these live at once: slots keep each one small.
    __slots__ = (
        "_behind",
        "_bucket",
        "_checking",
        "_closing",
        "_counted",
        "_dirty",
        "_eof",
        "_held",
        "_nick_timer",
        "_out",
        "_out_size",
        "_overflowed",
        "_paused",
        "_probed_at",
        "_reading",
        "_receiver",
        "_room",
        "_told_slow",
        "_unsent",
        "_waiting",
        "address",
        "door",
        "reason",
        "server",
        "session",
        "transport",
    )

    def __init__(self, server: ChatServer, door: Door) -> None:
        self.server = server
        self.door = door
        self.transport: Wire | None = None
        self.session: Session | None = None
        self.address = ""
        self.reason = texts.CONNECTION_CLOSED
        # Made at the first byte: a connection that never says anything (a port scan,
        # a telnet left open) keeps no framer.
        self._receiver: Receiver | None = None
        # Idle connections are most of a big server, so what only a busy one needs is
        # made when first needed: the output queue and the rate limiter (made full at
        # the first line, as if it had filled up since). The queue is None between
        # flushes, the bytes themselves for one write, a list only for more: in a big
        # room most connections get one write per flush, and a list for each would be
        # thousands of objects a pass for the garbage collector to walk.
        self._out: bytes | list[bytes] | None = None
        self._out_size = 0
        # What may be queued before the next flush: the hard SendQ, less what the
        # transport still holds. (An int above 256 is an object: the limits' is shared.)
        self._room = self.backlog.hard_sendq
        # While the transport is behind (above its high-water mark): its unsent bytes
        # as counted in the backlog (0 when above the SendQ: that rule handles it).
        self._behind = False
        self._unsent = 0
        self._dirty = False
        self._closing = False
        self._overflowed = False
        self._counted = False
        self._eof = False
        # Lines waiting for the rate limit; made only for a client that gets throttled.
        self._waiting: deque[object] | None = None
        self._paused = False  # waiting for a token of the rate limit
        self._held = False  # waiting for the server's backlog to drain
        self._checking = 0  # password checks its door waits for (doors/logins.py)
        self._told_slow = False  # told to slow down since its lines last all ran
        self._reading = True
        self._probed_at = 0.0  # loop time its door asked whether it is there; 0: not asked
        self._bucket: TokenBucket | None = None
        self._nick_timer: asyncio.TimerHandle | None = None

    # The server's, not copies: every slot costs each of thousands of connections.
    @property
    def hub(self) -> Hub:
        return self.server.hub

    @property
    def limits(self) -> Limits:
        return self.server.config.limits

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.server.loop

    @property
    def backlog(self) -> Backlog:
        return self.server.backlog

    # --- the connection's life --------------------------------------------------------

    def start(self, transport: Wire, address: str) -> bool:
        """The transport is up: admit the client (or refuse it with one line) and let
        its door greet it. False when refused."""
        if not self.admit(transport, address):
            return False
        self.begin()
        return True

    def admit(self, transport: Wire, address: str) -> bool:
        """Counts the connection against the limits, or refuses it (False). A door whose
        clients log in first (SSH) admits at once and begins the session later, so
        connections that have not logged in yet count too."""
        self.transport = transport
        self.address = address
        refusal = self.server.admit(address)
        if refusal is not None:
            log.info("%s refused: %s", address or "unix", refusal)
            self._closing = True
            self.refuse(transport, refusal)
            return False
        self._counted = True
        self.server.connections.add(self)
        return True

    def refuse(self, transport: Wire, refusal: str) -> None:
        """Says why a connection is refused, in one line of its door, and closes it."""
        transport.write(self.door.refusal_line(refusal))
        transport.close()

    @property
    def receiver(self) -> Receiver:
        """The sans-I/O receiving side of this connection (its door's)."""
        receiver = self._receiver
        if receiver is None:
            receiver = self._receiver = self.door.new_receiver(self.server.config)
        return receiver

    @property
    def secure(self) -> bool:
        """Whether the connection is encrypted (a TLS port, HTTPS, SSH)."""
        return False

    def begin(self) -> None:
        """Opens the admitted client's session; its door greets it."""
        address = self.address
        self.session = self.door.open_session(self.hub, self, address, self.server.config)
        self.session.secure = self.secure
        self.session.last_activity = self.loop.time()
        if self.limits.nick_timeout > 0:
            self._nick_timer = self.loop.call_later(self.limits.nick_timeout, self._nick_timeout)

    def feed(self, data: bytes) -> None:
        """Bytes from the client."""
        if self._closing:
            return
        if self.session is not None:
            # Any byte says the client is there (and answers a probe).
            self.session.last_activity = self.loop.time()
            self._probed_at = 0.0
        receiver = self.receiver
        receiver.receive_data(data)
        negotiation = receiver.data_to_send()
        if negotiation:
            self.write(negotiation)
        events = receiver.events_received()
        if events:
            self._take(events)

    def feed_eof(self) -> None:
        """The client will send nothing more: the lines still waiting run, then the
        connection is closed once the replies are written (a half-closed `nc -N` reads
        them)."""
        self._eof = True
        receiver = self.receiver
        receiver.receive_eof()
        self._take(receiver.events_received())

    def lost(self, exc: Exception | None) -> None:
        """The transport is gone."""
        self._closing = True
        # Whatever it still owed counts in the server's backlog no more.
        self._discard_out()
        self._count_unsent(0)
        self.backlog.within_sendq(self)
        if self._nick_timer is not None:
            self._nick_timer.cancel()
        if exc is not None and self.reason == texts.CONNECTION_CLOSED:
            self.reason = f"Connection lost: {exc.strerror if isinstance(exc, OSError) else exc}"
        if self.session is not None:
            self.hub.close(self.session, self.reason, tell=False)
        if self._counted:
            self._counted = False
            self.server.release(self)
            log.info(
                "%s %s disconnected: %s",
                self.address or "unix",
                self.session.nick if self.session and self.session.nick else "-",
                self.reason,
            )

    # --- input: rate limit, backlog, then the door ---------------------------------------

    def _take(self, events: Sequence[object]) -> None:
        if self._waiting is None:
            self._waiting = deque(events)
        else:
            self._waiting.extend(events)
        self._run_waiting()

    def _run_waiting(self) -> None:
        session = self.session
        if session is None:
            return
        receiver = self._receiver
        codec = receiver.codec if receiver is not None else None
        if codec is not None and session.codec is not codec:
            session.codec = codec
        waiting = self._waiting
        limits = self.limits
        bucket = self._bucket
        if bucket is None:
            bucket = self._bucket = TokenBucket(limits.rate, limits.burst, self.loop.time())
        backlog = self.backlog
        handled = 0
        while waiting and not session.closed:
            if self._checking:
                # Its door waits for a password check: what the client asks next is
                # handled after the answer (and the socket is not read meanwhile).
                self._update_reading()
                return
            if handled >= LINES_PER_TURN:
                # What these lines said is fanned out only after this turn (the hub
                # delivers a commit's release once the current callback is over): let
                # that happen, and count in the backlog, before taking more.
                if not self._held:
                    self._held = True
                    backlog.hold(self)
                    self._update_reading()
                    self.loop.call_soon(backlog.drained)
                return
            handled += 1
            if backlog.overloaded:
                # The server is behind with its output: this line waits (not the
                # client's fault, so it is no flood) and so does the socket.
                if not self._held:
                    self._held = True
                    backlog.hold(self)
                    self._update_reading()
                return
            wait = bucket.take(self.loop.time())
            if wait > 0:
                if len(waiting) > limits.flood_lines:
                    self.hub.counts.floods[self.door.name] += 1
                    self.hub.close(session, texts.EXCESS_FLOOD)
                    return
                if not self._told_slow and session.registered:
                    self._told_slow = True
                    slow = SLOW_DOWN.format(burst=limits.burst, rate=limits.rate)
                    self.hub.send(session, Info(slow))
                if not self._paused:
                    self._paused = True
                    self._update_reading()
                    self.loop.call_later(wait, self._resume)
                return
            self._handle(session, waiting.popleft())
        self._waiting = None  # all handled: an idle client keeps no queue
        self._told_slow = False
        if self._eof and not session.closed:
            self.hub.close(session, texts.CONNECTION_CLOSED)

    def _handle(self, session: Session, event: object) -> None:
        try:
            self.door.handle(self.hub, session, event)
        except Exception:
            # A bug of ours, met by this one request: it fails alone, with a word to
            # its sender, and everyone else goes on.
            log.exception("%s: a request failed", self.address or "unix")
            re = event.id if isinstance(event, Request) else None
            self.hub.send(session, Error(codes.INTERNAL_ERROR, re=re))

    def _resume(self) -> None:
        """A token of the rate limit is due."""
        self._paused = False
        if not self._closing and self.transport is not None:
            try:
                self._run_waiting()
            finally:
                self._update_reading()

    def hold_input(self) -> None:
        """The door waits for something slow (a password check) before it may handle
        the client's next request: they wait, in order, and the socket is not read."""
        self._checking += 1

    def release_input(self) -> None:
        """What the door waited for has come: the requests held go on."""
        self._checking -= 1
        if not self._checking and not self._closing and self.transport is not None:
            try:
                self._run_waiting()
            finally:
                self._update_reading()

    def backlog_drained(self) -> None:
        """The server's output has drained: the lines held for it go on."""
        self._held = False
        if not self._closing and self.transport is not None:
            try:
                self._run_waiting()
            finally:
                self._update_reading()

    def _update_reading(self) -> None:
        """Reads the socket unless lines wait (rate limit, backlog) or it is done."""
        transport = self.transport
        if transport is None or self._closing:
            return
        reading = not (self._paused or self._held or self._eof or self._checking)
        if reading != self._reading:
            self._reading = reading
            if reading:
                transport.resume_reading()
            else:
                transport.pause_reading()

    def check_idle(self, now: float) -> None:
        """Asks a client silent for `idle_timeout` whether it is there (if its door can
        ask), and ends it when it has not answered within `ping_timeout`."""
        probe, session, limits = self.door.probe, self.session, self.limits
        if probe is None or session is None or self._closing or limits.idle_timeout <= 0:
            return
        if self._probed_at:
            if now - self._probed_at > limits.ping_timeout:
                self.hub.close(session, texts.PING_TIMEOUT)
        elif now - session.last_activity > limits.idle_timeout:
            self._probed_at = now
            probe(self.hub, session)

    def _nick_timeout(self) -> None:
        if self.session is not None and not self.session.registered:
            self.hub.close(self.session, texts.REGISTRATION_TIMEOUT)

    # --- output: the hub's Peer ---------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._closing:
            return
        out = self._out
        if out is None:
            self._out = data
        elif isinstance(out, list):
            out.append(data)
        else:
            self._out = [out, data]
        size = len(data)
        self._out_size += size
        self.backlog.queued += size
        if self._out_size > self._room:
            # Past the hard SendQ before it could even be written: keep nothing more;
            # the flush drops this client.
            self._overflowed = True
            self._closing = True
            self._discard_out()
        if not self._dirty:
            self._dirty = True
            self.server.flusher.mark(self)

    def _discard_out(self) -> None:
        self.backlog.queued -= self._out_size
        self._out = None
        self._out_size = 0

    def flush(self) -> None:
        self._dirty = False
        transport = self.transport
        if transport is None or transport.is_closing():
            self._discard_out()
            return
        if self._overflowed:
            self._drop_for_sendq()
            return
        out = self._out
        if out is None:
            return
        size = self._out_size
        self._out = None
        self._out_size = 0
        backlog = self.backlog
        backlog.queued -= size
        # Write first; what the kernel did not take is what counts.
        transport.write(b"".join(out) if isinstance(out, list) else out)
        buffered = transport.get_write_buffer_size()
        sendq = self.limits.sendq
        if buffered > backlog.hard_sendq:
            self._overflowed = True
            self._drop_for_sendq()
            return
        if buffered > sendq:
            backlog.over_sendq(self)
        elif buffered:
            backlog.within_sendq(self)
        if self._behind:
            self._count_unsent(buffered if buffered <= sendq else 0)
        # (The shared int when nothing is left: an int above 256 is an object each.)
        self._room = backlog.hard_sendq - buffered if buffered else backlog.hard_sendq

    def _count_unsent(self, unsent: int) -> None:
        self.backlog.unsent += unsent - self._unsent
        self._unsent = unsent

    def unsent_bytes(self) -> int:
        """Bytes the kernel has not taken yet (the transport's buffer)."""
        transport = self.transport
        return 0 if transport is None else transport.get_write_buffer_size()

    # Flow control: the transport's buffer passed its high-water mark (the client is
    # behind: its bytes count toward the server's backlog), or fell to its low one.
    def pause_writing(self) -> None:
        self._behind = True

    def resume_writing(self) -> None:
        self._behind = False
        self._count_unsent(0)
        self.backlog.within_sendq(self)
        self.backlog.drained()

    def drop_for_sendq(self) -> None:
        """Above the SendQ for too long: the client is not reading."""
        self._overflowed = True
        self._closing = True
        self._discard_out()
        self._drop_for_sendq()

    def _drop_for_sendq(self) -> None:
        if self.reason != texts.SENDQ_EXCEEDED:  # once, though several paths lead here
            self.hub.counts.sendq_drops[self.door.name] += 1
        self.reason = texts.SENDQ_EXCEEDED
        if self.session is not None:
            self.hub.close(self.session, texts.SENDQ_EXCEEDED, tell=False)
        self._reset()

    def _reset(self) -> None:
        """Drops the connection with a TCP reset. A plain close would leave the
        megabytes the kernel holds for a client that does not read, retried against
        its zero window for minutes; linger 0 frees them at once."""
        if self.transport is None:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def end(self, reason: str) -> None:
        """Ends the connection for `reason` (the server's decision): its session says
        goodbye to it and quits, or, without a session yet, it is just closed."""
        if self.session is not None:
            self.hub.close(self.session, reason)
        elif self.transport is not None:
            self.reason = reason
            self._closing = True
            self.transport.close()

    def close(self, reason: str = "") -> None:
        """Writes what is queued, then closes (the hub's Peer.close)."""
        if reason:
            self.reason = reason
        if self.transport is None or self.transport.is_closing():
            return
        if self._overflowed:
            self._reset()
            return
        self.flush()
        self._closing = True
        self.transport.close()
