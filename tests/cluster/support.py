"""Helpers for the cluster tests: a collecting reader callback, and a TCP proxy that
can lose a reply, to make a publish's outcome unknown on purpose."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable

from soketler.cluster.reader import Entry


class Collected:
    """What a StreamReader delivered, per stream, with a way to wait for a count."""

    def __init__(self) -> None:
        self.by_stream: dict[str, list[Entry]] = defaultdict(list)
        self.calls = 0
        self._changed = asyncio.Event()

    def __call__(self, stream: str, entries: list[Entry]) -> None:
        self.calls += 1
        self.by_stream[stream].extend(entries)
        self._changed.set()

    def texts(self, stream: str) -> list[str]:
        return [fields["text"] for _, fields in self.by_stream[stream]]

    @property
    def total(self) -> int:
        return sum(len(entries) for entries in self.by_stream.values())

    async def until(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        async def wait() -> None:
            while not done():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)


class States:
    """An on_state callback that records what it was told."""

    def __init__(self) -> None:
        self.seen: list[bool] = []
        self._changed = asyncio.Event()

    def __call__(self, healthy: bool) -> None:
        self.seen.append(healthy)
        self._changed.set()

    async def until(self, wanted: list[bool], timeout: float = 15.0) -> None:
        async def wait() -> None:
            while self.seen[-len(wanted) :] != wanted:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)


class LosingProxy:
    """Forwards TCP to a Redis on 127.0.0.1; after `lose_next_reply()`, the next reply
    from Redis is thrown away and the client's connection cut, so the client cannot
    know whether its command was carried out (it was)."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.port = 0
        self.replies_lost = 0
        self._armed = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def lose_next_reply(self) -> None:
        self._armed = True

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_data: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        try:
            while data := await reader.read(65536):
                if on_data is not None and not await on_data():
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target)

        async def reply_passes() -> bool:
            if not self._armed:
                return True
            self._armed = False
            self.replies_lost += 1
            client_w.transport.abort()
            server_w.close()
            return False

        up = asyncio.create_task(self._pipe(client_r, server_w))
        down = asyncio.create_task(self._pipe(server_r, client_w, reply_passes))
        for task in (up, down):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LosingProxy]:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._server.wait_closed()
