"""Unix domain sockets: the same stream API, addressed by a file path.

Teaches AF_UNIX: no ports and no network, just a path in the file system, which
makes it the usual way for programs on one machine to talk (databases, Docker).
The socket file outlives a crashed server, so the server removes a stale one first,
and its own when it finishes.

    python examples/unix_pair.py serve /tmp/demo.sock
    python examples/unix_pair.py send /tmp/demo.sock "hello"
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys


def serve(path: str) -> None:
    """Answers each client with its message reversed, one client at a time."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # left over from an earlier run
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        print(f"listening on {path}", flush=True)
        try:
            while True:
                conn, _ = server.accept()
                with conn, conn.makefile("rb") as incoming:
                    message = incoming.read()  # until the client shuts down its side
                    conn.sendall(message[::-1])
        finally:
            os.unlink(path)


def send(path: str, text: str) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        conn.connect(path)
        conn.sendall(text.encode("utf-8"))
        conn.shutdown(socket.SHUT_WR)  # "that was all": the server can answer now
        with conn.makefile("rb") as incoming:
            print(incoming.read().decode("utf-8"))


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("serve", "send"):
        sys.exit("usage: unix_pair.py serve PATH | send PATH TEXT")
    try:
        if sys.argv[1] == "serve":
            serve(sys.argv[2])
        else:
            send(sys.argv[2], " ".join(sys.argv[3:]) or "hello")
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # e.g. no server at that path: one line, not a traceback
        # The errno's own words: create_server adds its own to strerror.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"unix_pair.py: {sys.argv[2]}: {reason}")
