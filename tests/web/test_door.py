"""The browser door over real sockets on 127.0.0.1: a Python WebSocket client beside
telnet-style users, against an in-process server with the door's listener."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from soketler.core import texts
from soketler.core.config import Limits, Listener, ServerConfig
from soketler.protocols.websocket import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_LATER,
    CLOSE_UNSUPPORTED,
)
from soketler.transport.server import ChatServer
from tests.e2e.lineclient import LineClient, registered
from tests.web.wsclient import TIMEOUT, WebClient, client_frame, raw_handshake, read_frames

LOOPBACK = ("127.0.0.1",)
StartServer = Callable[..., Any]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """`await start_server(config=..., **limits)`: the lines door and the web door on
    ports the system picks; all stop after the test."""
    servers: list[ChatServer] = []

    async def start(
        db: str = ":memory:", web_origins: tuple[str, ...] = (), **limits: Any
    ) -> ChatServer:
        config = ServerConfig(
            hosts=LOOPBACK, port=0, db=db, limits=Limits(**limits), web_origins=web_origins
        )
        listeners = [Listener("lines", LOOPBACK, 0), Listener("web", LOOPBACK, 0)]
        server = ChatServer(config, listeners=listeners)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        with contextlib.suppress(Exception):
            await server.shutdown(grace=1.0)


@pytest.fixture
async def server(start_server: StartServer) -> ChatServer:
    started: ChatServer = await start_server()
    return started


def ws_url(server: ChatServer) -> str:
    host, port = server.tcp_addresses_of("web")[0]
    return f"ws://{host}:{port}/ws"


def web_port(server: ChatServer) -> int:
    return server.tcp_addresses_of("web")[0][1]


def lines_port(server: ChatServer) -> int:
    return server.tcp_addresses[0][1]


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(server: ChatServer) -> Samples:
    """/metrics, as Prometheus' own parser reads it."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{web_port(server)}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def door(name: str) -> tuple[tuple[str, str], ...]:
    return (("door", name),)


async def test_no_greeting_then_hello_join_who_and_the_replay_end_in_order(
    server: ChatServer,
) -> None:
    ayse = await WebClient.connect(ws_url(server))
    try:
        with pytest.raises(TimeoutError):  # nothing is said before the client speaks
            await ayse.ws.receive(timeout=0.3)
        await ayse.send({"type": "hello", "nick": "ayşe", "id": 1})
        kinds = [(await ayse.next())["type"] for _ in range(4)]
        assert kinds == ["hello", "join", "who", "history"]
        assert ayse.seen[0] == {
            "type": "hello",
            "nick": "ayşe",
            "server": "soketler",
            "version": ayse.seen[0]["version"],
            "protocol": 1,
            "room": "#lobby",
            "re": 1,
        }
        assert ayse.seen[2]["users"] == ["ayşe"]
        assert ayse.seen[3] == {"type": "history", "count": 0, "more": False, "room": "#lobby"}
    finally:
        await ayse.close()


async def test_a_request_before_hello_is_refused_until_a_nickname(server: ChatServer) -> None:
    ayse = await WebClient.connect(ws_url(server))
    try:
        await ayse.send({"type": "join", "room": "#dev", "id": 7})
        assert await ayse.next() == {
            "type": "error",
            "code": "not-registered",
            "text": "Choose a nickname first.",
            "re": 7,
        }
        await ayse.send({"type": "hello", "nick": "ayşe"})
        await ayse.expect("hello", nick="ayşe")
    finally:
        await ayse.close()


async def test_browser_and_telnet_users_talk_both_ways_in_rooms_and_privately(
    server: ChatServer,
) -> None:
    cem = await registered("127.0.0.1", lines_port(server), "cem")
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    try:
        await cem.expect("ayşe joined #lobby")
        await ayse.send({"type": "message", "room": "#lobby", "text": "merhaba 👋"})
        own = await ayse.expect("message", text="merhaba 👋")
        assert own["from"] == "ayşe" and own["room"] == "#lobby" and "history" not in own
        await cem.expect("<ayşe> merhaba 👋")

        cem.send("selam")
        heard = await ayse.expect("message", text="selam")
        assert heard["from"] == "cem" and heard["id"] > own["id"]

        cem.send("/msg ayşe psst")
        private = await ayse.expect("message", text="psst")
        assert private["to"] == "ayşe" and private["from"] == "cem"
        await ayse.send({"type": "message", "to": "cem", "text": "got it"})
        await cem.expect("*ayşe* got it")

        await ayse.send({"type": "join", "room": "#dev", "id": "j"})
        await ayse.expect("join", room="#dev", nick="ayşe")
        cem.send("/join #dev")
        await ayse.expect("join", room="#dev", nick="cem")
        await ayse.send({"type": "message", "room": "#dev", "text": "in dev", "action": True})
        await cem.expect("* ayşe in dev")
    finally:
        await ayse.close()
        await cem.close()


async def test_history_is_replayed_on_joining_and_paged_on_request(server: ChatServer) -> None:
    cem = await registered("127.0.0.1", lines_port(server), "cem")
    try:
        for i in range(1, 31):
            cem.send(f"line {i}")
        await cem.expect("<cem> line 30")
    finally:
        await cem.close()
    ayse = await WebClient.connect(ws_url(server))
    try:
        await ayse.send({"type": "hello", "nick": "ayşe"})
        end = await ayse.expect("history", room="#lobby")
        replayed = [m for m in ayse.seen if m["type"] == "message"]
        assert [m["text"] for m in replayed] == [f"line {i}" for i in range(11, 31)]
        assert all(m["history"] is True for m in replayed)
        assert end["count"] == 20 and end["more"] is True and end["oldest"] == replayed[0]["id"]

        await ayse.send({"type": "history", "room": "#lobby", "before": end["oldest"], "id": 2})
        page = await ayse.expect("history", re=2)
        older = [m["text"] for m in ayse.seen if m["type"] == "message"][20:]
        assert older == [f"line {i}" for i in range(1, 11)]
        assert page["count"] == 10 and page["more"] is False
    finally:
        await ayse.close()


async def test_a_search_answers_with_the_messages_found_then_its_end(server: ChatServer) -> None:
    cem = await registered("127.0.0.1", lines_port(server), "cem")
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    try:
        cem.send("sürüm notları hazır")
        cem.send("/msg ayşe sürüm gizli")
        await ayse.expect("message", text="sürüm gizli")
        await ayse.send({"type": "search", "q": "SURUM", "limit": 10, "tz": 180, "id": "s"})
        end = await ayse.expect("search", re="s")
        found = [m for m in ayse.seen if m.get("search")]
        assert [(m["text"], m["re"]) for m in found] == [
            ("sürüm notları hazır", "s"),
            ("sürüm gizli", "s"),
        ]
        assert end == {
            "type": "search",
            "count": 2,
            "more": False,
            "q": "SURUM",
            "oldest": found[0]["id"],
            "re": "s",
        }
    finally:
        await ayse.close()
        await cem.close()


async def test_bad_json_gets_an_error_and_the_connection_stays(server: ChatServer) -> None:
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    try:
        for bad in ("not json", "[1, 2]", '{"type": 5}', '{"type": "message", "action": "yes"}'):
            await ayse.send(bad)
            error = await ayse.expect("error")
            assert error["code"] == "bad-request", (bad, error)
        await ayse.send({"type": "nosuch", "id": 3})
        assert (await ayse.expect("error", re=3))["code"] == "unknown-command"
        await ayse.send("   ")  # nothing to do, as an empty line
        await ayse.send({"type": "ping", "id": 4})
        assert await ayse.next() == {"type": "pong", "re": 4}
    finally:
        await ayse.close()


async def test_a_frame_past_the_line_limit_is_refused_and_the_connection_stays(
    start_server: StartServer,
) -> None:
    server = await start_server(max_line=200)
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    try:
        await ayse.send({"type": "message", "room": "#lobby", "text": "ş" * 200})  # > 200 bytes
        error = await ayse.expect("error")
        assert error["code"] == "line-too-long" and "200 bytes" in error["text"]
        await ayse.send({"type": "message", "room": "#lobby", "text": "short"})
        await ayse.expect("message", text="short")
    finally:
        await ayse.close()


async def test_a_frame_over_the_frame_limit_closes_with_1009(server: ChatServer) -> None:
    cem = await registered("127.0.0.1", lines_port(server), "cem")
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    try:
        await ayse.send("x" * (16 * 1024 + 1))
        code, _ = await ayse.closed()
        assert code == CLOSE_TOO_BIG
        await cem.expect("ayşe quit")  # the session is gone with its connection
    finally:
        await ayse.close()
        await cem.close()


async def test_a_binary_frame_ends_the_session_with_1003(server: ChatServer) -> None:
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    try:
        await ayse.ws.send_bytes(b"\x00\x01")
        assert await ayse.expect("bye") == {"type": "bye", "reason": "Text frames only"}
        assert await ayse.closed() == (CLOSE_UNSUPPORTED, "Text frames only")
    finally:
        await ayse.close()


async def test_quit_says_goodbye_then_closes_normally_with_the_reason(server: ChatServer) -> None:
    cem = await registered("127.0.0.1", lines_port(server), "cem")
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    try:
        await ayse.send({"type": "quit", "reason": "iyi geceler"})
        assert await ayse.next() == {"type": "bye", "reason": "iyi geceler"}
        assert await ayse.closed() == (CLOSE_NORMAL, "iyi geceler")
        await cem.expect("ayşe quit (iyi geceler)")

        # A reason longer than a close frame holds is cut at a character boundary.
        bora = await WebClient.registered(ws_url(server), "bora")
        await bora.send({"type": "quit", "reason": "ş" * 100})  # 200 bytes
        assert (await bora.next())["reason"] == "ş" * 100
        assert await bora.closed() == (CLOSE_NORMAL, "ş" * 61)  # 122 bytes
        await bora.close()
    finally:
        await ayse.close()
        await cem.close()


async def test_shutdown_says_goodbye_then_going_away(server: ChatServer) -> None:
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    port = web_port(server)
    try:
        stopping = asyncio.create_task(server.shutdown(grace=TIMEOUT))
        assert await ayse.next() == {"type": "bye", "reason": texts.SERVER_SHUTDOWN}
        assert await ayse.closed() == (CLOSE_GOING_AWAY, texts.SERVER_SHUTDOWN)
        await asyncio.wait_for(stopping, TIMEOUT)
    finally:
        await ayse.close()
    # And the web port no longer answers.
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_the_rate_limit_slows_a_paste_and_loses_nothing(start_server: StartServer) -> None:
    server = await start_server(rate=20.0, burst=2)
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    try:
        for i in range(8):
            await ayse.send({"type": "message", "room": "#lobby", "text": f"paste {i}"})
        notice = await ayse.expect("info", test=lambda m: m["text"].startswith("Slow down"))
        assert "20 a second" in notice["text"]
        said = [m["text"] for m in ayse.seen if m["type"] == "message"]
        while len(said) < 8:
            said.append((await ayse.expect("message"))["text"])
        assert said == [f"paste {i}" for i in range(8)]
    finally:
        await ayse.close()


def flood(port: int, frames: int) -> tuple[list[tuple[int, bytes]], bytes]:
    """Registers, then sends `frames` messages in one write; what comes back."""
    sock = raw_handshake(port)
    try:
        hello = json.dumps({"type": "hello", "nick": "sel"}).encode()
        line = json.dumps({"type": "message", "room": "#lobby", "text": "x"}).encode()
        sock.sendall(client_frame(hello) + client_frame(line) * frames)
        data = b""
        with contextlib.suppress(ConnectionError):
            while chunk := sock.recv(1 << 16):
                data += chunk
        frames_back, _ = read_frames(data)
        close = next((payload for opcode, payload in frames_back if opcode == 0x8), b"")
        return frames_back, close
    finally:
        sock.close()


async def test_a_flood_is_cut_with_1008(start_server: StartServer) -> None:
    server = await start_server(rate=1.0, burst=1, flood_lines=50)
    frames, close = await asyncio.to_thread(flood, web_port(server), 400)
    texts_back = [json.loads(p) for opcode, p in frames if opcode == 0x1]
    assert {"type": "bye", "reason": texts.EXCESS_FLOOD} in texts_back
    assert int.from_bytes(close[:2], "big") == CLOSE_POLICY
    assert close[2:].decode() == texts.EXCESS_FLOOD
    metrics = await scrape(server)
    assert metrics[("soketler_floods_total", door("web"))] == 1
    assert metrics[("soketler_floods_total", door("lines"))] == 0


async def test_a_nickname_not_chosen_in_time_ends_with_1008(start_server: StartServer) -> None:
    server = await start_server(nick_timeout=0.3)
    ayse = await WebClient.connect(ws_url(server))
    try:
        assert await ayse.next() == {"type": "bye", "reason": texts.REGISTRATION_TIMEOUT}
        assert await ayse.closed() == (CLOSE_POLICY, texts.REGISTRATION_TIMEOUT)
    finally:
        await ayse.close()


async def test_browsers_count_against_the_connection_limits_with_everyone(
    start_server: StartServer,
) -> None:
    server = await start_server(max_per_address=2)
    first = await LineClient.connect("127.0.0.1", lines_port(server))
    second = await WebClient.connect(ws_url(server))
    third = await WebClient.connect(ws_url(server))
    try:
        refusal = texts.TOO_MANY_FROM_ADDRESS.format(limit=2)
        assert await third.next() == {"type": "bye", "reason": refusal}
        assert await third.closed() == (CLOSE_TRY_LATER, refusal)
        refused = await scrape(server)
        assert refused[("soketler_connections_refused_total", (("reason", "per-address"),))] == 1
        # One leaves: a browser from the same address gets in.
        await second.close()
        for _ in range(100):
            if len(server.connections) == 1:
                break
            await asyncio.sleep(0.02)
        fourth = await WebClient.registered(ws_url(server), "dört")
        await fourth.close()
    finally:
        await first.close()
        await third.close()


async def test_a_page_from_another_origin_is_refused(start_server: StartServer) -> None:
    server = await start_server(web_origins=("https://chat.example.org",))
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url(server), headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403
        async with http.ws_connect(
            ws_url(server), headers={"Origin": "https://chat.example.org"}
        ) as ws:
            await ws.send_str(json.dumps({"type": "ping", "id": 1}))
            assert json.loads(await ws.receive_str(timeout=TIMEOUT)) == {"type": "pong", "re": 1}


def stalled_reader(
    port: int, started: asyncio.Event, loop: asyncio.AbstractEventLoop, release: threading.Event
) -> bytes:
    """A browser whose tab stopped reading: registers, then reads nothing until the
    server has given up on it (`release`); then what is left, to the reset or the end."""
    sock = raw_handshake(port, rcvbuf=4096)
    try:
        sock.sendall(client_frame(json.dumps({"type": "hello", "nick": "uyku"}).encode()))
        loop.call_soon_threadsafe(started.set)
        release.wait(60)
        sock.settimeout(30)
        data = bytearray()
        with contextlib.suppress(ConnectionError, TimeoutError):
            while chunk := sock.recv(1 << 20):
                data += chunk
        return bytes(data)
    finally:
        sock.close()


async def test_a_browser_that_reads_nothing_is_cut_at_its_sendq(start_server: StartServer) -> None:
    server = await start_server(sendq=64 * 1024, sendq_grace=0.5, rate=0.0)
    loop = asyncio.get_running_loop()
    started, release = asyncio.Event(), threading.Event()
    cem = await registered("127.0.0.1", lines_port(server), "cem")
    reader = asyncio.create_task(
        asyncio.to_thread(stalled_reader, web_port(server), started, loop, release)
    )
    await asyncio.wait_for(started.wait(), TIMEOUT)
    await cem.expect("uyku joined")
    drained = asyncio.create_task(cem.expect("uyku quit (SendQ exceeded)", timeout=60))
    sent = 0
    try:
        # Bounded: 2,000 lines of 3,000 bytes (6 MB) is past the ~3 MB the kernel takes.
        for i in range(2000):
            cem.send(f"{i:04} " + "y" * 3000)
            sent += 3000
            if i % 50 == 0:
                await cem.writer.drain()
            if drained.done():
                break
        await asyncio.wait_for(drained, 60)
        release.set()
        # What it then reads ends in a reset or the end, not a hang, and is not all.
        got = await asyncio.wait_for(reader, 60)
        assert len(got) < sent
        metrics = await scrape(server)
        assert metrics[("soketler_sendq_drops_total", door("web"))] == 1
        assert metrics[("soketler_sendq_drops_total", door("lines"))] == 0
    finally:
        release.set()
        drained.cancel()
        await cem.close()


async def test_metrics_count_connections_messages_deliveries_and_commits(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = await start_server(db=str(tmp_path / "h.db"))
    cem = await registered("127.0.0.1", lines_port(server), "cem")
    ayse = await WebClient.registered(ws_url(server), "ayşe")
    try:
        await cem.expect("ayşe joined")
        before = await scrape(server)
        assert before[("soketler_connections", door("web"))] == 1
        assert before[("soketler_connections", door("lines"))] == 1
        assert before[("soketler_connections_accepted_total", door("web"))] == 1
        assert before[("soketler_users", ())] == 2 and before[("soketler_rooms", ())] == 1
        for i in range(3):
            await ayse.send({"type": "message", "room": "#lobby", "text": f"m{i}"})
            await cem.expect(f"<ayşe> m{i}")
        await ayse.send({"type": "message", "to": "cem", "text": "psst"})
        await cem.expect("*ayşe* psst")
        after = await scrape(server)
        messages = ("soketler_messages_total", (("kind", "room"),))
        assert after[messages] - before[messages] == 3
        assert after[("soketler_messages_total", (("kind", "private"),))] == 1
        deliveries = ("soketler_deliveries_total", ())
        # Three messages to a room of two, and a private one to its reader and its sender.
        assert after[deliveries] - before[deliveries] == 3 * 2 + 2
        assert after[("soketler_store_commit_messages_sum", ())] == 4
        assert after[("soketler_store_commit_seconds_count", ())] >= 1
        assert after[("soketler_store_failures_total", ())] == 0
        assert after[("soketler_store_queue_depth", ())] == 0
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{web_port(server)}/healthz"
            async with http.get(url) as response:
                assert response.status == 200 and await response.text() == "ok\n"
    finally:
        await ayse.close()
        await cem.close()
    for _ in range(100):  # the sessions end once their connections do
        gone = await scrape(server)
        if gone[("soketler_connections", door("web"))] == 0:
            break
        await asyncio.sleep(0.02)
    assert gone[("soketler_connections", door("web"))] == 0


async def test_a_browser_behind_counts_in_the_backlog_until_it_catches_up(
    start_server: StartServer,
) -> None:
    """Above its transport's high-water mark a browser's unsent bytes count in the
    server's backlog (as a TCP client's do), and stop counting once it has read them."""
    server = await start_server(sendq=16 << 20, rate=0.0)
    cem = await registered("127.0.0.1", lines_port(server), "cem")
    sock = await asyncio.to_thread(raw_handshake, web_port(server), 4096)
    try:
        hello = client_frame(json.dumps({"type": "hello", "nick": "yavaş"}).encode())
        sock.sendall(hello)
        await cem.expect("yavaş joined")
        [browser] = [c for c in server.connections if c.door.name == "web"]
        echoes = asyncio.create_task(cem.expect("<cem> 0999 ", timeout=60))
        # What the backlog counts for this connection (the pump's own tally of it).
        counted = 0
        for i in range(1000):  # 3 MB and more: past what the kernel takes for it
            cem.send(f"{i:04} " + "y" * 3000)
            if i % 50 == 0:
                await cem.writer.drain()
            counted = max(counted, browser._unsent)
        await asyncio.wait_for(echoes, 60)
        for _ in range(250):
            counted = max(counted, browser._unsent)
            if counted:
                break
            await asyncio.sleep(0.02)
        assert counted > 64 * 1024, "the browser's unsent bytes never counted"
        assert server.backlog.unsent >= browser._unsent
        # Now it reads everything, and is no longer behind.
        seen = await asyncio.to_thread(read_until, sock, b"0999 ")
        assert seen.count(b'"text":"') >= 1000
        for _ in range(250):
            if browser._unsent == 0:
                break
            await asyncio.sleep(0.02)
        assert browser._unsent == 0 and server.backlog.unsent == 0
        assert len(server.connections) == 2  # nobody was dropped
    finally:
        sock.close()
        await cem.close()


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = bytearray()
    while marker not in data[-(1 << 16) :]:  # (the marker is in the newest bytes)
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return bytes(data)
