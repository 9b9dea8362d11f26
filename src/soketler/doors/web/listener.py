"""The browser door's listener: an aiohttp application on the server's loop, opened
as one more listener entry of `soketler serve` (the page, /ws, /healthz, /metrics)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from soketler.doors.registry import DOORS
from soketler.doors.web.app import WebConfig, make_app
from soketler.doors.web.connection import irc_socket_handler, socket_handler

if TYPE_CHECKING:
    from soketler.core.config import Listener
    from soketler.doors import Door, Listening
    from soketler.transport.server import ChatServer

# As for the chat port: big enough for many browsers arriving at once.
LISTEN_BACKLOG = 4096
# Seconds the HTTP server gives requests still running when it stops. By then every
# WebSocket has had its goodbye and ended; what is left is idle keep-alive connections.
SHUTDOWN_TIMEOUT = 2.0


class HttpListening:
    """The HTTP server's sockets, as the chat server keeps its listeners."""

    def __init__(self, server: asyncio.Server) -> None:
        self._server = server

    @property
    def sockets(self) -> Sequence[Any]:
        return self._server.sockets

    def close(self) -> None:
        """Stops accepting. Connections stay: the chat server says goodbye to its
        clients first, and the HTTP server's cleanup ends what is left after that."""
        self._server.close()

    async def wait_closed(self) -> None:
        # Not asyncio.Server.wait_closed: since Python 3.12 it also waits for every
        # connection, and these end only after the goodbyes that come next.
        return


async def listen_http(server: ChatServer, listener: Listener, door: Door) -> Listening:
    assert listener.port is not None, "the web door listens on a TCP port"
    config = server.config
    origins = tuple(config.web_origins) or None
    irc = DOORS.get("irc")
    app = make_app(
        socket_handler(server, door),
        WebConfig(origins=origins),
        server.registry,
        irc=irc_socket_handler(server, irc) if irc is not None else None,
    )
    # No access log: a chat server has no business keeping who loaded the page when.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    assert runner.server is not None
    tls: dict[str, Any] = {}
    if listener.tls:
        # HTTPS with the server's certificate (reloaded on SIGHUP: the context hands
        # each handshake the newest). The event loop runs these handshakes, so unlike
        # the chat ports' they are counted only once the WebSocket opens; the timeout
        # still cuts one that does not finish.
        assert server.tls is not None, "an HTTPS listener needs the server's certificate"
        tls = {"ssl": server.tls.context, "ssl_handshake_timeout": config.tls_handshake_timeout}
    try:
        http = await server.loop.create_server(
            runner.server,
            host=list(listener.hosts) or None,  # None: every address, v4 and v6
            port=listener.port,
            backlog=LISTEN_BACKLOG,
            reuse_address=True,
            **tls,
        )
    except BaseException:
        await runner.cleanup()
        raise
    server.add_cleanup(runner.cleanup)
    return HttpListening(http)
