"""The browser door's HTTP side: the page, its files, `/ws`, `/healthz` and `/metrics`.

`make_app(door)` builds the aiohttp application. Each WebSocket that passes the
checks (Origin, size) is handed to `door(channel)`; the door speaks the JSON-lines
protocol over it (one JSON object per text frame) and returns when the conversation is
over. So connecting the page to the chat hub is writing that one coroutine.

Every response carries a strict Content-Security-Policy: scripts and styles only
from this origin as files (no inline script, no eval), WebSocket and fetch only to
this origin, no frames. Together with a page that never puts received text into HTML,
a message cannot run code in a reader's browser.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from soketler.doors.web.channel import (
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL,
    INTERNAL_ERROR,
    SHUTTING_DOWN,
    Channel,
    WebSocketChannel,
)
from soketler.doors.web.origin import Origin, allowed_origins, origin_allowed
from soketler.metrics import CONTENT_TYPE, Registry
from soketler.web import STATIC_DIR

log = logging.getLogger("soketler.web")

Door = Callable[[Channel], Awaitable[None]]

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
ORIGIN_REFUSED = "This page may not open a chat connection here (Origin not allowed).\n"
UPGRADE_REQUIRED = "This address is for WebSocket connections; the chat page is at /.\n"


@dataclass(frozen=True, slots=True)
class WebConfig:
    origins: tuple[str, ...] | None = None  # allowed page origins; None: the same host
    max_frame: int = 16 * 1024  # bytes in one message from a browser; more closes 1009
    sendq: int = 1 << 20  # characters waiting for a slow reader before it is cut off
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
        self.frames_in = registry.counter(
            "soketler_web_frames_received_total", "Text frames received from browsers."
        )
        self.frames_out = registry.counter(
            "soketler_web_frames_sent_total", "Text frames sent to browsers."
        )


def make_app(
    door: Door, config: WebConfig | None = None, registry: Registry | None = None
) -> web.Application:
    """The aiohttp application of the browser door. `registry` holds the metrics shown
    at /metrics (a new one when not given); the door adds its own to it."""
    config = config or WebConfig()
    registry = registry if registry is not None else Registry()
    origins = allowed_origins(config.origins) if config.origins is not None else None
    metrics = WebMetrics(registry)
    handlers = _Handlers(door, config, origins, registry, metrics)

    app = web.Application(middlewares=[_security_headers])
    app.router.add_get("/", handlers.index)
    app.router.add_get("/ws", handlers.websocket)
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
        door: Door,
        config: WebConfig,
        origins: frozenset[Origin] | None,
        registry: Registry,
        metrics: WebMetrics,
    ) -> None:
        self.door = door
        self.config = config
        self.origins = origins
        self.registry = registry
        self.counts = metrics
        self.channels: set[WebSocketChannel] = set()

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
        ws = web.WebSocketResponse(
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
        channel = WebSocketChannel(
            ws,
            request.remote or "",
            self.config.sendq,
            request.transport,
            received=self.counts.frames_in,
            sent=self.counts.frames_out,
        )
        self.channels.add(channel)
        self.counts.accepted.inc()
        self.counts.open.inc()
        try:
            await self.door(channel)
        except Exception:
            log.exception("the door failed for a WebSocket from %s", channel.address)
            channel.close(CLOSE_INTERNAL, INTERNAL_ERROR)
        finally:
            await channel.finish(self.config.close_timeout)
            self.channels.discard(channel)
            self.counts.open.dec()
            code = channel.close_code
            self.counts.closed.labels(code=str(code if code is not None else 1006)).inc()
        return ws

    async def shutdown(self, app: web.Application) -> None:
        for channel in list(self.channels):
            channel.close(CLOSE_GOING_AWAY, SHUTTING_DOWN)
        await asyncio.gather(
            *(c.finish(self.config.close_timeout) for c in list(self.channels)),
            return_exceptions=True,
        )
