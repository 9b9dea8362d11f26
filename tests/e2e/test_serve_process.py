"""`soketler serve` as people run it: signals, exit codes, and real telnet/nc programs."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

from soketler.core.config import Listener, ServerConfig
from tests.e2e.conftest import StartServer
from tests.e2e.ircclient import IrcTestClient
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
            "serve",
            "--db",
            ":memory:",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--web-port",
            "0",
        )
    assert code == 7
    assert err.strip() == f"soketler serve: address already in use: 127.0.0.1 port {port}"


async def test_the_irc_door_listens_beside_and_says_which_port_is_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = await run_cli(
            "serve", "--db", ":memory:", "--host", "127.0.0.1", "--port", "0",
            "--irc-port", str(port),
        )  # fmt: skip
    assert code == 7
    assert err.strip() == (
        f"soketler serve: address already in use: 127.0.0.1 (irc) port {port}; "
        "--irc-port PORT chooses another, --irc-port 0 none"
    )
    free = _free_port()
    async with serve_process("--irc-port", str(free)) as server:
        assert server.proc.stdout is not None
        second = await asyncio.wait_for(server.proc.stdout.readline(), 15)
        assert second.decode().strip() == f"listening on 127.0.0.1:{free} (irc)"
        client = await IrcTestClient.connect("127.0.0.1", free)
        await client.register("ayse")
        await client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_operators_in_the_config_file_must_be_hashes(tmp_path: Path) -> None:
    config = tmp_path / "soketler.toml"
    config.write_text('[operators.alice]\npassword = "hunter2hunter2"\n')
    code, _, err = await run_cli("serve", "--config", str(config), "--db", ":memory:")
    assert code == 2
    assert "operator alice: the password must be a hash" in err and "Traceback" not in err


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


async def test_a_unix_socket_alone_opens_no_tcp_port(tmp_path: Path) -> None:
    path = str(tmp_path / "chat.sock")
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER,
        "serve",
        "--db",
        ":memory:",
        "--unix",
        path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        first = await asyncio.wait_for(proc.stdout.readline(), 15)
        assert first.decode().strip() == f"listening on {path}"
        client = await LineClient.unix(path)
        await client.register("yalnız")
        await client.close()
        assert not _listening_tcp(proc.pid)
    finally:
        proc.terminate()
        await proc.wait()


def _listening_tcp(pid: int) -> bool:
    """Whether process `pid` holds a listening TCP socket of any port or address."""
    inodes = {
        line.split()[9]
        for name in ("/proc/net/tcp", "/proc/net/tcp6")
        for line in Path(name).read_text().splitlines()[1:]
        if line.split()[3] == "0A"  # LISTEN
    }
    links = (os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir())
    return any(link.startswith("socket:[") and link[8:-1] in inodes for link in links)


async def test_a_config_file_is_read_and_flags_win(tmp_path: Path) -> None:
    config = tmp_path / "soketler.toml"
    config.write_text('server_name = "dosya"\nreplay = 0\n[limits]\nmax_line = 100\n')
    async with serve_process("--config", str(config), "--max-line", "200") as server:
        client = await LineClient.connect("127.0.0.1", server.port)
        assert "on dosya." in await client.expect("Welcome")
        await client.register("ayar")
        client.send("x" * 150)  # within the flag's 200, past the file's 100
        assert (await client.expect("<ayar>")).endswith("x" * 150)
        await client.close()
    bad = tmp_path / "bad.toml"
    bad.write_text("replay = 'many'\n")
    code, _, err = await run_cli("serve", "--config", str(bad))
    assert code == 2 and err.strip() == "soketler serve: replay cannot be 'many'"


async def test_tcp_clients_are_watched_by_keepalive(start_server: StartServer) -> None:
    server = await start_server(idle_timeout=30, ping_timeout=20)
    host, port = server.tcp_addresses[0]
    client = await registered(host, port, "kalıcı")
    [connection] = server.connections
    assert connection.transport is not None
    sock = connection.transport.get_extra_info("socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 5
    await client.close()


async def test_an_unreadable_motd_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    code, _, err = await run_cli("serve", "--db", ":memory:", "--motd", str(missing))
    assert code == 2 and f"cannot read the MOTD file {missing}" in err


def serve_config(*argv: str) -> ServerConfig:
    from soketler.cli import build_parser
    from soketler.transport.serve import config_from_args

    return config_from_args(build_parser().parse_args(["serve", *argv]))


def test_the_page_is_served_on_8080_unless_told_otherwise(tmp_path: Path) -> None:
    default = serve_config()
    assert default.web_port == 8080
    assert Listener("web", (), 8080) in default.listeners
    assert serve_config("--web-port", "0").web_port == 0
    told = serve_config("--web-host", "127.0.0.1", "--web-origin", "https://a.example")
    assert told.listeners[-1] == Listener("web", ("127.0.0.1",), 8080)
    assert told.web_origins == ("https://a.example",)
    # Someone asking for a private socket alone gets no public web port either.
    assert serve_config("--unix", str(tmp_path / "s")).web_port == 0
    assert serve_config("--unix", str(tmp_path / "s"), "--web-port", "9000").web_port == 9000
    config = tmp_path / "web.toml"
    config.write_text('web_port = 9001\nweb_origins = ["https://chat.example.org"]\n')
    from_file = serve_config("--config", str(config))
    assert from_file.web_port == 9001 and from_file.web_origins == ("https://chat.example.org",)


async def test_a_bad_web_origin_or_a_taken_web_port_is_one_clear_line() -> None:
    code, _, err = await run_cli("serve", "--web-origin", "chat.example.org")
    assert code == 2 and err.startswith("soketler serve: web_origins: not an origin")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = await run_cli(
            "serve",
            "--db",
            ":memory:",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--irc-port",
            "0",
            "--web-port",
            str(port),
        )
    assert code == 7
    assert err.strip() == (
        f"soketler serve: address already in use: 127.0.0.1 (web) port {port}; "
        "--web-port PORT chooses another, --web-port 0 none"
    )
