"""Greeting client: connect, print everything the server sends, stop when it closes.

Teaches that TCP is a byte stream, not a message queue: one `recv` may return part
of what the server sent, or several sends glued together. Reading until `recv`
returns b"" (the server closed) gets all of it, whatever the chunking. Works with
greeting_server.py and merhaba_server.py.

    python examples/greeting_client.py 127.0.0.1 12345
"""

from __future__ import annotations

import os
import socket
import sys


def main(host: str = "127.0.0.1", port: int = 12345) -> None:
    with socket.create_connection((host, port), timeout=10) as conn:
        chunks = []
        while chunk := conn.recv(1024):
            chunks.append(chunk)
    print(b"".join(chunks).decode("utf-8", errors="replace"), end="")


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 12345
    try:
        main(host, port)
    except OSError as exc:  # e.g. nobody listens there: one line, not a traceback
        # The errno's own words: create_server adds its own to strerror.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"greeting_client.py: {host} port {port}: {reason}")
