"""`soketler serve --workers N`: N server processes on one machine sharing the
listening ports (SO_REUSEPORT: the kernel spreads new connections over them) and
coordinating through Redis, under one parent that only supervises.

Each worker is a whole node (its own event loop, bus, nickname claims and presence),
started as `soketler serve` again with the same options, and its index in the
environment (`WORKER_ENV`): not forked, since uvloop and threads do not survive a fork
well. The parent checks
that Redis answers, picks the port when asked for port 0, starts the workers and says
where they listen once all are up; then it passes SIGTERM, SIGINT and SIGHUP on to
them, starts a worker again when one dies (their clients reconnect to the others
meanwhile), and exits non-zero when a worker cannot start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from soketler import exitcodes
from soketler.core.config import ServerConfig

log = logging.getLogger("soketler.server")

START_TIMEOUT = 60.0  # seconds for a worker to say where it listens
STOP_TIMEOUT = 15.0  # seconds for the workers to say goodbye and end
FIRST_RESTART_PAUSE = 1.0  # seconds before starting a dead worker again; doubles
MAX_RESTART_PAUSE = 30.0
STEADY = 60.0  # seconds a worker must live for its next restart to be quick again
LISTENING = "listening on "
# Set by the supervisor in each worker's environment: its index (0, 1, ...). A worker
# is a server like any other, but for the Unix socket (the first one only) and SIGHUP.
WORKER_ENV = "SOKETLER_WORKER"
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOPPING = (signal.SIGTERM, signal.SIGINT)


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)  # what it said of where it listens
    ready: threading.Event = field(default_factory=threading.Event)
    started: float = 0.0
    pause: float = FIRST_RESTART_PAUSE


def free_port(hosts: Sequence[str]) -> int:
    """A port free on the first address (or all), for `--port 0`: every worker must
    listen on the same one, so it is chosen here, once."""
    host = hosts[0] if hosts else ""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def check_redis(url: str) -> str | None:
    """Why Redis at `url` cannot be used, or None."""
    from soketler.cluster.connect import ClusterError, connect_sync

    try:
        client = connect_sync(url)
    except ClusterError as exc:
        return str(exc)
    client.close()
    return None


class Supervisor:
    def __init__(self, config: ServerConfig, argv: Sequence[str]) -> None:
        self.config = config
        self.argv = list(argv)  # the options after "serve", given again to each worker
        self.workers = [_Worker(i) for i in range(config.workers)]
        self._stopping = False
        self._signals: list[int] = []
        self._wake = threading.Event()

    def command(self, worker: _Worker) -> list[str]:
        return [sys.executable, "-m", "soketler", "serve", *self.argv]

    def run(self) -> int:
        problem = check_redis(self.config.redis)
        if problem is not None:
            print(f"soketler serve: {problem}", file=sys.stderr)
            return exitcodes.UNREACHABLE
        if self.config.port == 0:
            self.argv += ["--port", str(free_port(self.config.hosts))]
        previous = {signum: signal.signal(signum, self._on_signal) for signum in FORWARDED}
        try:
            code = self._start_all()
            if code != exitcodes.OK or self._stopping:
                return code
            # Said once, as one process says it: whoever waits for it may connect.
            for line in self.workers[0].lines:
                print(line, flush=True)
            log.info("%d workers started", len(self.workers))
            return self._supervise()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._stop_all()

    # --- starting ----------------------------------------------------------------------

    def _start(self, worker: _Worker) -> None:
        worker.lines = []
        worker.ready = threading.Event()
        worker.started = time.monotonic()
        worker.process = subprocess.Popen(
            self.command(worker),
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", WORKER_ENV: str(worker.index)},
        )
        threading.Thread(target=self._read, args=(worker, worker.process), daemon=True).start()

    def _read(self, worker: _Worker, process: subprocess.Popen[str]) -> None:
        """A worker's output: its "listening on" lines until it is up, then nothing
        (what it logs goes to the stderr it shares with us)."""
        assert process.stdout is not None
        expected = len(self.config.listeners)
        for line in process.stdout:
            if worker.ready.is_set():
                continue
            if line.startswith(LISTENING):
                worker.lines.append(line.rstrip("\n"))
                if len(worker.lines) >= expected:
                    worker.ready.set()
                    self._wake.set()
        self._wake.set()  # it ended

    def _start_all(self) -> int:
        for worker in self.workers:
            self._start(worker)
        deadline = time.monotonic() + START_TIMEOUT
        for worker in self.workers:
            process = worker.process
            assert process is not None
            while not worker.ready.is_set():
                if self._stopping:
                    return exitcodes.OK
                code = process.poll()
                if code is not None:
                    print(
                        f"soketler serve: worker {worker.index} could not start (exit code {code})",
                        file=sys.stderr,
                    )
                    return code or exitcodes.FAILURE
                if time.monotonic() > deadline:
                    print(
                        f"soketler serve: worker {worker.index} did not start in "
                        f"{START_TIMEOUT:g} s",
                        file=sys.stderr,
                    )
                    return exitcodes.FAILURE
                worker.ready.wait(0.1)
        return exitcodes.OK

    # --- running -------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)
        if signum in STOPPING:
            self._stopping = True
        self._wake.set()

    def _supervise(self) -> int:
        restart_at: dict[int, float] = {}
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            signals, self._signals = self._signals, []
            for signum in signals:
                self._forward(signum)
            if self._stopping:
                return exitcodes.OK
            now = time.monotonic()
            for worker in self.workers:
                process = worker.process
                if process is None or process.poll() is None:
                    continue
                if worker.index not in restart_at:
                    lived = now - worker.started
                    worker.pause = (
                        FIRST_RESTART_PAUSE
                        if lived > STEADY
                        else min(MAX_RESTART_PAUSE, worker.pause * 2)
                    )
                    log.warning(
                        "worker %d ended (exit code %s); starting it again in %g s",
                        worker.index,
                        process.returncode,
                        worker.pause,
                    )
                    restart_at[worker.index] = now + worker.pause
                elif now >= restart_at[worker.index]:
                    del restart_at[worker.index]
                    self._start(worker)

    def _forward(self, signum: int) -> None:
        for worker in self.workers:
            process = worker.process
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signum)

    def _stop_all(self) -> None:
        """Each worker says goodbye to its clients and ends; one that does not is
        killed at the deadline."""
        running = [w.process for w in self.workers if w.process and w.process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
