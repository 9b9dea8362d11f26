"""The browser door's HTTP side over real sockets on 127.0.0.1, with a Python client."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from prometheus_client.parser import text_string_to_metric_families

from soketler.doors.web.app import (
    CONTENT_SECURITY_POLICY,
    HEALTHY,
    WebConfig,
)
from soketler.protocols.websocket import CLOSE_GOING_AWAY, CLOSE_INTERNAL, CLOSE_TOO_BIG
from soketler.web import STATIC_DIR
from tests.web.webserver import WebServer

TIMEOUT = 10.0


async def shouting(ws: web.WebSocketResponse, request: web.Request) -> None:
    """A handler for these tests: answers each frame in capitals; 'boom' is a bug in it."""
    async for message in ws:
        if message.type is not WSMsgType.TEXT:
            continue
        text = message.data
        if text == "boom":
            raise RuntimeError("secret internal detail")
        if text.startswith("close "):  # "close CODE"
            await ws.send_str("closing")
            await ws.close(code=int(text.split()[1]), message=b"asked to")
            return
        await ws.send_str(text.upper())


@pytest.fixture
async def server() -> AsyncIterator[WebServer]:
    started = await WebServer(shouting, WebConfig(max_frame=1024)).start()
    yield started
    await started.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        yield session


def same_origin(server: WebServer) -> dict[str, str]:
    return {"Origin": server.url}


def metric_values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_the_page_comes_with_a_strict_policy(
    server: WebServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(server.url + "/") as response:
        page = await response.text()
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
    assert policy["default-src"] == "'none'" and "unsafe" not in CONTENT_SECURITY_POLICY
    # The policy allows no inline script or style, so the page must have none.
    assert '<script type="module" src="/static/js/main.js"></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", page)


async def test_static_files_are_served_with_the_policy_and_nothing_else(
    server: WebServer, http: aiohttp.ClientSession
) -> None:
    for name in ("app.css", "js/main.js", "icon.svg"):
        async with http.get(f"{server.url}/static/{name}") as response:
            assert response.status == 200, name
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert await response.read() == (STATIC_DIR / name).read_bytes()
    for path in ("/static/nope.js", "/static/../__init__.py", "/static/%2e%2e/__init__.py"):
        async with http.get(server.url + path) as response:
            assert response.status in (403, 404), path
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


async def test_health(server: WebServer, http: aiohttp.ClientSession) -> None:
    async with http.get(server.url + "/healthz") as response:
        assert response.status == 200 and await response.text() == HEALTHY


async def test_frames_go_to_the_door_and_back(
    server: WebServer, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(server.ws_url, headers=same_origin(server)) as ws:
        await ws.send_str("merhaba 👋")
        assert await ws.receive_str(timeout=TIMEOUT) == "MERHABA 👋"
        await ws.send_str("close 4001")
        assert await ws.receive_str(timeout=TIMEOUT) == "closing"
        closing = await ws.receive(timeout=TIMEOUT)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 4001
        assert closing.extra == "asked to"


async def test_a_page_from_elsewhere_is_refused_before_the_handshake(
    server: WebServer, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(server.ws_url, headers={"Origin": "http://evil.example"})
    assert refused.value.status == 403
    async with http.get(server.url + "/metrics") as response:
        values = metric_values(await response.text())
    assert values[("soketler_web_sockets_refused_total", (("reason", "origin"),))] == 1


async def test_a_program_without_an_origin_may_connect(
    server: WebServer, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(server.ws_url) as ws:
        await ws.send_str("hi")
        assert await ws.receive_str(timeout=TIMEOUT) == "HI"


async def test_listed_origins_replace_the_same_host_rule(http: aiohttp.ClientSession) -> None:
    server = await WebServer(shouting, WebConfig(origins=("https://chat.example.org",))).start()
    try:
        async with http.ws_connect(
            server.ws_url, headers={"Origin": "https://chat.example.org"}
        ) as ws:
            await ws.send_str("ok")
            assert await ws.receive_str(timeout=TIMEOUT) == "OK"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(server.ws_url, headers=same_origin(server))
    finally:
        await server.stop()


async def test_a_frame_over_the_limit_closes_with_1009(
    server: WebServer, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(server.ws_url, headers=same_origin(server)) as ws:
        await ws.send_str("x" * 1024)  # exactly the limit: fine
        assert await ws.receive_str(timeout=TIMEOUT) == "X" * 1024
        await ws.send_str("x" * 1025)
        closing = await ws.receive(timeout=TIMEOUT)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == CLOSE_TOO_BIG


async def test_a_failing_door_closes_with_1011_and_tells_nothing(
    server: WebServer, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, "soketler.web")
    async with http.ws_connect(server.ws_url, headers=same_origin(server)) as ws:
        await ws.send_str("boom")
        closing = await ws.receive(timeout=TIMEOUT)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == CLOSE_INTERNAL
        assert "secret" not in (closing.extra or "")
    assert "secret internal detail" in caplog.text
    # The next visitor is served as usual.
    async with http.ws_connect(server.ws_url, headers=same_origin(server)) as ws:
        await ws.send_str("still here")
        assert await ws.receive_str(timeout=TIMEOUT) == "STILL HERE"


async def test_plain_http_on_the_websocket_address_is_told_where_the_page_is(
    server: WebServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(server.url + "/ws") as response:
        assert response.status == 426
        assert "the chat page is at /" in await response.text()


async def test_shutdown_says_going_away(server: WebServer, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(server.ws_url, headers=same_origin(server)) as ws:
        await ws.send_str("hi")
        assert await ws.receive_str(timeout=TIMEOUT) == "HI"
        stopping = asyncio.create_task(server.stop())
        closing = await ws.receive(timeout=TIMEOUT)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == CLOSE_GOING_AWAY
    await asyncio.wait_for(stopping, TIMEOUT)


async def test_metrics_count_connections_and_closes(
    server: WebServer, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(server.ws_url, headers=same_origin(server)) as ws:
        for word in ("a", "b", "c"):
            await ws.send_str(word)
            await ws.receive_str(timeout=TIMEOUT)
        async with http.get(server.url + "/metrics") as response:
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            during = metric_values(await response.text())
        assert during[("soketler_web_sockets", ())] == 1
        await ws.close()
    # The server counts the close once its side of the handshake is done.
    for _ in range(100):
        async with http.get(server.url + "/metrics") as response:
            after = metric_values(await response.text())
        if after[("soketler_web_sockets", ())] == 0:
            break
        await asyncio.sleep(0.02)
    assert after[("soketler_web_sockets", ())] == 0
    assert after[("soketler_web_sockets_accepted_total", ())] == 1
    assert after[("soketler_web_sockets_closed_total", (("code", "1000"),))] == 1
