"""`soketler serve --ssh-port` as a real process: where it listens, its host key, and its
start-up errors as one line."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from pathlib import Path

import asyncssh

from tests.e2e.serverprocess import SOKETLER


async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def start(*args: str, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, int]:
    """`soketler serve --ssh-port 0 ARGS`; returns it with its SSH port."""
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER, "serve", "--host", "127.0.0.1", "--port", "0", "--ssh-port", "0",
        "--web-port", "0", "--irc-port", "0", "--db", ":memory:", *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
    )  # fmt: skip
    assert proc.stdout is not None
    lines = [await asyncio.wait_for(proc.stdout.readline(), 15) for _ in range(2)]
    found = re.match(rb"listening on 127\.0\.0\.1:(\d+) \(ssh\)", lines[1])
    assert found, lines
    return proc, int(found.group(1))


async def stop(proc: asyncio.subprocess.Process) -> str:
    proc.terminate()
    _, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0
    return err.decode()


async def test_the_host_key_is_made_in_the_data_folder_once(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    proc, port = await start(env=env)
    first = await asyncssh.get_server_host_key("127.0.0.1", port)
    log = await stop(proc)
    path = tmp_path / "soketler" / "ssh" / "host_ed25519_key"
    assert f"made the SSH host key {path}" in log
    assert first is not None and first.get_fingerprint() in log
    proc, port = await start(env=env)
    again = await asyncssh.get_server_host_key("127.0.0.1", port)
    log = await stop(proc)
    assert f"using the SSH host key {path}" in log
    assert again is not None and again.get_fingerprint() == first.get_fingerprint()


async def test_start_up_errors_of_the_ssh_door_are_one_line(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    base = (
        "serve",
        "--db",
        ":memory:",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--web-port",
        "0",
        "--irc-port",
        "0",
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = await run(*base, "--ssh-port", str(port), env=env)
    assert code == 7
    # (After the log line about the host key, made before listening.)
    assert err.splitlines()[-1] == (
        f"soketler serve: address already in use: 127.0.0.1 (ssh) port {port}; "
        "--ssh-port PORT chooses another, --ssh-port 0 none"
    )

    missing = tmp_path / "missing"
    code, _, err = await run(*base, "--ssh-port", "0", "--ssh-allow-keys", str(missing), env=env)
    assert code == 2
    last = err.splitlines()[-1]
    assert last.startswith(f"soketler serve: cannot read the SSH allowlist {missing}")
    assert "Traceback" not in err
    code, _, err = await run("serve", "--ssh-allow-keys", str(missing), env=env)
    assert code == 2 and "need ssh_port" in err


async def test_a_server_without_ssh_does_not_load_asyncssh() -> None:
    probe = (
        "import sys, soketler.transport.server, soketler.doors.registry;"
        "print('asyncssh' in sys.modules)"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", probe, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert out.decode().strip() == "False"
