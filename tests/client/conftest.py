"""A chat server on 127.0.0.1 and clients that are closed after each test."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from soketler.client import Backoff, ChatClient, Event
from soketler.core.config import Limits, ServerConfig
from soketler.transport.server import ChatServer

SOKETLER = [sys.executable, "-m", "soketler"]
# Clients in tests reconnect fast: a restarted server is back within milliseconds.
FAST_BACKOFF = Backoff(initial=0.05, maximum=0.3, attempts=40)


async def start_chat_server(port: int = 0) -> ChatServer:
    # No rate limit: tests send bursts that a person would not.
    config = ServerConfig(hosts=("127.0.0.1",), port=port, limits=Limits(rate=0))
    server = ChatServer(config)
    await server.start()
    return server


@pytest.fixture
async def server() -> AsyncIterator[ChatServer]:
    started = await start_chat_server()
    try:
        yield started
    finally:
        await started.shutdown(grace=1.0)


@pytest.fixture
def port(server: ChatServer) -> int:
    return server.tcp_addresses[0][1]


Connect = Callable[..., Any]


@pytest.fixture
async def connect(port: int) -> AsyncIterator[Connect]:
    """`await connect("nick", rooms=[...], **options)`: a connected ChatClient."""
    clients: list[ChatClient] = []

    async def make(nick: str, **options: Any) -> ChatClient:
        options.setdefault("rate", 0)
        options.setdefault("connect_timeout", 5.0)
        options.setdefault("request_timeout", 5.0)
        client = ChatClient("127.0.0.1", options.pop("port", port), nick=nick, **options)
        clients.append(client)
        await client.connect()
        return client

    try:
        yield make
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()


def unused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (so connecting is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        yield listener.sockets[0].getsockname()[1]
    finally:
        for writer in accepted:
            writer.close()
        listener.close()
        await listener.wait_closed()


async def next_matching(
    client: ChatClient, predicate: Callable[[Event], bool], within: float = 5.0
) -> Event:
    """The first event that matches, skipping others; fails after `within` seconds."""
    async with asyncio.timeout(within):
        while True:  # bounded by the timeout
            event = await client.next_event()
            assert event is not None, "the event stream ended"
            if predicate(event):
                return event
