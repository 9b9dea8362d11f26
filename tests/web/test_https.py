"""The browser door over HTTPS (the server's certificate), with a server password: the
page, its WebSocket (wss://) and its password field, in chromium and from Python."""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from soketler.doors.web.app import CONTENT_SECURITY_POLICY
from tests.e2e.lineclient import LineClient
from tests.e2e.serverprocess import ServerProcess, serve_process
from tests.security.certs import Certs, make_certs
from tests.tools.support import free_port
from tests.web.pages import ChatPage

PASSWORD = "kapıdaki şifre"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def https_server(certs: Certs) -> Any:
    return serve_process(
        "--tls-cert", certs.good.cert, "--tls-key", certs.good.key, "--tls-port", "0",
        "--web-port", str(free_port()), "--password", PASSWORD, "--rate", "0",
        "--max-per-address", "0",
    )  # fmt: skip


async def telnet_user(server: ServerProcess, nick: str, source: str) -> LineClient:
    """A plain-line user who gives the server password when asked."""
    user = await LineClient.connect("127.0.0.1", server.port, source=source)
    await user.expect("Choose a nickname")
    user.send(nick)
    await user.expect("This server needs a password")
    user.send(PASSWORD)
    await user.expect("You are in #lobby")
    return user


def url(server: ServerProcess) -> str:
    return f"https://127.0.0.1:{server.web_port}"


async def test_the_page_and_its_websocket_over_https(certs: Certs) -> None:
    trusted = ssl.create_default_context(cafile=certs.ca)
    async with https_server(certs) as server, aiohttp.ClientSession() as http:
        async with http.get(url(server), ssl=trusted) as page:
            assert page.status == 200
            assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert 'id="password-input"' in await page.text()
        watcher = await telnet_user(server, "watcher", "127.0.0.2")
        ws_url = f"wss://127.0.0.1:{server.web_port}/ws"
        async with http.ws_connect(ws_url, ssl=trusted, origin=url(server)) as ws:
            await ws.send_str(json.dumps({"type": "hello", "nick": "web", "id": 1}))
            refused = json.loads((await ws.receive()).data)
            assert refused["code"] == "password-required"
            hello = {"type": "hello", "nick": "web", "password": PASSWORD, "id": 2}
            await ws.send_str(json.dumps(hello))
            assert json.loads((await ws.receive()).data)["type"] == "hello"
            await ws.send_str(json.dumps({"type": "message", "text": "from wss"}))
            await watcher.expect("<web> from wss")
        # Plain HTTP to the HTTPS port gets nothing: the connection is dropped.
        with pytest.raises(aiohttp.ClientError):
            async with http.get(f"http://127.0.0.1:{server.web_port}/"):
                pass
        await watcher.close()


async def test_the_page_logs_in_with_the_server_password(certs: Certs, browser: Any) -> None:
    async with https_server(certs) as server:
        # The test CA is not the browser's: as a person accepts a certificate they know.
        chat = await ChatPage.open(browser, url(server), ignore_https_errors=True)
        await chat.page.fill("#nick-input", "tarayıcı")
        await chat.page.press("#nick-input", "Enter")
        error = chat.page.locator("#login-error")
        await expect(error).to_have_text("This server needs a password.")
        await expect(chat.page.locator("#password-input")).to_be_focused()
        await chat.page.fill("#password-input", "wrong")
        await chat.page.press("#password-input", "Enter")
        await expect(error).to_have_text("Wrong password.")
        await chat.page.fill("#password-input", PASSWORD)
        await chat.page.press("#password-input", "Enter")
        await expect(chat.status).to_have_attribute("data-state", "connected")
        telnet = await telnet_user(server, "telnet", "127.0.0.3")
        telnet.send("over https too")
        await expect(chat.message("over https too")).to_be_visible()
        await chat.say("and back")
        await telnet.expect("<tarayıcı> and back")
        chat.assert_clean()
        await telnet.close()
        await chat.close()
