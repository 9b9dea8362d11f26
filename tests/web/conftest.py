"""A real `soketler serve` with its browser door, and Debian's chromium driven by
Playwright."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.serverprocess import ServerProcess, serve_process
from tests.helpers import require_program
from tests.tools.support import free_port

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
# No flood control and no per-address limit: every browser and terminal user comes
# from 127.0.0.1, and the scroll-back test fills a room fast.
SERVE_ARGS = ("--rate", "0", "--max-per-address", "0")


class ChatServer:
    """`soketler serve` in a process, with the page on its web port, which a test may
    stop and start on the same ports."""

    def __init__(self, db: str | None = None) -> None:
        self.db = ("--db", db) if db is not None else ()  # default: history in memory
        self.port = 0
        # A port of its own: 0 would turn the web door off. Read back from the
        # start-up line, which says where the door listens.
        self.web_port = free_port()
        self._stack: contextlib.AsyncExitStack | None = None
        self.process: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.web_port}/ws"

    async def start(self, *args: str) -> ChatServer:
        stack = contextlib.AsyncExitStack()
        port = ("--port", str(self.port)) if self.port else ()
        web = ("--web-port", str(self.web_port))
        self.process = await stack.enter_async_context(
            serve_process(*SERVE_ARGS, *self.db, *port, *web, *args)
        )
        self.port = self.process.port
        assert self.process.web_port == self.web_port
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


def chromium() -> str:
    """Debian's chromium (Playwright's own browser download is not used): a skip where
    it is missing, a failure under CI=true."""
    return require_program("chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    executable = chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
