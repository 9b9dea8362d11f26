"""A real `soketler serve`, the browser door in front of it (through the test bridge),
and Debian's chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.serverprocess import ServerProcess, serve_process
from tests.helpers import require_program
from tests.web.bridge import tcp_bridge
from tests.web.webserver import WebServer

# Chromium as root needs --no-sandbox; the rest keep it from reaching for Google's
# services, which this machine's closed network refuses (slowly, many at a time).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-default-apps",
]
# No flood control and no per-address limit: every browser comes through the bridge
# from 127.0.0.1, and the scroll-back test fills a room fast.
SERVE_ARGS = ("--rate", "0", "--max-per-address", "0")


class ChatServer:
    """`soketler serve` in a process, which a test may stop and start on the same port."""

    def __init__(self, db: str | None = None) -> None:
        self.db = ("--db", db) if db is not None else ()  # default: history in memory
        self.port = 0
        self._stack: contextlib.AsyncExitStack | None = None
        self.process: ServerProcess | None = None

    async def start(self) -> ChatServer:
        stack = contextlib.AsyncExitStack()
        port = ("--port", str(self.port)) if self.port else ()
        self.process = await stack.enter_async_context(serve_process(*SERVE_ARGS, *self.db, *port))
        self.port = self.process.port
        self._stack = stack
        return self

    async def stop(self) -> None:
        if self._stack is not None and self.process is not None:
            await self.process.stop(signal.SIGTERM)
            stack, self._stack = self._stack, None
            await stack.aclose()


@pytest.fixture
async def chat() -> AsyncIterator[ChatServer]:
    server = await ChatServer().start()
    yield server
    await server.stop()


@pytest.fixture
async def site(chat: ChatServer) -> AsyncIterator[WebServer]:
    web = await WebServer(tcp_bridge("127.0.0.1", chat.port)).start()
    yield web
    await web.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    executable = require_program("chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
