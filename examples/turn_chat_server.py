"""Turn-by-turn chat, server side: the client speaks, then you answer, and so on.

Teaches framing: messages are lines, and a line is only complete at its newline, so
the socket is read through a buffered file (`makefile`) with `readline()` instead
of trusting one `recv` to be one message. Either side ends the chat with a close
word (bye close quit q kapat exit) or by closing the connection.

    python examples/turn_chat_server.py 127.0.0.1 12347
    python examples/turn_chat_client.py 127.0.0.1 12347
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys

CLOSE_WORDS = frozenset({"bye", "close", "quit", "q", "kapat", "exit"})


def is_close_word(text: str) -> bool:
    return text.strip().lower() in CLOSE_WORDS


def main(host: str = "127.0.0.1", port: int = 12347) -> None:
    with socket.create_server((host, port)) as server:
        print(f"listening on {host} port {server.getsockname()[1]}", flush=True)
        conn, address = server.accept()
    # One client at a time, so the listening socket can go as soon as it arrives.
    with conn, conn.makefile("r", encoding="utf-8", newline="\n") as lines:
        print(f"client {address[0]} port {address[1]} joined; wait for its turn", flush=True)
        for line in lines:
            message = line.rstrip("\r\n")
            if is_close_word(message):
                print("client left", flush=True)
                return
            print(f"client: {message}", flush=True)
            answer = input("you: ")
            conn.sendall((answer + "\n").encode("utf-8"))
            if is_close_word(answer):
                return
        print("client closed the connection", flush=True)


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 12347
    try:
        # Ctrl-D or Ctrl-C at the "you:" prompt ends the chat.
        with contextlib.suppress(EOFError, KeyboardInterrupt):
            main(host, port)
    except OSError as exc:  # e.g. the port is taken: one line, not a traceback
        # The errno's own words: create_server adds its own to strerror.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"turn_chat_server.py: {host} port {port}: {reason}")
