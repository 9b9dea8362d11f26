"""An in-process chat server on loopback for each test that asks for one."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from soketler.core.config import Limits, ServerConfig
from soketler.transport.server import ChatServer

StartServer = Callable[..., Any]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """`await start_server(hosts=..., db=..., **limits)` starts a server; all stop after
    the test. History stays in memory unless `db` names an SQLite file."""
    servers: list[ChatServer] = []

    async def start(
        hosts: tuple[str, ...] = ("127.0.0.1",),
        unix: str | None = None,
        db: str = ":memory:",
        **limits: Any,
    ) -> ChatServer:
        config = ServerConfig(hosts=hosts, port=0, unix=unix, db=db, limits=Limits(**limits))
        server = ChatServer(config)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        with contextlib.suppress(Exception):
            await server.shutdown(grace=1.0)


@pytest.fixture
async def server(start_server: StartServer) -> ChatServer:
    started: ChatServer = await start_server()
    return started


@pytest.fixture(scope="session")
def ssh_host_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One host key for every test's SSH door: making one per server would be waste."""
    from soketler.doors.ssh.keys import host_key

    path = tmp_path_factory.mktemp("ssh") / "host_ed25519_key"
    host_key(str(path))
    return path


@pytest.fixture
async def start_ssh(ssh_host_key: Path) -> AsyncIterator[Callable[..., Any]]:
    """`await start_ssh(**settings)`: a server with an SSH door (settings: ServerConfig or
    Limits fields); all stop after the test."""
    from tests.e2e.sshclient import start_ssh_server

    servers: list[ChatServer] = []

    async def start(**settings: Any) -> ChatServer:
        server = await start_ssh_server(ssh_host_key, **settings)
        servers.append(server)
        return server

    yield start
    for server in servers:
        with contextlib.suppress(Exception):
            await server.shutdown(grace=1.0)


# Real Redis servers, for the tests of cluster mode (tests/redisfix.py).
from tests.redisfix import (  # noqa: E402, F401 - fixtures
    persistent_redis,
    redis_cluster,
    redis_cluster_servers,
    redis_server,
    redis_url,
)
