"""`soketler serve` as people run it: signals, exit codes, and real telnet/nc programs."""

from __future__ import annotations

import asyncio
import signal
import socket

from tests.e2e.lineclient import LineClient, registered
from tests.e2e.serverprocess import SOKETLER, serve_process
from tests.helpers import require_program


async def test_sigterm_says_goodbye_to_clients_and_exits_0() -> None:
    async with serve_process() as server:
        clients = [await registered("127.0.0.1", server.port, f"c{i}") for i in range(3)]
        code = await server.stop(signal.SIGTERM)
        assert code == 0
        for client in clients:
            assert "-- Goodbye (Server shutting down)" in await client.closed()
            await client.close()
        assert server.proc.stderr is not None
        log = (await server.proc.stderr.read()).decode()
        assert "shutting down" in log


async def test_sigint_exits_0_too() -> None:
    async with serve_process() as server:
        assert await server.stop(signal.SIGINT) == 0


async def test_disconnects_are_logged_with_their_reason() -> None:
    async with serve_process() as server:
        client = await registered("127.0.0.1", server.port, "logged")
        client.send("/quit see you")
        await client.closed()
        await client.close()
        assert await server.stop() == 0
        assert server.proc.stderr is not None
        log = (await server.proc.stderr.read()).decode()
        assert "logged disconnected: see you" in log


async def run_cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_address_in_use_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = await run_cli(
            "serve", "--db", ":memory:", "--host", "127.0.0.1", "--port", str(port)
        )
    assert code == 7
    assert err.strip() == f"soketler serve: address already in use: 127.0.0.1 port {port}"


async def test_invalid_port_is_a_usage_error() -> None:
    code, _, err = await run_cli("serve", "--port", "70000")
    assert code == 2 and "invalid port 70000" in err and "Traceback" not in err


async def test_help_and_version_are_quick_and_clean() -> None:
    code, out, _ = await run_cli("--version")
    assert code == 0 and out.startswith("soketler ")
    code, out, _ = await run_cli("serve", "--help")
    assert code == 0 and "--max-per-address" in out and "telnet localhost 61000" in out


async def test_help_does_not_import_the_server() -> None:
    code, out, err = await asyncio.wait_for(
        run_cli_python(
            "import sys; from soketler.cli import build_parser; build_parser();"
            "print(sorted(m for m in sys.modules if m.startswith(('asyncio', 'uvloop', "
            "'soketler.transport', 'prompt_toolkit'))))"
        ),
        20,
    )
    assert code == 0, err
    assert out.strip() == "[]"


async def run_cli_python(code: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        SOKETLER[0], "-c", code, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _program_chat(argv: list[str], port: int) -> None:
    watcher = await registered("127.0.0.1", port, "watcher")
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        client = LineClient(proc.stdout, proc.stdin)  # type: ignore[arg-type]
        await client.expect("Choose a nickname")
        proc.stdin.write("gözcü\n".encode())
        await client.expect("You are in #lobby")
        proc.stdin.write("selam, 안녕!\n".encode())
        await watcher.expect("<gözcü> selam, 안녕!")
        watcher.send("hoş geldin")
        assert (await client.expect("hoş geldin")).endswith("<watcher> hoş geldin")
        proc.stdin.write(b"bye\n")
        await watcher.expect("gözcü quit (Quit)")
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        await watcher.close()


async def test_the_real_nc_program_chats() -> None:
    nc = require_program("nc")
    async with serve_process() as server:
        await _program_chat([nc, "127.0.0.1", str(server.port)], server.port)


async def test_the_real_telnet_program_chats() -> None:
    telnet = require_program("telnet")
    async with serve_process() as server:
        await _program_chat([telnet, "127.0.0.1", str(server.port)], server.port)
