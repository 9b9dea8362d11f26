"""`ChatClient`: the asyncio client of the JSON-lines chat protocol.

    async with ChatClient("localhost", 61000, nick="ayşe", rooms=["#dev"]) as chat:
        await chat.send("#dev", "merhaba")
        async for event in chat:
            ...

Every line from the server becomes an event in the stream, replies to our own
requests included, so a screen can show all of it from one loop. The methods that
change state (`join`, `part`, `set_nick`, ...) wait until the server has processed
the request and raise `RequestFailed` if it said no; `send` and `msg` only wait until
the line is written, and the server's errors about them arrive as events.

Waiting uses the protocol's ordering: the server handles one connection's lines in
order, so a `ping` sent right after a request is answered after the request is done.
Every request carries an `id`, and an error carrying it back as `re` belongs to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from soketler import exitcodes
from soketler.client.backoff import Backoff
from soketler.client.codec import DEFAULT_MAX_LINE, ClientProtocol
from soketler.client.errors import (
    ClientError,
    ConnectFailed,
    ConnectionLost,
    NickRejected,
    RequestFailed,
    RequestTimeout,
    TlsFailed,
)
from soketler.client.events import (
    Bye,
    ChatMessage,
    Disconnected,
    Error,
    Event,
    Greeting,
    HistoryEnd,
    Members,
    Pong,
    Reconnected,
    Reconnecting,
    RequestId,
    RoomInfo,
    RoomList,
    Welcome,
)
from soketler.client.requests import (
    ChangeNick,
    ClientRequest,
    History,
    Join,
    Leave,
    ListRooms,
    Part,
    Ping,
    Register,
    Say,
    Topic,
    Who,
)
from soketler.client.state import Membership
from soketler.protocols.names import MAX_NICK, key
from soketler.protocols.ratelimit import TokenBucket
from soketler.tools.errors import from_os_error, where

if TYPE_CHECKING:
    from soketler.security.tls import ClientTls

DEFAULT_PORT = 61000
DEFAULT_TLS_PORT = 61001
_READ_SIZE = 65536
# How long `close` waits for the server to confirm a quit before hanging up anyway.
_CLOSE_GRACE = 2.0
_NICK_CODES = frozenset({"nick-invalid", "nick-taken"})
# Refusals that a password answers: never retried by reconnecting with the same one.
_PASSWORD_CODES = frozenset({"nick-registered", "password-required", "bad-password"})
PASSWORD_HINT = " (give it with --ask-password or --password-file)"


@dataclass(slots=True)
class _Waiter:
    """A request we wait for: its error, its reply, and the barrier's pong."""

    expect: type | None
    done: asyncio.Future[None]
    reply: Event | None = None
    error: Error | None = None
    replayed: list[ChatMessage] = field(default_factory=list)


@dataclass(slots=True)
class _Link:
    """One TCP (or Unix) connection and its reader task."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    protocol: ClientProtocol
    task: asyncio.Task[None] | None = None
    bye: str | None = None
    pending: list[Event] = field(default_factory=list)


class ChatClient:
    """A chat connection with typed events; see the module docstring and docs/client.md.

    host, port: the server (or `path`, a Unix socket). nick: the nickname to register.
    rooms: rooms to join once connected. reconnect: after losing the connection, get
    it back (with `backoff`) and rejoin the rooms; the stream reports it with
    `Disconnected`, a `Reconnecting` before each attempt, and `Reconnected` events.
    rate, burst: the client keeps below the server's flood limit by itself (0 turns
    pacing off). max_events: events not yet consumed are kept up to this many; past it
    the oldest are dropped and counted in
    `dropped_events`. only_rooms: be in `rooms` alone, leaving the room the server
    puts everyone in (#lobby): it asks to arrive in the first of them instead, and leaves
    #lobby if the server does not know how. replay: messages of history wanted on
    each join (None: the server's number; 0: none). tls: speak TLS, checking the server
    as it says (`soketler.security.tls.client_tls`); a refused certificate raises
    TlsFailed and is never retried by reconnecting.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = DEFAULT_PORT,
        *,
        nick: str,
        rooms: Iterable[str] = (),
        path: str | None = None,
        reconnect: bool = False,
        backoff: Backoff | None = None,
        connect_timeout: float = 10.0,
        request_timeout: float = 10.0,
        rate: float = 5.0,
        burst: int = 20,
        max_line: int = DEFAULT_MAX_LINE,
        max_events: int = 10_000,
        on_event: Callable[[Event], None] | None = None,
        only_rooms: bool = False,
        replay: int | None = None,
        tls: ClientTls | None = None,
        password: str | None = None,
    ) -> None:
        self.host = host
        self.tls = tls
        self.password = password  # given in each hello (a registered nickname, the server)
        self.port = port
        self.path = path
        self.reconnect = reconnect
        self.backoff = backoff or Backoff()
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.max_line = max_line
        self.membership = Membership(nick)
        self.dropped_events = 0
        # Called with each event as it arrives, before it is queued for the stream:
        # what must stay in step with the connection (a screen's room list) uses it.
        self.on_event = on_event
        self._initial_rooms = tuple(rooms)
        # Be in `rooms` alone: leave the room the server puts everyone in on arrival.
        self._only_rooms = only_rooms and bool(self._initial_rooms)
        # Messages of history to be shown on each join (None: as many as the server
        # gives); a client that shows none need not be sent any.
        self.replay = replay
        self._rate = rate
        self._burst = burst
        self._bucket: TokenBucket | None = None
        self._ids = itertools.count(1)
        self._waiters: dict[RequestId, _Waiter] = {}
        self._barriers: dict[RequestId, _Waiter] = {}
        self._events: deque[Event] = deque()
        self._max_events = max_events
        self._wakeup = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._link: _Link | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._ended = False
        self._online = asyncio.Event()
        self._retry = asyncio.Event()  # set: stop waiting, reconnect now

    # --- what we know -----------------------------------------------------------------

    @property
    def nick(self) -> str:
        return self.membership.nick

    @property
    def rooms(self) -> tuple[str, ...]:
        """Rooms we are in, in the order we joined them."""
        return tuple(self.membership.rooms)

    def make_current(self, room: str) -> str | None:
        """Remembers a room we are in as current: after a reconnect it is joined last,
        so the server makes it current again. Returns its name, or None if we are not
        in it. (A person's /switch does this; the server is not told.)"""
        found = self.membership.room(room)
        if found is not None:
            self.membership.current = found
        return found

    @property
    def current_room(self) -> str | None:
        """Where the server sends a message that names no room."""
        return self.membership.current

    def seconds_to_send(self, count: int) -> float:
        """About how long `count` more requests take at the client's pace: a burst goes
        at once, the rest at `rate` a second (0.0 without pacing)."""
        if self._rate <= 0:
            return 0.0
        return max(0, count - self._burst) / self._rate

    @property
    def connected(self) -> bool:
        return self._link is not None

    @property
    def address(self) -> str:
        return self.path if self.path is not None else where(self.host, self.port)

    # --- connecting and closing ---------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connects, registers the nickname and joins `rooms`.

        Raises ConnectFailed (refused, no such host, timeout, turned away),
        NickRejected, or RequestFailed when a room cannot be joined.
        """
        if self._link is not None:
            return
        self._closing = False
        self._ended = False
        await self._register(self.membership.nick)
        try:
            for room in self._initial_rooms:
                if self.membership.room(room) is None or room != self._initial_rooms[0]:
                    await self.join(room)
            if self._only_rooms:
                # Joined first, left after: the server never lets anyone be in no room.
                wanted = {key(room) for room in self._initial_rooms}
                for room in [r for r in self.membership.rooms if key(r) not in wanted]:
                    await self.part(room)
        except BaseException:
            await self.close()
            raise

    async def close(self, reason: str | None = None) -> None:
        """Says goodbye (`quit` with `reason`), hangs up and ends the event stream."""
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        link = self._link
        if link is not None:
            # Quit without pacing: a client over its rate is still allowed to leave.
            with contextlib.suppress(OSError):
                link.writer.write(_encoded(link.protocol, Leave(reason, id=next(self._ids))))
            if link.task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(link.task), _CLOSE_GRACE)
            await self._hang_up(link, "closed")
        self._end()

    async def _register(self, nick: str) -> None:
        link, welcome_and_more = await self._open(nick)
        self._link = link
        self._online.set()
        self._bucket = TokenBucket(self._rate, self._burst, asyncio.get_running_loop().time())
        for event in welcome_and_more:
            self._dispatch(event)
        link.task = asyncio.create_task(self._read(link), name=f"chat reader {self.address}")

    async def _open(self, nick: str) -> tuple[_Link, list[Event]]:
        """A registered connection, and the events that came with the `hello` reply."""
        try:
            async with asyncio.timeout(self.connect_timeout):
                if self.path is not None:
                    reader, writer = await asyncio.open_unix_connection(
                        self.path, **self._tls_options("localhost")
                    )
                else:
                    reader, writer = await asyncio.open_connection(
                        self.host, self.port, **self._tls_options(self.host)
                    )
                link = _Link(reader, writer, ClientProtocol(self.max_line))
                try:
                    self._check_certificate(writer)
                    return link, await self._handshake(link, nick)
                except BaseException:
                    writer.close()
                    raise
        except ssl.SSLError as exc:  # before OSError, which it is a kind of
            raise self._tls_failure(exc) from None
        except TimeoutError:
            raise ConnectFailed(
                f"timed out: no answer from {self.address} within {self.connect_timeout:g} s",
                exitcodes.TIMEOUT,
            ) from None
        except OSError as exc:
            port = None if self.path is not None else self.port
            failure = from_os_error(exc, self.path or self.host, port, "connect")
            raise ConnectFailed(failure.message, failure.exit_code) from None

    def _tls_options(self, host: str) -> dict[str, Any]:
        if self.tls is None:
            return {}
        return {
            "ssl": self.tls.context,
            "server_hostname": self.tls.name_for(host),
            "ssl_handshake_timeout": self.connect_timeout,
        }

    def _check_certificate(self, writer: asyncio.StreamWriter) -> None:
        if self.tls is None:
            return
        from soketler.security.tls import TlsError

        try:
            self.tls.check_peer(writer.get_extra_info("ssl_object"), self.address)
        except TlsError as exc:
            raise TlsFailed(exc.message, exc.exit_code) from None

    def _tls_failure(self, exc: ssl.SSLError) -> TlsFailed:
        from soketler.security.tls import explain_handshake_error

        assert self.tls is not None, "an ssl error without TLS"
        failure = explain_handshake_error(exc, self.address, self.tls.name_for(self.host))
        return TlsFailed(failure.message, failure.exit_code)

    async def _handshake(self, link: _Link, nick: str) -> list[Event]:
        link.writer.write(_encoded(link.protocol, self._hello(nick)))
        last_words = ""
        # Bounded by the connect timeout around it.
        while True:
            data = await link.reader.read(_READ_SIZE)
            if data:
                link.protocol.receive_data(data)
            else:
                link.protocol.receive_eof()
            events = link.protocol.events_received()
            for index, event in enumerate(events):
                match event:
                    case Welcome():
                        return events[index:]
                    case Error(code=code, text=text) if code in _NICK_CODES:
                        raise NickRejected(nick, code, text)
                    case Error(code=code, text=text) if code in _PASSWORD_CODES:
                        hint = "" if self.password is not None else PASSWORD_HINT
                        raise ConnectFailed(
                            f"{self.address} refused us: {text}{hint}", exitcodes.PROTOCOL
                        )
                    case Error(text=text) | Bye(reason=text):
                        raise ConnectFailed(
                            f"{self.address} refused us: {text}", exitcodes.PROTOCOL
                        )
                    case Greeting(text=text):
                        last_words = text
            if not data:
                why = f": {last_words}" if last_words else " before we could register"
                raise ConnectFailed(
                    f"{self.address} closed the connection{why}", exitcodes.PROTOCOL
                )

    def _hello(self, nick: str) -> Register:
        """Registration; with only_rooms it asks to arrive in our first room rather than
        #lobby (a server that does not know `room` puts us in #lobby, which `connect`
        then leaves)."""
        room = None
        if self._only_rooms:
            room = (self.membership.rooms or list(self._initial_rooms))[0]
        return Register(
            nick, id=next(self._ids), room=room, replay=self.replay, password=self.password
        )

    async def _read(self, link: _Link) -> None:
        reason = "the server closed the connection"
        try:
            while True:  # ends at end of stream, a socket error, or cancellation
                data = await link.reader.read(_READ_SIZE)
                if data:
                    link.protocol.receive_data(data)
                else:
                    link.protocol.receive_eof()
                for event in link.protocol.events_received():
                    if isinstance(event, Bye):
                        link.bye = event.reason
                    self._dispatch(event)
                if not data:
                    break
        except OSError as exc:
            reason = f"connection error: {exc.strerror or exc}"
        if link.bye:
            reason = f"the server closed the connection: {link.bye}"
        self._lost(link, reason)

    def _announce(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)
        self._enqueue(event)

    def _lost(self, link: _Link, reason: str, announce: bool = True) -> None:
        if link is not self._link:
            return
        self._link = None
        self._online.clear()
        link.writer.close()
        self._fail_waiters(ConnectionLost(f"connection lost: {reason}"))
        if not announce:
            return
        if self._closing:
            self._end()
            return
        reconnecting = self.reconnect and self.backoff.attempts != 0
        self._announce(Disconnected(reason, reconnecting))
        if not reconnecting:
            self._end()
        elif self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.create_task(self._reconnect(), name="chat reconnect")

    async def _hang_up(self, link: _Link, reason: str, announce: bool = True) -> None:
        self._lost(link, reason, announce)
        if link.task is not None and link.task is not asyncio.current_task():
            link.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await link.task
        link.writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(link.writer.wait_closed(), _CLOSE_GRACE)

    async def _reconnect(self) -> None:
        rooms = list(self.membership.rooms)
        current = self.membership.current
        last = ""
        for attempt, delay in enumerate(self.backoff.delays(), 1):
            self._announce(Reconnecting(delay, attempt))
            self._retry.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._retry.wait(), delay)
            try:
                await self._register_again()
                await self._rejoin(rooms, current)
            except TlsFailed as exc:
                # Not retried: a server whose certificate changed while we were away
                # looks exactly like an impostor.
                last = str(exc)
                break
            except ClientError as exc:
                last = str(exc)
                if self._link is not None:  # registered, but the rooms did not follow
                    await self._hang_up(self._link, last, announce=False)
                continue
            self._announce(Reconnected(self.nick, self.rooms))
            return
        self._announce(Disconnected(f"gave up reconnecting: {last}", reconnecting=False))
        self._end()

    async def _register_again(self) -> None:
        """Registers with our nickname, or with `_` added while a ghost of us holds it."""
        nick = self.membership.nick
        candidates = [nick, (nick + "_")[:MAX_NICK], (nick + "__")[:MAX_NICK]]
        for index, candidate in enumerate(candidates):
            try:
                await self._register(candidate)
                return
            except NickRejected as exc:
                if exc.code != "nick-taken" or index == len(candidates) - 1:
                    raise

    async def _rejoin(self, rooms: list[str], current: str | None) -> None:
        # Join the current room last: the server makes the last joined room current.
        # The rooms the server put us in already need no join, except to make one current.
        order = [room for room in rooms if room != current and self.membership.room(room) is None]
        # The server makes the room it puts us in current: no join needed if it is ours.
        here = self.membership.current
        if current and (here is None or key(here) != key(current) or order):
            order.append(current)
        for room in order:
            await self._send(Join(room, id=next(self._ids), replay=self.replay))
        wanted = {key(room) for room in rooms}
        # The server put us in its default room; leave it if we had left it before.
        for room in list(self.membership.rooms):
            if key(room) not in wanted and wanted:
                await self._send(Part(room, id=next(self._ids)))
        await self.ping()

    def retry_now(self) -> bool:
        """Ends the wait before the next reconnection attempt; False if not waiting."""
        waiting = self._supervisor is not None and not self._supervisor.done()
        if waiting:
            self._retry.set()
        return waiting

    async def wait_connected(self) -> bool:
        """Waits while the client reconnects; False if it has given up or was closed."""
        await self._online.wait()
        return self._link is not None

    # --- the event stream -------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        event = await self.next_event()
        if event is None:
            raise StopAsyncIteration
        return event

    async def next_event(self) -> Event | None:
        """The next event, or None once the stream has ended (wrap in asyncio.timeout)."""
        while not self._events:  # each wait ends with an event or the end
            if self._ended:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._events.popleft()

    def _enqueue(self, event: Event) -> None:
        if len(self._events) >= self._max_events:
            self._events.popleft()
            self.dropped_events += 1
        self._events.append(event)
        self._wakeup.set()

    def _end(self) -> None:
        self._ended = True
        self._wakeup.set()
        self._online.set()  # wakes wait_connected, which then sees the end

    def _dispatch(self, event: Event) -> None:
        re: RequestId = getattr(event, "re", None)
        if isinstance(event, ChatMessage) and event.history:
            # Replayed messages carry no `re`; the batch ends with the HistoryEnd that does.
            for waiter in self._waiters.values():
                if waiter.expect is HistoryEnd and waiter.reply is None:
                    waiter.replayed.append(event)
                    break
        if isinstance(event, Pong) and re in self._barriers:
            waiter = self._barriers.pop(re)
            if not waiter.done.done():
                waiter.done.set_result(None)
            return  # our own barrier, not news for anyone
        if re is not None and re in self._waiters:
            waiter = self._waiters[re]
            if isinstance(event, Error):
                waiter.error = event
            elif waiter.expect is not None and isinstance(event, waiter.expect):
                waiter.reply = event
        elif re is None:
            # A reply without `re` (an older server) goes to the request expecting it.
            for waiter in self._waiters.values():
                if waiter.expect is not None and isinstance(event, waiter.expect):
                    waiter.reply = waiter.reply or event
                    break
        self.membership.apply(event)
        self._announce(event)

    def _fail_waiters(self, error: ClientError) -> None:
        for waiter in (*self._waiters.values(), *self._barriers.values()):
            if not waiter.done.done():
                waiter.done.set_exception(error)
                # Retrieved here so an abandoned waiter does not warn at exit.
                waiter.done.exception()
        self._barriers.clear()

    # --- requests -----------------------------------------------------------------------

    async def submit(self, request: ClientRequest) -> None:
        """Sends any request without waiting for the server (an `id` is added if absent)."""
        if request.id is None:
            request = replace(request, id=next(self._ids))
        await self._send(request)

    async def send(self, room: str | None, text: str, *, action: bool = False) -> None:
        """A message to a room (None: the server's current room for us)."""
        await self.submit(Say(text, room=room, action=action))

    async def action(self, room: str | None, text: str) -> None:
        """An action, as `/me text` shows it."""
        await self.send(room, text, action=True)

    async def msg(self, nick: str, text: str, *, action: bool = False) -> None:
        """A private message."""
        await self.submit(Say(text, to=nick, action=action))

    async def join(self, room: str) -> str:
        """Joins a room (creating it) and makes it current; returns its name."""
        await self._call(Join(room, replay=self.replay))
        return self.membership.room(room) or room

    async def part(self, room: str | None = None, reason: str | None = None) -> None:
        await self._call(Part(room, reason))

    async def set_nick(self, nick: str) -> str:
        """Changes our nickname; returns it as the server spells it."""
        await self._call(ChangeNick(nick))
        return self.nick

    async def set_topic(self, room: str | None, text: str) -> None:
        await self._call(Topic(room, text))

    async def who(self, room: str | None = None) -> Members:
        reply = (await self._call(Who(room), expect=Members)).reply
        assert isinstance(reply, Members)
        return reply

    async def list_rooms(self) -> tuple[RoomInfo, ...]:
        reply = (await self._call(ListRooms(), expect=RoomList)).reply
        assert isinstance(reply, RoomList)
        return reply.rooms

    async def history(
        self,
        room: str | None = None,
        *,
        with_nick: str | None = None,
        limit: int | None = None,
        before: int | None = None,
    ) -> tuple[ChatMessage, ...]:
        """Earlier messages of a room (None: current), or with `with_nick`; oldest first.

        `before` is a message id: only older messages. The messages also appear in
        the event stream, marked `history=True`, followed by a `HistoryEnd`.
        """
        waiter = await self._call(History(room, with_nick, limit, before), expect=HistoryEnd)
        return tuple(waiter.replayed)

    async def ping(self) -> float:
        """Waits until the server has processed everything sent so far; returns seconds."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        await self._call(None)
        return loop.time() - start

    async def _call(self, request: ClientRequest | None, expect: type | None = None) -> _Waiter:
        """Sends `request` and a barrier ping; raises what the server said against it."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(expect, loop.create_future())
        barrier = next(self._ids)
        self._barriers[barrier] = waiter
        requests: list[ClientRequest] = [Ping(id=barrier)]
        rid: RequestId = None
        if request is not None:
            rid = next(self._ids)
            self._waiters[rid] = waiter
            requests.insert(0, replace(request, id=rid))
        try:
            await self._send(*requests)
            try:
                async with asyncio.timeout(self.request_timeout):
                    await waiter.done
            except TimeoutError:
                raise RequestTimeout(
                    f"no answer from {self.address} within {self.request_timeout:g} s"
                ) from None
        finally:
            self._waiters.pop(rid, None)
            self._barriers.pop(barrier, None)
        if waiter.error is not None:
            raise RequestFailed(waiter.error.code, waiter.error.text)
        if expect is not None and waiter.reply is None:
            raise RequestFailed("no-reply", f"the server did not answer with {expect.__name__}")
        return waiter

    async def _send(self, *requests: ClientRequest) -> None:
        async with self._send_lock:
            link = None
            for request in requests:
                await self._pace()
                link = self._link
                if link is None:
                    raise ConnectionLost(f"not connected to {self.address}")
                link.writer.write(_encoded(link.protocol, request))
            try:
                if link is not None:
                    await link.writer.drain()
            except (OSError, RuntimeError) as exc:
                # RuntimeError: asyncio's "transport closed" when the link died meanwhile.
                raise ConnectionLost(f"connection lost: {exc}") from None

    async def _pace(self) -> None:
        bucket = self._bucket
        if bucket is None:
            return
        loop = asyncio.get_running_loop()
        for _ in range(100):  # one wait nearly always suffices; rounding may need two
            delay = bucket.take(loop.time())
            if delay <= 0:
                return
            await asyncio.sleep(delay)


def _encoded(protocol: ClientProtocol, request: ClientRequest) -> bytes:
    protocol.send(request)
    return protocol.data_to_send()
