"""Every failure is one line on stderr with its documented exit code; no tracebacks."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
from pathlib import Path

import pytest

from soketler import exitcodes
from soketler.tools.errors import ToolError, from_os_error
from tests.helpers import require_program
from tests.tools.support import STEP_TIMEOUT, run_tool, soketler_command

# A label longer than 63 bytes is rejected before any resolver is asked, so this
# name is unknown without a single packet leaving the machine.
INVALID_NAME = "x" * 64 + ".test"


def assert_one_line(result: subprocess.CompletedProcess[bytes], code: int, text: str) -> None:
    stderr = result.stderr.decode()
    assert result.returncode == code, stderr
    assert stderr.count("\n") == 1, f"expected exactly one line, got {stderr!r}"
    assert "Traceback" not in stderr
    assert text in stderr


def test_connection_refused(refused_port: int) -> None:
    result = run_tool(["connect", "127.0.0.1", str(refused_port)])
    assert_one_line(result, exitcodes.REFUSED, f"connection refused: 127.0.0.1 port {refused_port}")


def test_unknown_host() -> None:
    result = run_tool(["connect", INVALID_NAME, "80"])
    assert_one_line(result, exitcodes.UNKNOWN_HOST, "unknown host: xxxx")


def test_address_family_mismatch_is_an_unknown_host() -> None:
    result = run_tool(["connect", "-4", "::1", "80"])
    assert_one_line(result, exitcodes.UNKNOWN_HOST, "::1")


def test_connect_timeout(silent_port: int) -> None:
    result = run_tool(["connect", "-w", "0.3", "127.0.0.1", str(silent_port)])
    assert_one_line(result, exitcodes.TIMEOUT, f"timed out: connect 127.0.0.1 port {silent_port}")


def test_address_in_use() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_tool(["listen", "-s", "127.0.0.1", "-p", str(port)])
    assert_one_line(result, exitcodes.ADDRESS_IN_USE, f"address in use: 127.0.0.1 port {port}")


def test_permission_denied_below_1024() -> None:
    # Root may bind anywhere; dropping the one capability shows what everyone else sees.
    command = soketler_command("listen", "-s", "127.0.0.1", "-p", "80")
    if os.geteuid() == 0:
        setpriv = require_program("setpriv")
        command = [
            setpriv,
            "--bounding-set",
            "-net_bind_service",
            "--inh-caps",
            "-net_bind_service",
            *command,
        ]
    result = subprocess.run(
        command, capture_output=True, timeout=STEP_TIMEOUT, check=False, stdin=subprocess.DEVNULL
    )
    assert_one_line(result, exitcodes.PERMISSION_DENIED, "ports below 1024 need root")


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["connect", "127.0.0.1", "70000"], "invalid port: 70000"),
        (["connect", "127.0.0.1", "htp"], "invalid port: 'htp'"),
        (["connect", "127.0.0.1", "0"], "invalid port: 0"),
        (["listen", "-p", "65536"], "invalid port: 65536 (expected 0-65535)"),
        (["probe", "127.0.0.1", "80-22"], "invalid port range: 80-22"),
        (["probe", "127.0.0.1", "22,,80"], "empty item"),
        (["connect", "-w-1", "127.0.0.1", "80"], "invalid -w: -1"),
        (["connect", "127.0.0.1"], "need HOST and PORT"),
    ],
)
def test_invalid_arguments(args: list[str], text: str) -> None:
    assert_one_line(run_tool(args), exitcodes.USAGE, text)


def test_unix_socket_missing(tmp_path: Path) -> None:
    path = tmp_path / "nobody-here.sock"
    result = run_tool(["connect", "-U", str(path)])
    assert_one_line(result, exitcodes.REFUSED, f"no Unix socket at {path}")


def test_unix_listen_refuses_to_remove_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "precious.txt"
    path.write_text("keep me")
    result = run_tool(["listen", "-U", str(path)])
    assert_one_line(result, exitcodes.ADDRESS_IN_USE, "exists and is not a socket")
    assert path.read_text() == "keep me"


def test_unix_listen_refuses_a_live_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "live.sock")
    with socket.socket(socket.AF_UNIX) as live:
        live.bind(path)
        live.listen()
        result = run_tool(["listen", "-U", path])
    assert_one_line(result, exitcodes.ADDRESS_IN_USE, "a server is listening on")


def test_unix_listen_replaces_a_stale_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "stale.sock")
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(path)  # closed without unlinking: the file stays behind
    process = subprocess.Popen(
        soketler_command("listen", "-U", path, "-v"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        assert b"listening on" in process.stderr.readline()
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(STEP_TIMEOUT)
            client.connect(path)
    finally:
        process.kill()
        process.communicate(timeout=STEP_TIMEOUT)


@pytest.mark.parametrize(
    ("code", "port", "action", "exit_code", "text"),
    [
        (errno.ECONNREFUSED, 80, "connect", exitcodes.REFUSED, "connection refused"),
        (errno.ENETUNREACH, 80, "connect", exitcodes.UNREACHABLE, "unreachable"),
        (errno.EHOSTUNREACH, 80, "connect", exitcodes.UNREACHABLE, "unreachable"),
        (errno.ETIMEDOUT, 80, "connect", exitcodes.TIMEOUT, "timed out"),
        (errno.EADDRINUSE, 80, "listen", exitcodes.ADDRESS_IN_USE, "address in use"),
        (errno.EACCES, 80, "listen", exitcodes.PERMISSION_DENIED, "ports below 1024"),
        (errno.EACCES, 8080, "listen", exitcodes.PERMISSION_DENIED, "permission denied"),
        (errno.ECONNRESET, 80, "connect", exitcodes.RESET, "reset"),
    ],
)
def test_errno_mapping(code: int, port: int, action: str, exit_code: int, text: str) -> None:
    error = from_os_error(OSError(code, os.strerror(code)), "192.0.2.1", port, action)
    assert isinstance(error, ToolError)
    assert error.exit_code == exit_code
    assert text in error.message
    assert "\n" not in error.message


def test_udp_port_unreachable_is_refused() -> None:
    # A UDP port nobody has open answers with ICMP "port unreachable".
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_tool(["connect", "-u", "-q", "5", "127.0.0.1", str(port)], input=b"anyone?\n")
    assert_one_line(result, exitcodes.REFUSED, f"connection refused: 127.0.0.1 port {port}")
