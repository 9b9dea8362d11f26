"""The chat server: its listeners (one per entry of the configuration, each a door on an
address), admission limits and graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from soketler.core import texts
from soketler.core.cluster_hub import ClusterHub
from soketler.core.config import Listener, ServerConfig
from soketler.core.hub import REPLY_BUDGET, Hub, OperAnswer
from soketler.doors import Door, Listening
from soketler.doors.registry import DOORS
from soketler.metrics import Registry
from soketler.protocols import codes
from soketler.security.accounts import PasswordChecker
from soketler.security.operators import Operators, OperCheck
from soketler.store.archive import ImmediateArchive, ThreadedArchive
from soketler.store.base import HistoryStore
from soketler.store.memory import MemoryStore
from soketler.store.sqlite import SqliteStore
from soketler.transport.backlog import Backlog
from soketler.transport.connection import ChatConnection
from soketler.transport.flusher import Flusher
from soketler.transport.metrics import REFUSED_FULL, REFUSED_PER_ADDRESS, ServerMetrics
from soketler.transport.pump import Pump

if TYPE_CHECKING:
    from soketler.transport.cluster import Cluster

log = logging.getLogger("soketler.server")
# Big enough for a join storm of thousands of clients arriving at once.
LISTEN_BACKLOG = 4096
PRUNE_EVERY = 60.0  # seconds between retention passes
IDLE_SWEEP_EVERY = 5.0  # seconds between looks for idle clients of doors that ask


class UnixPathInUse(OSError):
    """Another server is answering on the Unix socket path."""


class ListenFailed(OSError):
    """A listener could not be opened; `listener` says which (the errno is the cause's)."""

    def __init__(self, cause: OSError, listener: Listener) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.listener = listener


class OperatorsOnLoop:
    """The hub's operator check over `security.operators.Operators`: the slow hash runs
    on the password threads, the answer comes back on the loop."""

    def __init__(self, operators: Operators, checker: PasswordChecker) -> None:
        self.operators = operators
        self.checker = checker
        self._tasks: set[asyncio.Task[None]] = set()

    def check(self, name: str, password: str, address: str, done: OperAnswer) -> None:
        task = asyncio.get_running_loop().create_task(self._check(name, password, address, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(self, name: str, password: str, address: str, done: OperAnswer) -> None:
        outcome = await self.operators.check(name, password, address)
        if outcome is OperCheck.OK:
            done(None)
        elif outcome is OperCheck.WRONG_HOST:
            done(codes.NO_OPERATOR_HERE)
        else:
            done(codes.BAD_PASSWORD)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.to_thread(self.checker.close)


def format_address(sockname: object) -> str:
    if isinstance(sockname, tuple):
        host, port = sockname[0], sockname[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(sockname)


class ChatServer:
    """Listeners plus a hub. `async with ChatServer(config) as server:` listens."""

    def __init__(
        self,
        config: ServerConfig,
        hub: Hub | None = None,
        listeners: Sequence[Listener] | None = None,
    ) -> None:
        self.config = config
        # The configuration's listeners, unless others are given (a test may want a door
        # on a port the system picks).
        self.listeners = tuple(config.listeners if listeners is None else listeners)
        # Cluster mode: the hub's bus is attached when the server starts.
        kind = ClusterHub if config.redis else Hub
        self.hub = hub or kind(
            server_name=config.server_name or socket.gethostname(),
            replay=config.replay,
            announce_limit=config.announce_limit,
            # No single answer may be bigger than half of what a reader may be behind.
            reply_budget=max(2048, min(REPLY_BUDGET, config.limits.sendq // 2)),
        )
        self.connections: set[Pump] = set()
        self.registry = Registry()  # what /metrics shows, where a door serves it
        self.metrics = ServerMetrics(self.registry, self)
        self._per_address: Counter[str] = Counter()
        self._servers: list[tuple[Door, Listening]] = []
        # Steps run once every connection has ended (a door's HTTP server, say).
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flusher: Flusher | None = None
        self._backlog: Backlog | None = None
        self._all_closed: asyncio.Event | None = None  # set during shutdown
        self._archive: ImmediateArchive | ThreadedArchive | None = None
        self._prune_timer: asyncio.TimerHandle | None = None
        self._sweep_timer: asyncio.TimerHandle | None = None
        self._operators: OperatorsOnLoop | None = None
        self._cluster: Cluster | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "the server is not started"
        return self._loop

    @property
    def started(self) -> bool:
        return self._loop is not None

    @property
    def flusher(self) -> Flusher:
        assert self._flusher is not None, "the server is not started"
        return self._flusher

    @property
    def backlog(self) -> Backlog:
        assert self._backlog is not None, "the server is not started"
        return self._backlog

    # --- listening ---------------------------------------------------------------------

    async def start(self) -> None:
        """Opens the history store, then listens. Raises StoreError or OSError."""
        self._loop = asyncio.get_running_loop()
        self._backlog = Backlog(self._loop, self.config.limits, lambda: self.hub.pending)
        self._flusher = Flusher(self._loop, self._backlog)
        self.hub.defer = self._loop.call_soon
        if isinstance(self.hub, ClusterHub):
            # First: an unreachable Redis is said as such, before the history store
            # (in the same Redis) fails for the same reason.
            from soketler.transport.cluster import Cluster

            self._cluster = await Cluster.join(self.hub, self.config)
        try:
            await self._open_store()
        except BaseException:
            if self._cluster is not None:
                await self._cluster.close()
            raise
        if self.config.operators:
            checker = PasswordChecker()
            self._operators = OperatorsOnLoop(Operators(self.config.operators, checker), checker)
            self.hub.operators = self._operators
        try:
            for listener in self.listeners:
                try:
                    await self._listen(listener)
                except OSError as exc:
                    if isinstance(exc, UnixPathInUse):
                        raise
                    raise ListenFailed(exc, listener) from exc
        except BaseException:
            await self._close_listeners()
            await self._run_cleanups()
            if self._operators is not None:
                await self._operators.close()
            if self._archive is not None:
                await self._archive.close()
            if self._cluster is not None:
                await self._cluster.close()
            raise

    async def _open_store(self) -> None:
        store: HistoryStore
        if self._cluster is not None:
            store = self._cluster.history_store()  # the streams themselves
        elif self.config.db == ":memory:":
            memory = MemoryStore()
            self._archive = ImmediateArchive(memory, self.metrics.commit)
            self.hub.resume(self._archive, memory.load())
            store = memory
        else:
            store = SqliteStore(self.config.db)
        if not isinstance(store, MemoryStore):
            try:
                # Opening may migrate the schema: keep the disk off the event loop.
                saved = await asyncio.to_thread(store.load)
            except BaseException:
                store.close()
                raise
            self._archive = ThreadedArchive(store, self.loop, self.metrics.commit)
            self.hub.resume(self._archive, saved)
            where = self.config.redis if self._cluster is not None else self.config.db
            log.info("history in %s (last message id %d)", where, saved.last_id)
        retention = self.config.retention
        if retention.days > 0 or retention.messages > 0:
            self._prune()

    def _prune(self) -> None:
        if self._archive is not None:
            self._archive.prune(self.config.retention)
            self._prune_timer = self.loop.call_later(PRUNE_EVERY, self._prune)

    async def _listen(self, listener: Listener) -> None:
        door = DOORS[listener.door]
        if door.probe is not None and self._sweep_timer is None:
            self._sweep_timer = self.loop.call_later(self._sweep_every, self._sweep)
        if door.listen is not None:
            self._servers.append((door, await door.listen(self, listener)))
            return

        def connection() -> ChatConnection:
            return ChatConnection(self, door)

        if listener.port is not None:
            hosts = list(listener.hosts) or None  # None: every address, v4 and v6
            server = await self.loop.create_server(
                connection,
                host=hosts,
                port=listener.port,
                backlog=LISTEN_BACKLOG,
                reuse_address=True,
                # Worker processes of one machine share the port; the kernel spreads
                # new connections over them.
                reuse_port=self.config.workers > 1,
            )
            self._servers.append((door, server))
        if listener.unix:
            _clear_stale_unix_socket(listener.unix)
            server = await self.loop.create_unix_server(
                connection, listener.unix, backlog=LISTEN_BACKLOG
            )
            self._servers.append((door, server))

    def _sweep(self) -> None:
        """Idle clients of doors that can ask are asked, and silent ones ended: once a
        few seconds over all connections, not a timer each (they cost memory)."""
        now = self.loop.time()
        for connection in list(self.connections):
            connection.check_idle(now)
        self._sweep_timer = self.loop.call_later(self._sweep_every, self._sweep)

    @property
    def _sweep_every(self) -> float:
        # Often enough that a timeout is not overshot by much more than half of itself.
        limits = self.config.limits
        shortest = min(limits.idle_timeout, limits.ping_timeout) or IDLE_SWEEP_EVERY
        return min(IDLE_SWEEP_EVERY, max(0.1, shortest / 2))

    def tcp_addresses_of(self, door: str) -> list[tuple[str, int]]:
        """(host, port) of every TCP listener of a door, in the order they were opened."""
        found = []
        for listening, server in self._servers:
            for sock in server.sockets:
                if listening.name == door and sock.family in (socket.AF_INET, socket.AF_INET6):
                    name = sock.getsockname()
                    found.append((name[0], name[1]))
        return found

    @property
    def tcp_addresses(self) -> list[tuple[str, int]]:
        """(host, port) of the lines door's TCP listeners (telnet, nc, JSON lines)."""
        return self.tcp_addresses_of("lines")

    @property
    def addresses(self) -> list[tuple[str, str]]:
        """Every listening address, as people write them, with its door."""
        return [
            (door.name, format_address(sock.getsockname()))
            for door, server in self._servers
            for sock in server.sockets
        ]

    # --- admission ----------------------------------------------------------------------

    @staticmethod
    def address_of(transport: asyncio.BaseTransport) -> str:
        peer = transport.get_extra_info("peername")
        # Unix sockets have no peer address worth counting.
        return str(peer[0]) if isinstance(peer, tuple) else ""

    def admit(self, address: str) -> str | None:
        """Counts a new connection in, or says why it is refused."""
        limits = self.config.limits
        if len(self.connections) >= limits.max_clients:
            self.hub.counts.refused[REFUSED_FULL] += 1
            return texts.SERVER_FULL.format(limit=limits.max_clients)
        if address and limits.max_per_address > 0:
            if self._per_address[address] >= limits.max_per_address:
                self.hub.counts.refused[REFUSED_PER_ADDRESS] += 1
                return texts.TOO_MANY_FROM_ADDRESS.format(limit=limits.max_per_address)
            self._per_address[address] += 1
        return None

    def release(self, connection: Pump) -> None:
        self.connections.discard(connection)
        address = connection.address
        if address and self.config.limits.max_per_address > 0:
            self._per_address[address] -= 1
            if self._per_address[address] <= 0:
                del self._per_address[address]
        if not self.connections and self._all_closed is not None:
            self._all_closed.set()

    # --- stopping -----------------------------------------------------------------------

    async def shutdown(self, reason: str = texts.SERVER_SHUTDOWN, grace: float = 4.0) -> None:
        """Stops accepting, tells every client goodbye, flushes, closes."""
        await self._close_listeners()
        count = len(self.connections)
        self._all_closed = asyncio.Event()
        self.hub.shutdown(reason)
        if self.connections:
            # Clients that read get their goodbye; each transport closes once it is
            # written. Clients that do not read are cut off at the deadline.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_closed.wait(), grace)
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        await self._run_cleanups()
        for timer in (self._prune_timer, self._sweep_timer):
            if timer is not None:
                timer.cancel()
        self.backlog.close()
        if self._operators is not None:
            await self._operators.close()
        if self._cluster is not None:
            # After the hub's goodbyes: the other nodes hear this node has left.
            cluster, self._cluster = self._cluster, None
            await cluster.close()
        if self._archive is not None:
            archive, self._archive = self._archive, None
            await archive.close()  # everything accepted is committed before we exit
        log.info("shut down; %d clients were connected", count)

    def add_cleanup(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        """Runs `cleanup` at shutdown once every client has had its goodbye and its
        connection has ended (or been cut at the deadline)."""
        self._cleanups.append(cleanup)

    async def _run_cleanups(self) -> None:
        cleanups, self._cleanups = self._cleanups, []
        for cleanup in reversed(cleanups):
            try:
                await cleanup()
            except Exception:
                log.exception("a listener failed to clean up")

    async def _close_listeners(self) -> None:
        for _, server in self._servers:
            server.close()
        for _, server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        if self.config.unix:
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISSOCK(os.stat(self.config.unix).st_mode):
                    os.unlink(self.config.unix)

    async def __aenter__(self) -> ChatServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()


def _clear_stale_unix_socket(path: str) -> None:
    """Removes a socket file nobody answers on; refuses to touch anything else."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise FileExistsError(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)  # stale: left behind by a server that died
        return
    finally:
        probe.close()
    raise UnixPathInUse(f"{path} is in use by another server")
