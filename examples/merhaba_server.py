"""One-shot server: accept a single client, say "merhaba", close everything.

Teaches the shortest server life cycle, and where the send belongs: on the socket
`accept` returned for this client. Sending on the listening socket is the classic
mistake ("not connected" errors, WinError 10057 on Windows). Read the greeting
with greeting_client.py.

    python examples/merhaba_server.py 127.0.0.1 12345
"""

from __future__ import annotations

import os
import socket
import sys


def main(host: str = "127.0.0.1", port: int = 12345) -> None:
    with socket.create_server((host, port)) as server:
        print(f"listening on {host} port {server.getsockname()[1]}", flush=True)
        conn, address = server.accept()
        with conn:
            print(f"said merhaba to {address[0]} port {address[1]}", flush=True)
            conn.sendall(b"merhaba\n")


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 12345
    try:
        main(host, port)
    except OSError as exc:  # e.g. the port is taken: one line, not a traceback
        # The errno's own words: create_server adds its own to strerror.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"merhaba_server.py: {host} port {port}: {reason}")
