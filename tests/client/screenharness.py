"""The chat screen driven through a real prompt_toolkit pipe input, for tests.

The keys go through prompt_toolkit's own parser, as they would from a terminal: a
bracketed paste is the bytes ESC [200~ ... ESC [201~ that terminals send.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from soketler.client import ChatClient, ChatMessage, Event, Joined
from soketler.client.app import ChatOptions
from soketler.client.interactive import ChatScreen
from soketler.client.render import Fragments, plain
from soketler.core.config import ServerConfig
from soketler.transport.server import ChatServer
from tests.client.conftest import next_matching

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
ENTER, CTRL_D = "\r", "\x04"
WITHIN = 10.0


@dataclass
class Terminal:
    """The chat screen, the keys a person (or their terminal) sends it, what it showed."""

    screen: ChatScreen
    keys: PipeInput
    shown: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # what the client told the screen
    more: asyncio.Event = field(default_factory=asyncio.Event)  # set on each of either

    def paste(self, text: str) -> None:
        self.keys.send_text(PASTE_START + text + PASTE_END)

    def record(self, fragments: Fragments) -> None:
        self.shown.append(plain(fragments))
        self.more.set()

    def toolbar(self) -> str:
        return "".join(text for _, text in self.screen._toolbar())

    async def wait_event(self, kind: type) -> Event:
        """The first event of `kind` the screen was given, waiting for it if need be."""
        async with asyncio.timeout(WITHIN):
            while True:  # each round waits for news; bounded by the timeout
                found = [event for event in self.events if isinstance(event, kind)]
                if found:
                    return found[0]
                self.more.clear()
                await self.more.wait()

    async def wait_shown(self, part: str) -> str:
        """The last line shown that holds `part`, waiting for it if need be."""
        async with asyncio.timeout(WITHIN):
            while True:  # each round waits for a new line; bounded by the timeout
                found = [line for line in self.shown if part in line]
                if found:
                    return found[-1]
                self.more.clear()
                await self.more.wait()


async def start_server(port: int = 0) -> ChatServer:
    """A server with the default limits: 5 lines a second, bursts of 20, Excess flood."""
    server = ChatServer(ServerConfig(hosts=("127.0.0.1",), port=port))
    await server.start()
    return server


@contextlib.asynccontextmanager
async def chat_server() -> AsyncIterator[int]:
    server = await start_server()
    try:
        yield server.tcp_addresses[0][1]
    finally:
        await server.shutdown(grace=1.0)


@contextlib.asynccontextmanager
async def terminal(port: int, watcher: ChatClient, **options: Any) -> AsyncIterator[Terminal]:
    """alice's chat screen on `port`, once `watcher` has seen her arrive; she leaves
    with Ctrl-D at the end, and the screen must exit 0."""
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        chosen = ChatOptions("127.0.0.1", port, None, "alice", (), None, False, True, 5.0)
        seen = Terminal(ChatScreen(replace(chosen, **options)), keys)
        show = seen.screen.screen.show

        def recording(fragments: Fragments) -> None:
            seen.record(fragments)
            show(fragments)

        seen.screen.screen.show = recording  # type: ignore[method-assign]
        hook = seen.screen._hook

        def recording_hook() -> Callable[[Event], None]:
            on_event = hook()

            def record(event: Event) -> None:
                on_event(event)
                seen.events.append(event)
                seen.more.set()

            return record

        seen.screen._hook = recording_hook  # type: ignore[method-assign]
        running = asyncio.create_task(seen.screen.run())
        try:
            await next_matching(watcher, lambda e: isinstance(e, Joined) and e.nick == "alice")
            yield seen
            keys.send_text(CTRL_D)
            assert await asyncio.wait_for(running, WITHIN) == 0
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running


async def said_by(watcher: ChatClient, nick: str, count: int) -> list[str]:
    """The next `count` messages `nick` says, as `watcher` sees them."""
    got = []
    for _ in range(count):
        event = await next_matching(
            watcher, lambda e: isinstance(e, ChatMessage) and e.sender == nick, WITHIN
        )
        assert isinstance(event, ChatMessage)
        got.append(event.text)
    return got
