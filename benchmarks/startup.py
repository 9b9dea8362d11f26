"""Scenario 7, start-up: how long `soketler --help` takes, against `ncat -h`.

Also, for information, how long `soketler serve` takes to listen on each loop.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time

from benchmarks import util
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import Options, loop_of


def _time(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - started) * 1000


def _series(argv: list[str], runs: int) -> list[float]:
    for _ in range(2):  # warm-up: page cache, .pyc files
        _time(argv)
    return [_time(argv) for _ in range(runs)]


def run(opts: Options) -> list[Figure]:
    runs = 5 if opts.quick else 20
    mine = Measure("soketler", _series([util.SOKETLER, "--help"], runs), "any loop")
    peer = Measure("ncat")
    if shutil.which("ncat"):
        peer.values = _series(["ncat", "-h"], runs)
    else:
        peer.note = "ncat is not installed"
    help_figure = Figure(
        "start-up",
        "`soketler --help` wall time",
        "ms",
        False,
        [mine, peer],
        peer="ncat",
        targets={"soketler": Target("≤ 150 ms", 150.0, False)},
    )
    listen = Figure("start-up", "`soketler serve`: start to listening", "ms", False, [])
    for subject in opts.soketlers:
        values = []
        for _ in range(runs // 2):
            with tempfile.TemporaryDirectory(prefix="soketler-bench-") as folder:
                argv = util.serve_argv(loop_of(subject), f"{folder}/history.sqlite3")
                started = time.perf_counter()
                with util.running(argv, stdout=subprocess.PIPE) as p:
                    util.read_port(p)
                    values.append((time.perf_counter() - started) * 1000)
        listen.measures.append(Measure(subject, values))
    return [help_figure, listen]
