"""`soketler serve` as a process for real clients: the lines door and the IRC door on
127.0.0.1, history in memory, stopped when the block ends."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
LISTENING = re.compile(rb"listening on 127\.0\.0\.1:(\d+)( \(irc\))?")


@dataclass(frozen=True)
class Served:
    lines_port: int
    irc_port: int


def free_port() -> int:
    """A port free on 127.0.0.1 now (the IRC door takes a port number, 0 being none)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _read_lines(proc: subprocess.Popen[bytes], count: int, deadline: float) -> list[bytes]:
    """The first `count` lines the process prints (read from its pipe unbuffered, so a
    line already read is never waited for again)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while data.count(b"\n") < count:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"soketler serve did not say where it listens: {data!r}")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"soketler serve ended: {data!r}")
            data += chunk
    return data.splitlines()[:count]


@contextlib.contextmanager
def soketler_serve(*extra: str) -> Iterator[Served]:
    irc_port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "soketler", "serve",
            "--host", HOST, "--port", "0", "--irc-port", str(irc_port),
            "--db", ":memory:", "--log-level", "warning", *extra,
        ],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        ports: dict[bool, int] = {}
        for line in _read_lines(proc, 2, time.monotonic() + START_TIMEOUT):
            found = LISTENING.match(line)
            if found is None:
                raise RuntimeError(f"soketler serve said {line!r}")
            ports[bool(found.group(2))] = int(found.group(1))
        yield Served(ports[False], ports[True])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
