"""Scenario 5, pipe: 1 GiB through `listen` ← `connect`, against socat, ncat and nc.

The sender reads a sparse file on stdin (zeros the kernel makes up, no disk I/O) and
the listener writes to /dev/null, so the figure is about the tools, not the disk. The
listener runs on the server CPU, the sender on the load CPU; the time runs from the
sender's start to the listener's exit (it exits once the sender's end of stream has
arrived).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict

from benchmarks import util
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import Options, loop_of

PEERS = ("socat", "ncat", "nc")


def _argv(subject: str, port: int) -> tuple[list[str], list[str]]:
    """(listener, sender) command lines."""
    p = str(port)
    if subject.startswith("soketler/"):
        loop = ["--loop", loop_of(subject)]
        return (
            [util.SOKETLER, "listen", "-s", util.HOST, "-p", p, "-d", *loop],
            [util.SOKETLER, "connect", *loop, util.HOST, p],
        )
    if subject == "socat":
        return (
            ["socat", "-u", f"TCP-LISTEN:{p},bind={util.HOST},reuseaddr", "STDOUT"],
            ["socat", "-u", "STDIN", f"TCP:{util.HOST}:{p}"],
        )
    if subject == "ncat":
        return (["ncat", "-l", util.HOST, p, "--recv-only"], ["ncat", "--send-only", util.HOST, p])
    return (["nc", "-d", "-l", util.HOST, p], ["nc", "-N", util.HOST, p])


def available(subject: str) -> str:
    """Why a subject cannot run here, or ''."""
    if subject.startswith("soketler/"):
        probe = subprocess.run(
            [util.SOKETLER, "listen", "--help"], capture_output=True, timeout=30, check=False
        )
        return "" if probe.returncode == 0 else "`soketler listen` is not available"
    return "" if shutil.which(subject) else f"{subject} is not installed"


def _once(subject: str, source: str, size: int) -> float:
    port = util.free_port()
    listen, send = _argv(subject, port)
    with util.running([*util.taskset(util.SERVER_CPU), *listen]) as receiver:
        # /proc, not a probe connection: a one-shot listener would take the probe as
        # its one client.
        util.wait_listening(port, proc=receiver)
        with open(source, "rb") as stdin:
            started = time.perf_counter()
            with util.running([*util.taskset(util.LOAD_CPU), *send], stdin=stdin) as sender:
                code = receiver.wait(120)
                elapsed = time.perf_counter() - started
                sender.wait(10)
    if code != 0 or sender.returncode not in (0, None):
        raise RuntimeError(f"exit codes: listener {code}, sender {sender.returncode}")
    return size / elapsed / 1e9


def run(opts: Options) -> list[Figure]:
    size = (256 << 20) if opts.quick else (1 << 30)
    subjects = [*opts.soketlers, *PEERS]
    values: dict[str, list[float]] = defaultdict(list)
    notes = {s: available(s) for s in subjects}
    with tempfile.TemporaryDirectory(prefix="soketler-bench-") as folder:
        source = os.path.join(folder, "zeros.bin")
        with open(source, "wb") as f:
            f.truncate(size)
        for run in range(opts.runs + 1):  # the first round warms up and is not kept
            for subject in subjects:
                if notes[subject]:
                    continue
                try:
                    rate = _once(subject, source, size)
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                    notes[subject] = f"{type(exc).__name__}: {exc}"
                    continue
                if run:
                    values[subject].append(rate)
                    print(f"    {subject:16} run {run}: {rate:.2f} GB/s", flush=True)
    figure = Figure(
        "pipe",
        f"{size >> 20} MiB through listen ← connect",
        "GB/s",
        True,
        [Measure(s, values[s], notes[s]) for s in subjects],
        peer="socat",
    )
    for subject in opts.soketlers:
        need = 1.0 if loop_of(subject) == "asyncio" else 1.5
        figure.targets[subject] = Target(f"≥ {need:.1f}× socat", need, True, relative=True)
    return [figure]
