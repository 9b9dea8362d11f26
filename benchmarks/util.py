"""Processes, CPUs, clocks and statistics shared by the scenarios."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SOKETLER = str(BIN / "soketler")
LOOPS = ("asyncio", "uvloop")
# The server under test runs on CPU 0, everything that makes load on CPU 1: the two
# never compete for a core, and the load generator's own CPU use can be read apart.
SERVER_CPU = 0
LOAD_CPU = 1
HOST = "127.0.0.1"
KILL_WAIT = 30.0  # seconds to wait for a process to die after SIGKILL
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def now() -> float:
    return time.monotonic()


def mono_us() -> int:
    """CLOCK_MONOTONIC in microseconds: one clock for every process on the machine,
    so a send time stamped by one process can be subtracted in another."""
    return time.monotonic_ns() // 1000


# --- CPUs ------------------------------------------------------------------------------


def _can_pin() -> bool:
    try:
        return hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2
    except OSError:
        return False


CAN_PIN = _can_pin()


def pin_self(cpu: int) -> None:
    if CAN_PIN:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})


def taskset(cpu: int) -> list[str]:
    """A command prefix that pins the program to `cpu`, or nothing where that fails."""
    if CAN_PIN and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu)]
    return []


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields after the command name start at field 3; utime and stime are 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_quiet(pid: int, timeout: float, busy: float = 0.05, window: float = 0.25) -> float:
    """Waits until `pid` uses less than `busy` of a core over `window` seconds (its
    backlog is done); returns the seconds waited."""
    start = now()
    while now() - start < timeout:
        before = process_cpu(pid)
        time.sleep(window)
        if process_cpu(pid) - before < busy * window:
            break
    return now() - start


def machine_info() -> dict[str, Any]:
    model = platform.processor() or "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        import uvloop

        uvloop_version = str(getattr(uvloop, "__version__", "?"))
    except ImportError:
        uvloop_version = "not installed"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "system": platform.system(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "uvloop": uvloop_version,
        "loops": list(LOOPS),
        "pinned": CAN_PIN,
        "load_average": list(os.getloadavg()),
        "tools": tool_versions(),
    }


def tool_versions() -> dict[str, str]:
    found: dict[str, str] = {}
    probes = {
        "ncat": ["ncat", "--version"],
        "socat": ["socat", "-V"],
        "nc": ["dpkg-query", "-W", "-f", "${Version}", "netcat-openbsd"],
    }
    for name, argv in probes.items():
        if not shutil.which(argv[0]):
            found[name] = "missing"
            continue
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            found[name] = "?"
            continue
        text = (out.stdout + out.stderr).strip().splitlines()
        line = next((t for t in text if "version" in t.lower()), text[0] if text else "?")
        found[name] = line.strip()
    return found


# --- ports and processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something listens on TCP `port`, read from /proc, without connecting:
    a probe connection would end an `ncat --chat` or a one-shot `nc -l`."""
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[1].endswith(want) and parts[3] == "0A":
                    return True
    return False


def proc_address(host: str, port: int) -> str:
    """An IPv4 address and port as /proc/net/tcp writes them."""
    return f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"


def tcp_queues() -> dict[tuple[str, str], tuple[int, int]]:
    """Every IPv4 TCP socket's (bytes not yet acknowledged by the peer, bytes
    received and not yet read by its program), by (local, remote) address as
    `proc_address` writes them."""
    found: dict[tuple[str, str], tuple[int, int]] = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            tx, rx = parts[4].split(":")
            found[parts[1], parts[2]] = (int(tx, 16), int(rx, 16))
    return found


def wait_listening(
    port: int, timeout: float = 10.0, proc: subprocess.Popen[Any] | None = None
) -> None:
    deadline = now() + timeout
    while not listening(port):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before listening")
        if now() > deadline:
            raise TimeoutError(f"nothing listens on port {port} after {timeout} s")
        time.sleep(0.01)


def stop(proc: subprocess.Popen[Any], grace: float = 3.0) -> None:
    """Ends a process we started: SIGTERM, then SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            try:
                # A process killed inside a system call that waits for the disk (an
                # fsync, when others keep the disk busy) dies only once it returns.
                proc.wait(KILL_WAIT)
            except subprocess.TimeoutExpired:
                print(f"note: pid {proc.pid} still exiting {KILL_WAIT:.0f} s after SIGKILL")
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    *,
    stdin: int | IO[Any] | None = subprocess.DEVNULL,
    stdout: int | IO[Any] | None = subprocess.DEVNULL,
    stderr: int | IO[Any] | None = None,
    grace: float = 3.0,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Starts a process and always ends it, whatever happens in the block."""
    log = stderr if stderr is not None else open(os.devnull, "wb")  # noqa: SIM115
    proc = subprocess.Popen(list(argv), stdin=stdin, stdout=stdout, stderr=log, env=env)
    try:
        yield proc
    finally:
        stop(proc, grace)
        if stderr is None and not isinstance(log, int):
            log.close()


def serve_argv(loop: str, db: str, *, sendq: int = 8 << 20, extra: Sequence[str] = ()) -> list[str]:
    """`soketler serve` with the limits meant for people raised for load tests, by the
    same options an operator would use. History stays on (SQLite, the default), in a
    file of the benchmark's own."""
    return [
        *taskset(SERVER_CPU),
        SOKETLER,
        "serve",
        "--host",
        HOST,
        "--port",
        "0",
        # No IRC and no page unless a scenario asks (`extra` may give --irc-port or
        # --web-port again: the last one counts).
        "--irc-port",
        "0",
        "--web-port",
        "0",
        "--loop",
        loop,
        "--rate",
        "0",
        "--max-per-address",
        "0",
        "--max-clients",
        "20000",
        "--sendq",
        str(sendq),
        "--nick-timeout",
        "0",
        "--no-close-words",
        "--db",
        db,
        # Info logs one line per connection; a benchmark of 10,000 joins would
        # measure the log. Warnings and errors still show.
        "--log-level",
        "warning",
        *extra,
    ]


def read_port(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """The port from the server's `listening on HOST:PORT` line."""
    assert proc.stdout is not None
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = now() + timeout
    buf = b""
    try:
        while b"\n" not in buf:
            left = deadline - now()
            if left <= 0 or not sel.select(left):
                raise TimeoutError("the server did not say where it listens")
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the server exited ({proc.wait()}) before listening")
            buf += chunk
    finally:
        sel.close()
    line = buf.split(b"\n", 1)[0].decode()
    return int(line.rsplit(":", 1)[1])


# --- statistics ------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[rank])


def spread(values: Sequence[float]) -> tuple[float, float]:
    return (min(values), max(values)) if values else (float("nan"), float("nan"))


def human_rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.3g}M"
    if value >= 1e3:
        return f"{value / 1e3:.3g}K"
    return f"{value:.3g}"
