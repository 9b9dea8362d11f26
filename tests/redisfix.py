"""Real Redis servers for the tests: one server, a restartable persistent one, and a
three-shard Redis Cluster, each on free ports of 127.0.0.1 with its own directory.

A server is ready when its log says so (a line read with a timeout), never after a
sleep. Every process started here is killed at the end of its fixture.

Fixtures (import them into a conftest.py):
- `redis_server`: one server for the whole run, emptied before each test (FLUSHALL).
- `redis_url`: that server's URL, for a test that only needs a URL.
- `persistent_redis`: a server of the test's own with `--appendonly yes --appendfsync
  always`, which the test may kill and start again: what was acknowledged survives.
- `redis_cluster`: three shards for the whole run, emptied before each test.
"""

from __future__ import annotations

import contextlib
import random
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.helpers import require_program

READY = "Ready to accept connections"
CLUSTER_OK = "Cluster state changed: ok"
START_TIMEOUT = 15.0  # seconds; a cold start of three servers on a busy 2-core machine
CLUSTER_BUS_OFFSET = 10_000  # a cluster node also listens on its port + 10000


class ServerFailed(RuntimeError):
    pass


class LogWatcher:
    """Reads a process's output on a thread, so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._ended = False
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def join(self) -> None:
        self._thread.join(timeout=10)

    def wait_for(self, text: str, timeout: float, start: int = 0) -> int:
        """Waits until a line from `start` on holds `text`; returns the next index."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: self._find(text, start) is not None or self._ended, timeout
            )
            index = self._find(text, start)
            if index is not None:
                return index + 1
            tail = "\n".join(self.lines[-15:])
            why = "exited" if found else f"said nothing like {text!r} in {timeout} s"
            raise ServerFailed(f"redis-server {why}:\n{tail}")

    def _find(self, text: str, start: int) -> int | None:
        for index in range(start, len(self.lines)):
            if text in self.lines[index]:
                return index
        return None


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(cluster: bool = False) -> int:
    """A port nobody listens on; for a cluster node, its bus port (+10000) too.

    Chosen below the kernel's ephemeral range (32768 and up), where the ports that
    outgoing connections borrow would otherwise collide with ours.
    """
    for _ in range(200):
        port = random.randrange(12_000, 22_000)
        if _bindable(port) and (not cluster or _bindable(port + CLUSTER_BUS_OFFSET)):
            return port
    raise ServerFailed("no free port pair found")


class RedisServer:
    """One redis-server process; `kill` and `start` again keep its port and directory."""

    def __init__(self, directory: Path, *, persistent: bool = False, cluster: bool = False) -> None:
        self.program = require_program("redis-server")
        self.directory = directory
        self.persistent = persistent
        self.cluster = cluster
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.log: LogWatcher | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def _arguments(self) -> list[str]:
        args = [
            self.program,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--logfile", "",
            "--daemonize", "no",
        ]  # fmt: skip
        if self.persistent:
            # Every write on disk before Redis acknowledges it: what a client was told
            # is stored must survive the kill in the restart tests.
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        if self.cluster:
            args += [
                "--cluster-enabled", "yes",
                "--cluster-config-file", f"nodes-{self.port}.conf",
                "--cluster-node-timeout", "2000",
            ]  # fmt: skip
        return args

    def start(self) -> None:
        """Starts on the same port as before (a restart), or a free one the first time."""
        restart = self.port != 0
        for _ in range(1 if restart else 5):
            if not restart:
                self.port = free_port(self.cluster)
            self.process = subprocess.Popen(
                self._arguments(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            self.log = LogWatcher(self.process)
            try:
                self.log.wait_for(READY, START_TIMEOUT)
            except ServerFailed:
                self.kill()
                if not restart and any("Address already in use" in x for x in self.log.lines):
                    continue  # someone took the port between the probe and the start
                raise
            with contextlib.closing(self.client()) as client:
                client.ping()
            return
        raise ServerFailed("redis-server found no free port")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def kill(self) -> None:
        """SIGKILL: as a machine losing power, with no chance to save anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGKILL)
        self._reap()

    def _reap(self) -> None:
        if self.process is None:
            return
        self.process.wait(timeout=10)
        if self.log is not None:
            self.log.join()  # the reader reaches the end of the output, then stops
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None


class RedisClusterServers:
    """Three redis-server nodes joined into a cluster of three primaries."""

    def __init__(self, directory: Path) -> None:
        self.nodes = [RedisServer(directory / f"node{n}", cluster=True) for n in range(1, 4)]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        cli = require_program("redis-cli")
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for node in self.nodes:
            assert node.log is not None
            node.log.wait_for(CLUSTER_OK, START_TIMEOUT)

    def flush(self) -> None:
        for node in self.nodes:
            with contextlib.closing(node.client()) as client:
                client.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    with contextlib.closing(redis_server.client()) as client:
        client.flushall()
    return redis_server.url


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", persistent=True)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="session")
def redis_cluster_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RedisClusterServers]:
    servers = RedisClusterServers(tmp_path_factory.mktemp("redis-cluster"))
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def redis_cluster(redis_cluster_servers: RedisClusterServers) -> RedisClusterServers:
    redis_cluster_servers.flush()
    return redis_cluster_servers
