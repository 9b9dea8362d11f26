"""Each example in examples/ runs against 127.0.0.1, ::1 or a Unix socket and works."""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from tests.tools.support import STEP_TIMEOUT, LineReader

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str, *args: str) -> list[str]:
    return [sys.executable, str(EXAMPLES / name), *args]


@contextlib.contextmanager
def server(name: str, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], LineReader, int]]:
    """Starts an example server; yields it, its stdout lines and the port it printed."""
    process = subprocess.Popen(
        example(name, *args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        lines = LineReader(process.stdout)
        found = lines.wait_for(r"listening on \S+(?: port (\d+))?")
        yield process, lines, int(found.group(1) or 0)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(STEP_TIMEOUT)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.close()


def run(name: str, *args: str, input: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        example(name, *args), input=input, capture_output=True, timeout=STEP_TIMEOUT, check=False
    )


def test_greeting_server_thanks_every_client() -> None:
    with server("greeting_server.py", "127.0.0.1", "0") as (_, lines, port):
        for _ in range(2):  # it keeps accepting
            client = run("greeting_client.py", "127.0.0.1", str(port))
            assert client.returncode == 0, client.stderr
            assert client.stdout == b"Thank you for connecting\n"
            lines.wait_for(r"connection from 127\.0\.0\.1")


def test_merhaba_server_answers_once_and_exits() -> None:
    with server("merhaba_server.py", "127.0.0.1", "0") as (process, _, port):
        client = run("greeting_client.py", "127.0.0.1", str(port))
        assert client.stdout == b"merhaba\n"
        assert process.wait(STEP_TIMEOUT) == 0


def test_turn_by_turn_chat_until_a_close_word() -> None:
    with server("turn_chat_server.py", "127.0.0.1", "0") as (process, lines, port):
        assert process.stdin is not None
        process.stdin.write(b"hos geldin\n")  # the server's one answer
        process.stdin.close()
        client = run("turn_chat_client.py", "127.0.0.1", str(port), input=b"selam\nkapat\n")
        assert client.returncode == 0, client.stderr
        assert b"server: hos geldin" in client.stdout
        lines.wait_for(r"client: selam")
        lines.wait_for(r"client left")
        assert process.wait(STEP_TIMEOUT) == 0


def test_thread_chat_both_ways_at_once() -> None:
    with server("thread_chat.py", "serve", "127.0.0.1", "0") as (host, host_lines, port):
        guest = subprocess.Popen(
            example("thread_chat.py", "connect", "127.0.0.1", str(port)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert guest.stdin is not None and guest.stdout is not None
            assert host.stdin is not None
            guest_lines = LineReader(guest.stdout)
            guest_lines.wait_for("connected")
            # The host speaks first, unprompted: no turn-taking here.
            host.stdin.write(b"hello from the host\n")
            host.stdin.flush()
            guest_lines.wait_for(r"peer: hello from the host")
            guest.stdin.write(b"hi host\nbye\n")
            guest.stdin.flush()
            host_lines.wait_for(r"peer: hi host")
            host_lines.wait_for(r"peer left")
            host.stdin.close()
            guest.stdin.close()
            assert guest.wait(STEP_TIMEOUT) == 0
            assert host.wait(STEP_TIMEOUT) == 0
        finally:
            stop(guest)


def test_udp_pair() -> None:
    with server("udp_pair.py", "serve", "127.0.0.1", "0") as (_, lines, port):
        client = run("udp_pair.py", "send", "127.0.0.1", str(port), "selam udp")
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"SELAM UDP\n"
        lines.wait_for(r"9 bytes from 127\.0\.0\.1")


def test_unix_pair(tmp_path: Path) -> None:
    path = str(tmp_path / "demo.sock")
    with server("unix_pair.py", "serve", path):
        client = run("unix_pair.py", "send", path, "abc def")
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"fed cba\n"


def test_ipv6_pair() -> None:
    with server("ipv6_pair.py", "serve", "::1", "0") as (_, _, port):
        client = run("ipv6_pair.py", "send", "::1", str(port))
        assert client.returncode == 0, client.stderr
        assert re.fullmatch(rb"hello \[::1\]:\d+\n", client.stdout)


@contextlib.contextmanager
def local_web_server(root: Path) -> Iterator[int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    handler = functools.partial(Quiet, directory=str(root))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as web:
        thread = threading.Thread(target=web.serve_forever, daemon=True)
        thread.start()
        try:
            yield web.server_address[1]
        finally:
            web.shutdown()
            thread.join(STEP_TIMEOUT)


def test_http_get_reads_the_whole_reply(tmp_path: Path) -> None:
    body = b"".join(b"line %d\n" % n for n in range(20000))  # far more than one recv
    (tmp_path / "big.txt").write_bytes(body)
    with local_web_server(tmp_path) as port:
        result = run("http_get.py", "127.0.0.1", str(port), "/big.txt")
    assert result.returncode == 0, result.stderr
    status, _, received = result.stdout.partition(b"\n")
    assert status.startswith(b"HTTP/1.0 200")
    assert received == body


def test_http_get_errors_are_one_line(tmp_path: Path) -> None:
    with local_web_server(tmp_path) as port:
        pass  # the server is gone: its port now refuses
    refused = run("http_get.py", "127.0.0.1", str(port))
    assert (refused.returncode, refused.stderr.count(b"\n")) == (4, 1)
    assert b"connection refused" in refused.stderr
    for bad_name in ("", "x" * 64 + ".test"):  # both fail without asking any DNS server
        unknown = run("http_get.py", bad_name)
        assert unknown.returncode == 3, unknown.stderr
        assert unknown.stderr.startswith(b"cannot resolve")
