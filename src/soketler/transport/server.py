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
from dataclasses import replace
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
from soketler.security.access import AccessList
from soketler.security.accounts import Accounts, PasswordChecker
from soketler.security.banstore import Bans
from soketler.security.logins import Logins
from soketler.security.operators import Operators, OperCheck
from soketler.security.selfsigned import SelfSigned, ensure_self_signed
from soketler.security.slowdown import Slowdown, place
from soketler.security.tls import ReloadableServerContext, ServerFiles
from soketler.store.archive import ImmediateArchive, ThreadedArchive
from soketler.store.base import HistoryStore
from soketler.store.memory import MemoryStore
from soketler.store.sqlite import SqliteStore
from soketler.transport.backlog import Backlog
from soketler.transport.connection import ChatConnection, set_keepalive
from soketler.transport.flusher import Flusher
from soketler.transport.metrics import REFUSED_FULL, REFUSED_PER_ADDRESS, ServerMetrics
from soketler.transport.pump import Pump
from soketler.transport.tlsconnection import TlsConnection

if TYPE_CHECKING:
    from soketler.transport.cluster import Cluster

log = logging.getLogger("soketler.server")
# Big enough for a join storm of thousands of clients arriving at once.
LISTEN_BACKLOG = 4096
PRUNE_EVERY = 60.0  # seconds between retention passes
IDLE_SWEEP_EVERY = 5.0  # seconds between looks for idle clients of doors that ask
# Seconds between looks at the accounts table: `soketler user add` in another process
# protects a nickname within this time (and at once on SIGHUP).
ACCOUNTS_REFRESH_EVERY = 5.0
REFUSED_ACCESS = "access"  # the metrics' reason for a connection the access lists refuse
REFUSED_BANNED = "banned"


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

    def __init__(
        self, operators: Operators, checker: PasswordChecker, slowdown: Slowdown | None = None
    ) -> None:
        self.operators = operators
        self.checker = checker
        # Shared with the logins: guesses at operator passwords slow down the same place.
        self.slowdown = slowdown if slowdown is not None else Slowdown()
        self._tasks: set[asyncio.Task[None]] = set()

    def check(self, name: str, password: str, address: str, done: OperAnswer) -> None:
        task = asyncio.get_running_loop().create_task(self._check(name, password, address, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(self, name: str, password: str, address: str, done: OperAnswer) -> None:
        loop = asyncio.get_running_loop()
        where = place(address)
        wait = self.slowdown.wait_before_attempt(where, loop.time())
        if wait > 0:
            await asyncio.sleep(wait)
        outcome = await self.operators.check(name, password, address)
        if outcome is OperCheck.WRONG_PASSWORD:
            self.slowdown.failed(where, loop.time())
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
        self._servers: list[tuple[Door, Listening, bool]] = []  # (door, listener, TLS)
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
        # Who may connect (reloaded on SIGHUP), the TLS certificate of every TLS
        # listener (one context, reloadable), and the password checks.
        self.access = AccessList(config.allow, config.deny)
        self.tls: ReloadableServerContext | None = None
        self.self_signed: SelfSigned | None = None  # when --tls made or found one
        self.slowdown = Slowdown()
        self.logins: Logins | None = None
        self._checker: PasswordChecker | None = None
        self._accounts: Accounts | None = None
        self._bans: Bans | None = None
        self._accounts_timer: asyncio.TimerHandle | None = None
        self._refreshing: asyncio.Task[None] | None = None

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
        try:
            await self._open_security()
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
            await self._close_security()
            if self._archive is not None:
                await self._archive.close()
            if self._cluster is not None:
                await self._cluster.close()
            raise

    @property
    def checker(self) -> PasswordChecker:
        """The threads for password hashes (made when first needed)."""
        if self._checker is None:
            self._checker = PasswordChecker()
        return self._checker

    @property
    def accounts(self) -> Accounts | None:
        """The accounts (None when history is not kept in a file: nowhere to keep them)."""
        return self._accounts

    async def _open_security(self) -> None:
        """TLS, operators, the server password, accounts and server bans."""
        config = self.config
        if any(listener.tls for listener in self.listeners):
            await self._open_tls()
        if config.operators:
            operators = Operators(config.operators, self.checker)
            self._operators = OperatorsOnLoop(operators, self.checker, self.slowdown)
            self.hub.operators = self._operators
        if config.db != ":memory:":
            self._accounts = Accounts(config.db, self.checker)
            self.hub.owners.set_accounts(await self._accounts.name_keys())
            self._bans = Bans(config.db)
            self.hub.bans.load(await self._bans.all())
            self.hub.bans.on_change = self._bans.changed
            self._accounts_timer = self.loop.call_later(ACCOUNTS_REFRESH_EVERY, self._refresh)
        if config.server_password or self._accounts is not None:
            self.logins = Logins(
                config.server_password, self._accounts, self.checker, self.slowdown
            )
            self.hub.credentials = self.logins

    async def _open_tls(self) -> None:
        """The certificate of the TLS listeners: the files given, or the self-signed one
        made once in the data folder. Raises TlsError."""
        config = self.config
        client_ca = config.tls_client_ca or None
        if config.tls_cert:
            files = ServerFiles(config.tls_cert, config.tls_key or None, client_ca)
        else:
            self.self_signed = await asyncio.to_thread(ensure_self_signed)
            files = ServerFiles(self.self_signed.path, None, client_ca)
        self.tls = await asyncio.to_thread(ReloadableServerContext, files)

    def _refresh(self) -> None:
        """Looks at the accounts again (another process may have added one)."""
        self._accounts_timer = self.loop.call_later(ACCOUNTS_REFRESH_EVERY, self._refresh)
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = self.loop.create_task(self.refresh_accounts())

    async def refresh_accounts(self) -> None:
        if self._accounts is None:
            return
        try:
            self.hub.owners.set_accounts(await self._accounts.name_keys())
        except Exception as exc:  # the database is busy or gone: keep what we know
            log.warning("cannot read the accounts: %s", exc)

    async def _close_security(self) -> None:
        if self._accounts_timer is not None:
            self._accounts_timer.cancel()
        if self._refreshing is not None:
            self._refreshing.cancel()
            await asyncio.gather(self._refreshing, return_exceptions=True)
        if self.logins is not None:
            await self.logins.close()
        if self._operators is not None:
            await self._operators.close()
        if self._checker is not None:
            await asyncio.to_thread(self._checker.close)
        if self._accounts is not None:
            await asyncio.to_thread(self._accounts.close)
        if self._bans is not None:
            await asyncio.to_thread(self._bans.close)

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
            self._servers.append((door, await door.listen(self, listener), listener.tls))
            return

        def connection() -> ChatConnection:
            return ChatConnection(self, door)

        if listener.tls:
            tls = self.tls
            assert tls is not None, "TLS listeners need the server's certificate"

            def connection() -> ChatConnection:
                return TlsConnection(self, door, tls)

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
            if door.probe is None:
                for sock in server.sockets:  # what accepted sockets inherit (Linux)
                    set_keepalive(sock, self.config.limits)
            self._servers.append((door, server, listener.tls))
        if listener.unix:
            _clear_stale_unix_socket(listener.unix)
            server = await self.loop.create_unix_server(
                connection, listener.unix, backlog=LISTEN_BACKLOG
            )
            self._servers.append((door, server, listener.tls))

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
        """(host, port) of every plaintext TCP listener of a door, in the order opened."""
        found = []
        for listening, server, tls in self._servers:
            for sock in server.sockets:
                if tls or listening.name != door:
                    continue
                if sock.family in (socket.AF_INET, socket.AF_INET6):
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
        return [(door, address) for door, address, _ in self.listening]

    @property
    def listening(self) -> list[tuple[str, str, bool]]:
        """Every listening address with its door and whether it speaks TLS."""
        return [
            (door.name, format_address(sock.getsockname()), tls)
            for door, server, tls in self._servers
            for sock in server.sockets
        ]

    def tls_addresses_of(self, door: str) -> list[tuple[str, int]]:
        """(host, port) of every TLS listener of a door."""
        found = []
        for listening, server, tls in self._servers:
            for sock in server.sockets:
                if tls and listening.name == door and sock.family != socket.AF_UNIX:
                    name = sock.getsockname()
                    found.append((name[0], name[1]))
        return found

    # --- admission ----------------------------------------------------------------------

    @staticmethod
    def address_of(transport: asyncio.BaseTransport) -> str:
        peer = transport.get_extra_info("peername")
        # Unix sockets have no peer address worth counting.
        return str(peer[0]) if isinstance(peer, tuple) else ""

    def admit(self, address: str) -> str | None:
        """Counts a new connection in, or says why it is refused."""
        limits = self.config.limits
        if address and not self.access.permits(address):
            self.hub.counts.refused[REFUSED_ACCESS] += 1
            return texts.ACCESS_DENIED
        ban = self.hub.bans.for_address(address) if address and self.hub.bans else None
        if ban is not None:
            self.hub.counts.refused[REFUSED_BANNED] += 1
            return texts.BANNED_FROM_SERVER.format(reason=ban.reason)
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

    # --- SIGHUP ---------------------------------------------------------------------------

    async def reload(self, config: ServerConfig) -> list[str]:
        """Reads again what may change while clients stay connected: the certificate
        (new handshakes get the new one), the access lists (whoever they now refuse is
        ended, with why; everyone else stays), the operators, the server password and
        the accounts. Returns what it did, for the log. `config` has been checked."""
        done: list[str] = []
        if self.tls is not None:
            from soketler.security.fingerprints import format_fingerprint
            from soketler.security.tls import TlsError

            try:
                fingerprint = await asyncio.to_thread(self.tls.reload)
            except TlsError as exc:
                done.append(f"{exc.message}; the certificate in use stays")
            else:
                done.append(f"TLS certificate SHA256 {format_fingerprint(fingerprint)}")
        ended = self.set_access(AccessList(config.allow, config.deny))
        done.append(
            f"access lists: {len(config.allow)} allowed, {len(config.deny)} denied "
            f"ranges; {ended} connections ended"
        )
        if config.operators:
            operators = Operators(config.operators, self.checker)
            if self._operators is None:
                self._operators = OperatorsOnLoop(operators, self.checker, self.slowdown)
            else:
                self._operators.operators = operators
        self.hub.operators = self._operators if config.operators else None
        if self.logins is not None:
            self.logins.password = config.server_password
        elif config.server_password:
            self.logins = Logins(config.server_password, None, self.checker, self.slowdown)
            self.hub.credentials = self.logins
        await self.refresh_accounts()
        self.config = replace(
            self.config,
            allow=config.allow,
            deny=config.deny,
            password=config.password,
            irc_password=config.irc_password,
            operators=config.operators,
        )
        return done

    def set_access(self, access: AccessList) -> int:
        """New access lists: connections from addresses they refuse are ended (with a
        goodbye that says why); returns how many."""
        self.access = access
        ended = 0
        for connection in list(self.connections):
            if connection.address and not access.permits(connection.address):
                connection.end(texts.ACCESS_REVOKED)
                ended += 1
        return ended

    # --- stopping -----------------------------------------------------------------------

    async def shutdown(self, reason: str = texts.SERVER_SHUTDOWN, grace: float = 4.0) -> None:
        """Stops accepting, tells every client goodbye, flushes, closes."""
        await self._close_listeners()
        count = len(self.connections)
        self._all_closed = asyncio.Event()
        self.hub.shutdown(reason)
        for connection in list(self.connections):
            if connection.session is None:
                # Still in its TLS handshake: nobody to say goodbye to, nothing to wait for.
                connection.end(reason)
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
        await self._close_security()
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
        for _, server, _tls in self._servers:
            server.close()
        for _, server, _tls in self._servers:
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
