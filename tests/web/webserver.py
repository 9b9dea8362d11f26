"""The browser door's aiohttp application alone on loopback (its HTTP side, with a test
handler), stoppable and restartable on its port."""

from __future__ import annotations

from aiohttp import web

from soketler.doors.web.app import SocketHandler, WebConfig, make_app
from soketler.metrics import Registry


class WebServer:
    def __init__(self, handler: SocketHandler, config: WebConfig | None = None) -> None:
        self.handler = handler
        self.config = config
        self.port = 0
        self.registry = Registry()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> WebServer:
        """Listens on 127.0.0.1 (the same port again after a stop)."""
        self.registry = Registry()
        runner = web.AppRunner(make_app(self.handler, self.config, self.registry))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        _, self.port = runner.addresses[0][:2]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
