"""`SyncChatClient`: the same client for scripts that do not use asyncio.

    with SyncChatClient("localhost", 61000, nick="cron") as chat:
        chat.join("#ops")
        chat.send("#ops", "backup done")

It runs a `ChatClient` on an event loop in a background thread and waits for each
call; the connection keeps being read while the script does other things.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from types import TracebackType
from typing import Any, Self, TypeVar

from soketler.client.chat_client import DEFAULT_PORT, ChatClient
from soketler.client.events import Event, Members, RoomInfo

T = TypeVar("T")
# Extra seconds a call may take beyond the client's own timeouts before we stop waiting.
_MARGIN = 5.0


class SyncChatClient:
    """A blocking `ChatClient`; takes the same keyword options."""

    def __init__(self, host: str = "localhost", port: int = DEFAULT_PORT, **options: Any) -> None:
        self._client = ChatClient(host, port, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def client(self) -> ChatClient:
        """The asyncio client underneath (use it only from its own loop)."""
        return self._client

    @property
    def nick(self) -> str:
        return self._client.nick

    @property
    def rooms(self) -> tuple[str, ...]:
        return self._client.rooms

    def connect(self) -> None:
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True, name="chat client")
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._run(self._client.connect(), self._client.connect_timeout * 2)
        except BaseException:
            self._stop()
            raise

    def close(self, reason: str | None = None) -> None:
        if self._loop is None:
            return
        try:
            self._run(self._client.close(reason), 10.0)
        finally:
            self._stop()

    def _stop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_MARGIN)
        if not thread.is_alive():
            loop.close()

    def _run(self, coro: Coroutine[Any, Any, T], wait: float | None) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("not connected: use `with SyncChatClient(...)` or connect()")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(wait)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._run(coro, self._client.request_timeout + _MARGIN)

    # --- requests (see ChatClient for what each does) ------------------------------------

    def send(self, room: str | None, text: str, *, action: bool = False) -> None:
        self._call(self._client.send(room, text, action=action))

    def msg(self, nick: str, text: str, *, action: bool = False) -> None:
        self._call(self._client.msg(nick, text, action=action))

    def join(self, room: str) -> str:
        return self._call(self._client.join(room))

    def part(self, room: str | None = None, reason: str | None = None) -> None:
        self._call(self._client.part(room, reason))

    def set_nick(self, nick: str) -> str:
        return self._call(self._client.set_nick(nick))

    def set_topic(self, room: str | None, text: str) -> None:
        self._call(self._client.set_topic(room, text))

    def who(self, room: str | None = None) -> Members:
        return self._call(self._client.who(room))

    def list_rooms(self) -> tuple[RoomInfo, ...]:
        return self._call(self._client.list_rooms())

    def ping(self) -> float:
        return self._call(self._client.ping())

    # --- events ---------------------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> Event | None:
        """The next event; None once the stream has ended; TimeoutError after `timeout`."""
        # The timeout runs inside the loop: an event is either returned or left queued,
        # never taken and lost because we stopped waiting at the wrong moment.
        return self._run(self._next(timeout), None if timeout is None else timeout + _MARGIN)

    async def _next(self, seconds: float | None) -> Event | None:
        async with asyncio.timeout(seconds):
            return await self._client.next_event()

    def __iter__(self) -> Iterator[Event]:
        while (event := self.receive()) is not None:  # ends with the stream
            yield event
