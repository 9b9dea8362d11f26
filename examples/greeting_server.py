"""Greeting server: every client gets one line of thanks, then the connection closes.

Teaches the basic server steps: socket, bind, listen, accept in a loop. The empty
address '' binds every interface, so other machines can connect too; 127.0.0.1
would accept only this machine. Note that we answer on the *accepted* socket, never
on the listening one, and that `sendall` (not `send`) guarantees every byte goes.

    python examples/greeting_server.py            # then: telnet localhost 12345
    python examples/greeting_server.py 127.0.0.1 0   # any free port, printed at start
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys

GREETING = b"Thank you for connecting\n"


def main(host: str = "", port: int = 12345) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        # Lets a restarted server reuse the port while old connections linger in TIME_WAIT.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((host, port))
        server.listen(5)
        print(f"listening on {host or '*'} port {server.getsockname()[1]}", flush=True)
        while True:
            conn, address = server.accept()
            with conn:
                print(f"connection from {address[0]} port {address[1]}", flush=True)
                conn.sendall(GREETING)


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else ""
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 12345
    try:
        with contextlib.suppress(KeyboardInterrupt):
            main(host, port)
    except OSError as exc:  # e.g. the port is taken: one line, not a traceback
        # The errno's own words: create_server adds its own to strerror.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"greeting_server.py: {host or '*'} port {port}: {reason}")
