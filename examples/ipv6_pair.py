"""IPv6: the same TCP code with AF_INET6 and four-part addresses.

Teaches what changes for IPv6: the family, addresses like ::1 (loopback) and ::
(every address), and the address tuple, which has four parts (host, port,
flowinfo, scope_id). With IPV6_V6ONLY off, one socket bound to :: serves IPv4
clients too, and they appear as ::ffff:a.b.c.d.

    python examples/ipv6_pair.py serve ::1 12346
    python examples/ipv6_pair.py send ::1 12346 "hello"
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys


def serve(host: str, port: int) -> None:
    """Tells each client which address it came from."""
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as server:
        if host == "::":
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # IPv4 too
        server.bind((host, port))
        server.listen()
        print(f"listening on {host} port {server.getsockname()[1]}", flush=True)
        while True:
            conn, (address, client_port, _flowinfo, _scope) = server.accept()
            with conn:
                conn.sendall(f"hello [{address}]:{client_port}\n".encode())


def send(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        conn.connect((host, port))
        with conn.makefile("r", encoding="utf-8") as incoming:
            print(incoming.read(), end="")


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] not in ("serve", "send"):
        sys.exit("usage: ipv6_pair.py serve|send HOST PORT")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            (serve if sys.argv[1] == "serve" else send)(sys.argv[2], int(sys.argv[3]))
    except OSError as exc:  # a taken port, nobody listening: one line, not a traceback
        # The errno's own words: create_server adds its own to strerror.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"ipv6_pair.py: [{sys.argv[2]}]:{sys.argv[3]}: {reason}")
