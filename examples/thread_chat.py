"""Two-way chat with threads: both people type whenever they like.

Teaches why the turn-by-turn chat feels stiff, and the classic fix: one thread
waits on the socket and prints whatever arrives, while the main thread waits on the
keyboard and sends. Neither blocks the other. Run one side as the server and the
other as the client; either ends the chat with a close word or Ctrl-D.

    python examples/thread_chat.py serve 127.0.0.1 12348
    python examples/thread_chat.py connect 127.0.0.1 12348
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading

CLOSE_WORDS = frozenset({"bye", "close", "quit", "q", "kapat", "exit"})


def print_incoming(conn: socket.socket, done: threading.Event) -> None:
    """Runs in its own thread: prints each line from the peer until it leaves."""
    with conn.makefile("r", encoding="utf-8", newline="\n") as lines:
        for line in lines:
            print(f"peer: {line.rstrip()}", flush=True)
            if line.strip().lower() in CLOSE_WORDS:
                break
    print("peer left", flush=True)
    done.set()


def chat(conn: socket.socket) -> None:
    done = threading.Event()
    # A daemon thread does not keep the program alive once the chat is over.
    threading.Thread(target=print_incoming, args=(conn, done), daemon=True).start()
    for line in sys.stdin:
        if done.is_set():
            break
        conn.sendall(line.encode("utf-8"))
        if line.strip().lower() in CLOSE_WORDS:
            break
    # Tell the peer we are done sending, then wait for it to finish too.
    conn.shutdown(socket.SHUT_WR)
    done.wait(timeout=5)


def main(role: str, host: str = "127.0.0.1", port: int = 12348) -> None:
    if role == "serve":
        with socket.create_server((host, port)) as server:
            print(f"listening on {host} port {server.getsockname()[1]}", flush=True)
            conn, _ = server.accept()
    else:
        conn = socket.create_connection((host, port), timeout=10)
        conn.settimeout(None)  # the timeout was for connecting; chats may be slow
    with conn:
        print("connected; type away", flush=True)
        chat(conn)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "connect"):
        sys.exit("usage: thread_chat.py serve|connect [HOST] [PORT]")
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 12348
    try:
        with contextlib.suppress(KeyboardInterrupt):
            main(sys.argv[1], host, port)
    except OSError as exc:  # a taken port, nobody listening: one line, not a traceback
        # The errno's own words: create_server adds its own to strerror.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"thread_chat.py: {host} port {port}: {reason}")
