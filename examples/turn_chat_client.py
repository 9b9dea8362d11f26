"""Turn-by-turn chat, client side: you speak first, then wait for the server's line.

Teaches the client half of line framing: each message goes out whole with
`sendall` and a newline, and the answer is read up to its newline. A close word
(bye close quit q kapat exit) is sent too, so the server knows we are leaving.

    python examples/turn_chat_client.py 127.0.0.1 12347
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys

CLOSE_WORDS = frozenset({"bye", "close", "quit", "q", "kapat", "exit"})


def main(host: str = "127.0.0.1", port: int = 12347) -> None:
    with (
        socket.create_connection((host, port), timeout=30) as conn,
        conn.makefile("r", encoding="utf-8", newline="\n") as lines,
    ):
        while True:
            message = input("you: ")
            conn.sendall((message + "\n").encode("utf-8"))
            if message.strip().lower() in CLOSE_WORDS:
                return
            answer = lines.readline()
            if not answer:
                print("server closed the connection", flush=True)
                return
            answer = answer.rstrip("\r\n")
            print(f"server: {answer}", flush=True)
            if answer.strip().lower() in CLOSE_WORDS:
                return


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 12347
    try:
        with contextlib.suppress(EOFError, KeyboardInterrupt):
            main(host, port)
    except OSError as exc:  # e.g. nobody listens there: one line, not a traceback
        # The errno's own words: create_server adds its own to strerror.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"turn_chat_client.py: {host} port {port}: {reason}")
