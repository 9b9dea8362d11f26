"""soketler against the real nc (OpenBSD netcat) and socat, both directions."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.helpers import require_program
from tests.tools.support import STEP_TIMEOUT, LineReader, free_port, run_tool, running

PAYLOAD = os.urandom(256 << 10)


@contextlib.contextmanager
def external(
    command: Sequence[str], ready: str, stdout: Any = subprocess.DEVNULL
) -> Iterator[subprocess.Popen[bytes]]:
    """Starts a peer program and waits for the line saying it is listening."""
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        LineReader(process.stderr).wait_for(ready)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=STEP_TIMEOUT)


def test_nc_client_to_soketler_listen() -> None:
    nc = require_program("nc")
    with running(
        ["listen", "-s", "127.0.0.1", "-p", "0", "-v"], stdin=subprocess.DEVNULL
    ) as server:
        port = server.listening_port()
        client = subprocess.run(
            [nc, "-N", "127.0.0.1", str(port)],
            input=PAYLOAD,
            capture_output=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        assert client.returncode == 0, client.stderr
        code, out = server.finish()
    assert (code, out) == (0, PAYLOAD)


def test_soketler_connect_to_nc_listen(tmp_path: Path) -> None:
    nc = require_program("nc")
    port = free_port()
    received = tmp_path / "received"
    with (
        received.open("wb") as sink,
        external([nc, "-l", "-v", "127.0.0.1", str(port)], r"Listening on", stdout=sink) as peer,
    ):
        result = run_tool(["connect", "127.0.0.1", str(port)], input=PAYLOAD)
        assert result.returncode == 0, result.stderr
        peer.wait(STEP_TIMEOUT)
    assert received.read_bytes() == PAYLOAD


def test_socat_client_to_soketler_listen_with_greeting() -> None:
    socat = require_program("socat")
    args = ["listen", "-s", "127.0.0.1", "-p", "0", "-v", "--greet", "Thank you for connecting"]
    with running(args, stdin=subprocess.DEVNULL) as server:
        port = server.listening_port()
        client = subprocess.run(
            [socat, "-", f"TCP:127.0.0.1:{port}"],
            input=PAYLOAD,
            capture_output=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"Thank you for connecting\n"
        code, out = server.finish()
    assert (code, out) == (0, PAYLOAD)


def test_soketler_connect_to_socat_listen_both_ways() -> None:
    socat = require_program("socat")
    port = free_port()
    # socat answers with the greeting file and records what it receives.
    command = [
        socat,
        "-d",
        "-d",
        f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr",
        "SYSTEM:'echo ready; cat'",
    ]
    with external(command, r"listening on") as peer:
        result = run_tool(["connect", "127.0.0.1", str(port)], input=PAYLOAD)
        assert result.returncode == 0, result.stderr
        peer.communicate(timeout=STEP_TIMEOUT)
    assert result.stdout == b"ready\n" + PAYLOAD


def test_soketler_udp_to_socat_udp_echo() -> None:
    socat = require_program("socat")
    port = free_port()
    command = [socat, "-d", "-d", f"UDP-RECVFROM:{port},bind=127.0.0.1,fork", "PIPE"]
    with external(command, r"receiving on"):
        result = run_tool(["connect", "-u", "-q", "2", "127.0.0.1", str(port)], input=b"datagram\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"datagram\n"
