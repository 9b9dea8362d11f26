"""`soketler connect` and `soketler listen` against each other and against plain sockets."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.tools.support import STEP_TIMEOUT, recv_all, recv_exactly, run_tool, running


def test_tcp_round_trip_ipv4() -> None:
    with running(["listen", "-s", "127.0.0.1", "-p", "0", "-v"]) as server:
        port = server.listening_port()
        assert server.proc.stdin is not None
        server.proc.stdin.write(b"from the listener\n")
        server.proc.stdin.close()  # listener's EOF half-closes towards the client
        client = run_tool(["connect", "127.0.0.1", str(port)], input=b"from the client\n")
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"from the listener\n"
        code, out = server.finish()
        assert code == 0
        assert out == b"from the client\n"


def test_tcp_round_trip_ipv6() -> None:
    with running(
        ["listen", "-6", "-s", "::1", "-p", "0", "-v"], stdin=subprocess.DEVNULL
    ) as server:
        port = server.listening_port()
        client = run_tool(["connect", "-6", "::1", str(port), "-v"], input=b"over IPv6\n")
        assert client.returncode == 0, client.stderr
        assert b"connected to ::1 port" in client.stderr
        code, out = server.finish()
        assert (code, out) == (0, b"over IPv6\n")


def test_unix_socket_round_trip(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    with running(
        ["listen", "-U", path, "-v", "--greet", "hi unix"], stdin=subprocess.DEVNULL
    ) as server:
        server.stderr.wait_for(r"listening on .*s\.sock")
        client = run_tool(["connect", "-U", path], input=b"over a Unix socket\n")
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"hi unix\n"
        code, out = server.finish()
        assert (code, out) == (0, b"over a Unix socket\n")
    assert not os.path.exists(path), "the listener removes its own socket file"


def test_udp_round_trip() -> None:
    with running(["listen", "-u", "-s", "127.0.0.1", "-p", "0", "-v", "--echo"]) as server:
        port = server.listening_port()
        client = run_tool(
            ["connect", "-u", "127.0.0.1", str(port), "-q", "2"], input=b"one datagram\n"
        )
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"one datagram\n"
        server.stderr.wait_for(r"datagram from 127\.0\.0\.1 port \d+: 13 bytes")


def test_udp_listener_prints_datagrams_and_answers_the_last_sender() -> None:
    with running(["listen", "-u", "-s", "127.0.0.1", "-p", "0", "-v"]) as server:
        port = server.listening_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.settimeout(STEP_TIMEOUT)
            peer.sendto(b"ping\n", ("127.0.0.1", port))
            server.stderr.wait_for(r"datagram from 127\.0\.0\.1 port \d+: 5 bytes")
            assert server.proc.stdin is not None and server.proc.stdout is not None
            assert server.stdout_line() == b"ping\n"
            server.proc.stdin.write(b"pong\n")
            server.proc.stdin.flush()
            data, _ = peer.recvfrom(100)
            assert data == b"pong\n"


def test_ten_mebibytes_of_binary_arrive_byte_identical(tmp_path: Path) -> None:
    payload = os.urandom(10 << 20)
    source = tmp_path / "in.bin"
    source.write_bytes(payload)
    sink = tmp_path / "out.bin"
    with (
        sink.open("wb") as out,
        running(["listen", "-s", "127.0.0.1", "-p", "0", "-v", "-d"], stdout=out) as server,
    ):
        port = server.listening_port()
        with source.open("rb") as stdin:
            client = subprocess.run(
                [*server.proc.args[:3], "connect", "127.0.0.1", str(port)],  # type: ignore[index]
                stdin=stdin,
                capture_output=True,
                timeout=60,
                check=False,
            )
        assert client.returncode == 0, client.stderr
        assert server.proc.wait(STEP_TIMEOUT) == 0
    assert hashlib.sha256(sink.read_bytes()).hexdigest() == hashlib.sha256(payload).hexdigest()


def test_binary_through_pipes_both_ways_is_byte_identical() -> None:
    """Pipe → socket → pipe: the splice path, with the sum checked at the far end."""
    payload = os.urandom(3 << 20)
    with running(
        ["listen", "-s", "127.0.0.1", "-p", "0", "-v"], stdin=subprocess.DEVNULL
    ) as server:
        port = server.listening_port()
        client = run_tool(["connect", "127.0.0.1", str(port)], input=payload, timeout=60)
        assert client.returncode == 0, client.stderr
        code, out = server.finish()
    assert code == 0
    assert hashlib.sha256(out).digest() == hashlib.sha256(payload).digest()


def test_half_close_keeps_receiving_until_the_peer_closes() -> None:
    """stdin ends first; the answer that comes after must still be printed."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        with running(["connect", "127.0.0.1", str(port)]) as client:
            assert client.proc.stdin is not None
            client.proc.stdin.write(b"question\n")
            client.proc.stdin.close()
            listener.settimeout(STEP_TIMEOUT)
            conn, _ = listener.accept()
            with conn:
                # Our EOF arrives as a half-close: everything, then b"".
                assert recv_all(conn) == b"question\n"
                conn.sendall(b"answer after your EOF\n")
            code, out = client.finish()
    assert (code, out) == (0, b"answer after your EOF\n")


def test_quit_after_eof_does_not_wait_for_the_peer() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        listener.settimeout(STEP_TIMEOUT)
        with running(["connect", "-q", "0.2", "127.0.0.1", str(port)]) as client:
            conn, _ = listener.accept()
            with conn:
                client.proc.stdin.close()  # type: ignore[union-attr]
                # The peer never closes, yet the client exits on its own.
                assert client.proc.wait(STEP_TIMEOUT) == 0


def test_idle_timeout_exits_with_the_timeout_code() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        listener.settimeout(STEP_TIMEOUT)
        with running(["connect", "-w", "0.3", "127.0.0.1", str(port)]) as client:
            conn, _ = listener.accept()
            with conn:
                assert client.proc.wait(STEP_TIMEOUT) == 6
                message = client.stderr.wait_for(r"soketler connect: .*")
                assert "timed out: idle for 0.3 s" in message.group(0)


def test_crlf_and_hex_options() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        listener.settimeout(STEP_TIMEOUT)
        with running(["connect", "-C", "--hex", "127.0.0.1", str(port)]) as client:
            conn, _ = listener.accept()
            with conn:
                client.proc.stdin.write(b"HELO a\nQUIT\r\n")  # type: ignore[union-attr]
                client.proc.stdin.close()  # type: ignore[union-attr]
                assert recv_all(conn) == b"HELO a\r\nQUIT\r\n"
                conn.sendall(b"220 ok\r\n")
            code, out = client.finish()
    assert code == 0
    assert out.decode() == (
        "00000000  32 32 30 20 6f 6b 0d 0a                           |220 ok..|\n"
    )


def test_keep_open_greets_and_echoes_twenty_concurrent_clients() -> None:
    args = ["listen", "-k", "--echo", "--greet", "Thank you for connecting", "-v"]
    with running([*args, "-s", "127.0.0.1", "-p", "0"]) as server:
        port = server.listening_port()
        clients = [socket.create_connection(("127.0.0.1", port), STEP_TIMEOUT) for _ in range(20)]
        try:
            # All twenty are connected at once before any of them says anything.
            greeting = b"Thank you for connecting\n"
            for sock in clients:
                assert recv_exactly(sock, len(greeting)) == greeting
            for number, sock in enumerate(clients):
                sock.sendall(f"client {number} says hi\n".encode())
            for number, sock in enumerate(clients):
                sock.shutdown(socket.SHUT_WR)
                assert recv_all(sock) == f"client {number} says hi\n".encode()
        finally:
            for sock in clients:
                sock.close()
        for _ in clients:
            server.stderr.wait_for(r"closed 127\.0\.0\.1 port")
        assert server.proc.poll() is None, "-k keeps listening after clients leave"
        # ...and still takes new clients.
        with socket.create_connection(("127.0.0.1", port), STEP_TIMEOUT) as late:
            assert recv_exactly(late, len(greeting)) == greeting


def test_keep_open_sends_stdin_to_every_client_and_prints_theirs() -> None:
    with running(["listen", "-k", "-s", "127.0.0.1", "-p", "0", "-v"]) as server:
        port = server.listening_port()
        first = socket.create_connection(("127.0.0.1", port), STEP_TIMEOUT)
        second = socket.create_connection(("127.0.0.1", port), STEP_TIMEOUT)
        with first, second:
            server.stderr.wait_for(r"connection from")
            server.stderr.wait_for(r"connection from")
            assert server.proc.stdin is not None and server.proc.stdout is not None
            server.proc.stdin.write(b"to everyone\n")
            server.proc.stdin.flush()
            assert recv_exactly(first, 12) == b"to everyone\n"
            assert recv_exactly(second, 12) == b"to everyone\n"
            first.sendall(b"from first\n")
            assert server.stdout_line() == b"from first\n"


def test_listen_without_keep_open_serves_one_client_then_exits() -> None:
    with running(["listen", "--echo", "-s", "127.0.0.1", "-p", "0", "-v"]) as server:
        port = server.listening_port()
        with socket.create_connection(("127.0.0.1", port), STEP_TIMEOUT) as sock:
            sock.sendall(b"echo me\n")
            sock.shutdown(socket.SHUT_WR)
            assert recv_all(sock) == b"echo me\n"
        assert server.proc.wait(STEP_TIMEOUT) == 0
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), STEP_TIMEOUT).close()
