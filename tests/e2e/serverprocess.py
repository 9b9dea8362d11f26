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
    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        port: int,
        web_port: int | None = None,
        tls_port: int | None = None,
        fingerprint: str | None = None,
    ) -> None:
        self.proc = proc
        self.port = port
        self.web_port = web_port  # the browser door's, when it was asked for
        self.tls_port = tls_port  # the lines door's TLS port, with --tls or --tls-cert
        self.fingerprint = fingerprint  # of the self-signed certificate, when one was made

    async def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signum)
        return await asyncio.wait_for(self.proc.wait(), timeout)


@asynccontextmanager
async def serve_process(*args: str, tls: bool | None = None) -> AsyncIterator[ServerProcess]:
    """Starts `soketler serve --host 127.0.0.1 --port 0 ARGS`; waits for its port (and
    the web port, when ARGS give one; without, there is no web door).

    History stays in memory unless ARGS name a --db: tests never touch the user's files.
    No IRC door unless ARGS give --irc-port: its default port, 6667, is one port for
    everyone on this machine (nor 6697 with TLS). With TLS (--tls, --tls-cert, or `tls`
    for a config file that turns it on), its port is read too.
    """
    db = () if "--db" in args else ("--db", ":memory:")
    if "--irc-port" not in args:
        db += ("--irc-port", "0")
    web = "--web-port" in args and args[args.index("--web-port") + 1] != "0"
    no_web = () if "--web-port" in args else ("--web-port", "0")
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        *db,
        *no_web,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 15)
        fingerprint = None
        while line.startswith(b"TLS: "):  # what --tls says of its certificate comes first
            said = re.match(rb"TLS: SHA256 fingerprint (\S+)", line)
            if said:
                fingerprint = said.group(1).decode()
            line = await asyncio.wait_for(proc.stdout.readline(), 15)
        found = re.match(rb"listening on 127\.0\.0\.1:(\d+)", line)
        assert found, f"unexpected first line {line!r}"
        tls_port = None
        if tls or (tls is None and ("--tls" in args or "--tls-cert" in args)):
            line = await asyncio.wait_for(proc.stdout.readline(), 15)
            tls_found = re.match(rb"listening on 127\.0\.0\.1:(\d+) \(TLS\)", line)
            assert tls_found, f"unexpected line {line!r}"
            tls_port = int(tls_found.group(1))
        web_port = None
        if web:
            line = await asyncio.wait_for(proc.stdout.readline(), 15)
            web_found = re.match(rb"listening on 127\.0\.0\.1:(\d+) \(web(, HTTPS)?\)", line)
            assert web_found, f"unexpected line {line!r}"
            web_port = int(web_found.group(1))
        yield ServerProcess(proc, int(found.group(1)), web_port, tls_port, fingerprint)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
