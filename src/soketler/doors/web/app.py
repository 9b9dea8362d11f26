"""The browser door's HTTP side: the page, its files, `/ws`, `/healthz` and `/metrics`.

`make_app(handler)` builds the aiohttp application. Each WebSocket that passes the
checks (an upgrade, the Origin) is handed to `handler(ws, request)` once its handshake
is done; the handler speaks the chat protocol over it (doors/web/connection.py: one
JSON object per text frame, through the same pump and limits as every door) and
returns when the conversation is over. The HTTP side knows nothing of chat.

Every response carries a strict Content-Security-Policy: scripts and styles only
from this origin as files (no inline script, no eval), WebSocket and fetch only to
this origin, no frames. Together with a page that never puts received text into HTML,
a message cannot run code in a reader's browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from soketler.doors.web.origin import Origin, allowed_origins, origin_allowed
from soketler.metrics import CONTENT_TYPE, Registry
from soketler.protocols.websocket import (
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL,
    IRC_SUBPROTOCOLS,
    fit_reason,
)
from soketler.web import STATIC_DIR

log = logging.getLogger("soketler.web")

# What serves one WebSocket once its handshake is done; returning ends it.
SocketHandler = Callable[[web.WebSocketResponse, web.Request], Awaitable[None]]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# User-visible texts of plain HTTP answers.
HEALTHY = "ok\n"
INTERNAL_ERROR = "internal error"
SHUTTING_DOWN = "server shutting down"
ORIGIN_REFUSED = "This page may not open a chat connection here (Origin not allowed).\n"
UPGRADE_REQUIRED = "This address is for WebSocket connections; the chat page is at /.\n"


@dataclass(frozen=True, slots=True)
class WebConfig:
    origins: tuple[str, ...] | None = None  # allowed page origins; None: the same host
    max_frame: int = 16 * 1024  # bytes in one message from a browser; more closes 1009
    heartbeat: float | None = 30.0  # seconds between pings; a peer that misses one is closed
    close_timeout: float = 5.0  # seconds a closing handshake may take before a reset
    static_dir: Path = field(default=STATIC_DIR)


class WebMetrics:
    """What the door itself counts; the hub's counters join them in the same registry."""

    def __init__(self, registry: Registry) -> None:
        self.open = registry.gauge("soketler_web_sockets", "WebSocket connections open now.")
        self.accepted = registry.counter(
            "soketler_web_sockets_accepted_total", "WebSocket handshakes accepted."
        )
        self.refused = registry.counter(
            "soketler_web_sockets_refused_total",
            "WebSocket handshakes refused, by reason.",
            ["reason"],
        )
        self.closed = registry.counter(
            "soketler_web_sockets_closed_total",
            "WebSocket connections ended, by close code (1006: no close frame).",
            ["code"],
        )


def make_app(
    handler: SocketHandler,
    config: WebConfig | None = None,
    registry: Registry | None = None,
    irc: SocketHandler | None = None,
) -> web.Application:
    """The aiohttp application of the browser door. `registry` holds the metrics shown
    at /metrics (a new one when not given); the door adds its own to it. With `irc`,
    /irc takes IRC clients over WebSocket (the IRCv3 subprotocols)."""
    config = config or WebConfig()
    registry = registry if registry is not None else Registry()
    origins = allowed_origins(config.origins) if config.origins is not None else None
    metrics = WebMetrics(registry)
    handlers = _Handlers(handler, config, origins, registry, metrics)

    app = web.Application(middlewares=[_security_headers])
    app.router.add_get("/", handlers.index)
    app.router.add_get("/ws", handlers.websocket)
    if irc is not None:
        app.router.add_get("/irc", handlers.socket(irc, IRC_SUBPROTOCOLS))
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/metrics", handlers.metrics)
    app.router.add_static("/static/", config.static_dir, follow_symlinks=False)
    app.on_shutdown.append(handlers.shutdown)
    return app


@web.middleware
async def _security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # 404s and the like get the headers too
        exc.headers.update(SECURITY_HEADERS)
        raise
    if not response.prepared:  # a WebSocket's handshake has gone out already
        response.headers.update(SECURITY_HEADERS)
    return response


class _Handlers:
    def __init__(
        self,
        handler: SocketHandler,
        config: WebConfig,
        origins: frozenset[Origin] | None,
        registry: Registry,
        metrics: WebMetrics,
    ) -> None:
        self.handler = handler
        self.config = config
        self.origins = origins
        self.registry = registry
        self.counts = metrics
        self.sockets: set[web.WebSocketResponse] = set()

    async def index(self, request: web.Request) -> web.StreamResponse:
        # Revalidated on every visit, so a new version of the page is seen at once.
        return web.FileResponse(
            self.config.static_dir / "index.html", headers={"Cache-Control": "no-cache"}
        )

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text=HEALTHY, headers={"Cache-Control": "no-store"})

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.registry.expose().encode(),
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self.handler, ())

    def socket(
        self, handler: SocketHandler, protocols: tuple[str, ...]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A WebSocket route for another door, offering these subprotocols."""

        async def serve(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, handler, protocols)

        return serve

    async def _serve(
        self, request: web.Request, handler: SocketHandler, protocols: tuple[str, ...]
    ) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            protocols=protocols,
            # aiohttp refuses a message of max_msg_size bytes or more; ours is a maximum.
            max_msg_size=self.config.max_frame + 1,
            # No permessage-deflate: compressing is a cost per reader, not per message,
            # and compression beside secrets is how CRIME-style attacks read them.
            compress=False,
            heartbeat=self.config.heartbeat,
            timeout=self.config.close_timeout,
        )
        if not ws.can_prepare(request).ok:
            return web.Response(status=426, text=UPGRADE_REQUIRED, headers={"Upgrade": "websocket"})
        if not origin_allowed(request.headers.get("Origin"), request.host, self.origins):
            self.counts.refused.labels(reason="origin").inc()
            return web.Response(status=403, text=ORIGIN_REFUSED)
        await ws.prepare(request)
        self.sockets.add(ws)
        self.counts.accepted.inc()
        self.counts.open.inc()
        try:
            await handler(ws, request)
        except Exception:
            log.exception("the door failed for a WebSocket from %s", request.remote)
            await _close(ws, CLOSE_INTERNAL, INTERNAL_ERROR)
        finally:
            # A handler that returned without closing (or failed) closes normally; the
            # closing handshake is bounded by the close timeout.
            await _close(ws)
            self.sockets.discard(ws)
            self.counts.open.dec()
            code = ws.close_code
            self.counts.closed.labels(code=str(code if code is not None else 1006)).inc()
        return ws

    async def shutdown(self, app: web.Application) -> None:
        """Whatever WebSocket is still open when the application stops (a door closes
        its own first, after its goodbye) is told the server is going away."""
        await asyncio.gather(
            *(_close(ws, CLOSE_GOING_AWAY, SHUTTING_DOWN) for ws in list(self.sockets)),
            return_exceptions=True,
        )


async def _close(ws: web.WebSocketResponse, code: int = 1000, reason: str = "") -> None:
    if not ws.closed:
        # A peer that is gone already has nothing to say goodbye to.
        with contextlib.suppress(ConnectionError):
            await ws.close(code=code, message=fit_reason(reason).encode())
