"""An in-process chat server on loopback for each test that asks for one."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
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
