"""`soketler chat` as a real process without a terminal: pipes, --send, exit codes."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from soketler import exitcodes
from soketler.cli import build_parser
from soketler.client import ChatMessage, Event, Joined
from tests.client.conftest import (
    SOKETLER,
    Connect,
    next_matching,
    silent_server,
    start_chat_server,
    unused_port,
)

# No colours and no locale surprises in what the tests read.
ENV = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


@asynccontextmanager
async def chat_process(*args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER,
        "chat",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await asyncio.wait_for(proc.wait(), 10)


async def run_chat(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    async with chat_process(*args) as proc:
        out, err = await asyncio.wait_for(proc.communicate(stdin), 20)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()


async def test_piped_lines_are_all_delivered_then_it_exits_0(connect: Connect, port: int) -> None:
    bob = await connect("bob")
    code, out, err = await run_chat("127.0.0.1", str(port), "--nick", "x", "-v", stdin=b"a\nb\n")
    assert (code, err) == (0, "")
    for text in ("a", "b"):
        got = await next_matching(bob, lambda e, t=text: isinstance(e, ChatMessage) and e.text == t)
        assert isinstance(got, ChatMessage) and got.sender == "x"
    assert re.search(r"^\d\d:\d\d <x> a$", out, re.MULTILINE)
    assert "\x1b" not in out  # plain text for pipes


async def test_piped_commands_and_incoming_lines(connect: Connect, port: int) -> None:
    bob = await connect("bob", rooms=["#ops"])
    lines = b"/join #ops\nto ops\n/me deploys\n/msg bob psst\n//literal slash\n"
    code, out, _ = await run_chat("127.0.0.1", str(port), "--nick", "cron", "-v", stdin=lines)
    assert code == 0
    got = [
        await next_matching(bob, lambda e: isinstance(e, ChatMessage) and e.sender == "cron")
        for _ in range(4)
    ]
    assert [(m.text, m.room, m.to, m.action) for m in got if isinstance(m, ChatMessage)] == [
        ("to ops", "#ops", None, False),
        ("deploys", "#ops", None, True),
        ("psst", None, "bob", False),
        ("/literal slash", "#ops", None, False),
    ]
    assert "-- cron joined #ops" in out


async def test_a_cron_job_prints_nothing_and_sits_only_in_its_room(
    connect: Connect, port: int
) -> None:
    heard: list[Event] = []
    lobby = await connect("bob", on_event=heard.append)
    ops = await connect("ops", rooms=["#ops"])
    async with chat_process("127.0.0.1", str(port), "--nick", "cron", "--join", "#ops") as proc:
        assert proc.stdin is not None
        proc.stdin.write(b"backup done\n")
        await proc.stdin.drain()
        said = await next_matching(ops, lambda e: isinstance(e, ChatMessage))
        assert isinstance(said, ChatMessage) and (said.room, said.text) == ("#ops", "backup done")
        # While it runs, cron is in #ops and not in #lobby.
        assert "cron" in (await ops.who("#ops")).users
        assert "cron" not in (await lobby.who("#lobby")).users
        proc.stdin.close()
        out, err = await asyncio.wait_for(proc.communicate(), 10)
    assert (proc.returncode, out, err) == (0, b"", b"")
    await lobby.ping()  # everything said in #lobby before this has reached bob
    assert not [e for e in heard if getattr(e, "nick", None) == "cron"]  # never in #lobby


async def test_a_refused_line_is_on_stderr_and_exits_9(port: int) -> None:
    code, out, err = await run_chat(
        "127.0.0.1", str(port), "--nick", "cron", stdin=b"/msg nobody hi\n/frob\nfine\n"
    )
    assert code == exitcodes.PROTOCOL
    assert out == ""
    assert err == (
        'soketler chat: Nobody is called "nobody".\n'
        "soketler chat: Unknown command /frob. Type /help for the list.\n"
    )


async def test_send_one_line_into_a_joined_room(connect: Connect, port: int) -> None:
    bob = await connect("bob", rooms=["#ops"])
    code, _, err = await run_chat(
        "127.0.0.1", str(port), "--nick", "deploy", "--join", "#ops", "--send", "v1.2 is live"
    )
    assert (code, err) == (0, "")
    got = await next_matching(bob, lambda e: isinstance(e, ChatMessage))
    assert isinstance(got, ChatMessage)
    assert (got.sender, got.room, got.text) == ("deploy", "#ops", "v1.2 is live")


async def test_connection_refused_is_one_line_and_its_exit_code() -> None:
    free_port = unused_port()
    code, out, err = await run_chat("127.0.0.1", str(free_port), "--nick", "x", "--send", "hi")
    assert code == exitcodes.REFUSED
    assert err == f"soketler chat: connection refused: 127.0.0.1 port {free_port}\n"
    assert out == ""


async def test_a_rejected_nickname_shows_the_servers_reason(port: int) -> None:
    code, _, err = await run_chat("127.0.0.1", str(port), "--nick", "9lives", "--send", "hi")
    assert code == exitcodes.PROTOCOL
    assert err.count("\n") == 1
    assert err.startswith("soketler chat: nickname '9lives' rejected: ")
    assert "digit" in err


async def test_a_silent_server_times_out() -> None:
    async with silent_server() as port:
        code, _, err = await run_chat(
            "127.0.0.1", str(port), "--nick", "x", "--timeout", "0.3", "--send", "hi"
        )
    assert code == exitcodes.TIMEOUT
    assert err.startswith("soketler chat: timed out") and err.count("\n") == 1


async def test_no_reconnect_exits_when_the_server_goes(connect: Connect) -> None:
    server = await start_chat_server()
    port = server.tcp_addresses[0][1]
    try:
        watcher = await connect("watcher", port=port)
        async with chat_process("127.0.0.1", str(port), "--nick", "x", "--no-reconnect") as proc:
            await next_matching(watcher, lambda e: isinstance(e, Joined) and e.nick == "x")
            await server.shutdown(grace=1.0)
            _, err = await asyncio.wait_for(proc.communicate(), 10)
            assert proc.returncode == exitcodes.RESET
            assert err.decode().startswith("soketler chat: connection lost")
            assert "Traceback" not in err.decode()
    finally:
        await server.shutdown(grace=1.0)


def test_help_documents_every_exit_code_it_uses() -> None:
    parser = build_parser()
    chat = parser._subparsers._group_actions[0].choices["chat"]  # type: ignore[union-attr]
    text = chat.format_help()
    for code in (
        exitcodes.UNKNOWN_HOST,
        exitcodes.REFUSED,
        exitcodes.UNREACHABLE,
        exitcodes.TIMEOUT,
        exitcodes.PROTOCOL,
        exitcodes.RESET,
        exitcodes.TLS,
    ):
        assert re.search(rf"^\s+{code}  \S", text, re.MULTILINE), code
