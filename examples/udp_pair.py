"""UDP: datagrams with `sendto`/`recvfrom`, no connection at all.

Teaches how UDP differs from TCP: there is no listen/accept; the server learns who
is talking from each `recvfrom`, and answers with `sendto` to that address. Each
datagram arrives whole or not at all, so the client needs a timeout: a lost packet
is never retransmitted.

    python examples/udp_pair.py serve 127.0.0.1 9999
    python examples/udp_pair.py send 127.0.0.1 9999 "hello"
"""

from __future__ import annotations

import os
import socket
import sys


def serve(host: str, port: int) -> None:
    """Answers every datagram with the same text in capitals."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, port))
        print(f"listening on {host} port {sock.getsockname()[1]}", flush=True)
        while True:
            data, address = sock.recvfrom(65535)
            print(f"{len(data)} bytes from {address[0]} port {address[1]}", flush=True)
            sock.sendto(data.upper(), address)


def send(host: str, port: int, text: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(text.encode("utf-8"), (host, port))
        try:
            reply, _ = sock.recvfrom(65535)
        except TimeoutError:
            sys.exit("no reply (UDP does not retry: the datagram or its answer was lost)")
        print(reply.decode("utf-8"))


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] not in ("serve", "send"):
        sys.exit("usage: udp_pair.py serve HOST PORT | send HOST PORT TEXT")
    try:
        if sys.argv[1] == "serve":
            serve(sys.argv[2], int(sys.argv[3]))
        else:
            send(sys.argv[2], int(sys.argv[3]), " ".join(sys.argv[4:]) or "hello")
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # e.g. the port is taken: one line, not a traceback
        # The errno's own words: create_server adds its own to strerror.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"udp_pair.py: {sys.argv[2]} port {sys.argv[3]}: {reason}")
