"""`soketler serve --unix PATH`: alone, the Unix socket is the only listener."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from tests.e2e.lineclient import LineClient
from tests.e2e.serverprocess import SOKETLER


async def _listeners(tmp_path: Path, *args: str) -> list[str]:
    """Starts `soketler serve ARGS`, chats once over the Unix socket, stops it, and
    returns every `listening on` line it printed."""
    path = str(tmp_path / "chat.sock")
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER,
        "serve",
        "--db",
        ":memory:",
        "--unix",
        path,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode()
        assert first.startswith("listening on "), first
        # Every listener is printed before the server serves anyone, so once this
        # client is greeted, all the lines are out.
        client = await LineClient.unix(path)
        await client.expect("Choose a nickname")
        await client.close()
        proc.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(proc.communicate(), 15)
        assert proc.returncode == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    lines = [first.strip(), *rest.decode().splitlines()]
    return [line for line in lines if line.startswith("listening on ")]


async def test_unix_alone_opens_no_tcp_port(tmp_path: Path) -> None:
    assert await _listeners(tmp_path) == [f"listening on {tmp_path / 'chat.sock'}"]


async def test_unix_with_an_explicit_port_opens_tcp_as_well(tmp_path: Path) -> None:
    lines = await _listeners(tmp_path, "--host", "127.0.0.1", "--port", "0")
    assert lines[-1] == f"listening on {tmp_path / 'chat.sock'}"
    assert len(lines) == 2 and lines[0].startswith("listening on 127.0.0.1:")
