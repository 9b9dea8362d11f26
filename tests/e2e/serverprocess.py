"""`soketler serve` as a real process, for tests of signals, exit codes and programs."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

SOKETLER = [sys.executable, "-m", "soketler"]


class ServerProcess:
    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self.proc = proc
        self.port = port

    async def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signum)
        return await asyncio.wait_for(self.proc.wait(), timeout)


@asynccontextmanager
async def serve_process(*args: str) -> AsyncIterator[ServerProcess]:
    """Starts `soketler serve --host 127.0.0.1 --port 0 ARGS`; waits for its port.

    History stays in memory unless ARGS name a --db: tests never touch the user's files.
    No IRC door unless ARGS give --irc-port: its default port, 6667, is one port for
    everyone on this machine.
    """
    db = () if "--db" in args else ("--db", ":memory:")
    if "--irc-port" not in args:
        db += ("--irc-port", "0")
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        *db,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 15)
        found = re.match(rb"listening on 127\.0\.0\.1:(\d+)", line)
        assert found, f"unexpected first line {line!r}"
        yield ServerProcess(proc, int(found.group(1)))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
