"""Scenario "cluster": `soketler serve --redis` with 1, 2 and 4 worker processes on one
machine, against one process without Redis, under the same load.

- 4,000 clients in one room (10 senders), and 4,000 clients across 100 rooms (one
  sender per room, 40 members each), senders spread: p99 at 50K deliveries/s, and the
  deliveries a second past saturation (1.6M/s offered for a second; what arrived ÷ the
  time until the last of it arrived, as in the `history` scenario). From these: the
  ratio 2 workers / 1 worker (target ≥ 1.6 for many rooms) and what Redis costs in
  latency (p99 of 1 worker with Redis ÷ p99 of one process without, at 50K/s: target
  ≤ 2).
- One room of 1,000 with its 10 senders in step at 100K/s, the hardest case of one
  process: with `--workers 2` each process writes to half the room (target p99 ≤ 15 ms).

Placement on the 2-core machine: redis-server and the first worker on CPU 0, the
second worker on CPU 1, the load generator on CPU 1 (4 workers: two per CPU). A worker
on the load CPU competes with the generator, so with 2 or 4 workers the figures say what
this machine gives, not what two free cores would. Each figure records the machine's
load average when it was measured (the machine is shared).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterator

from benchmarks import util
from benchmarks.chatload import ChatTarget, Fleet
from benchmarks.redis_streams import redis_server
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import Options

SINGLE = "soketler/1 process"
WORKERS = (1, 2, 4)
CLIENTS = 4000
ROOMS = 100
LATENCY_AT = 50e3
SATURATION = 1.6e6  # offered for SATURATION_SECONDS: more than any of them delivers
SATURATION_SECONDS = 1.0
SETUP_DEADLINE = 120.0  # seconds to seat 4,000 clients
LAYOUTS = {"one room": 1, f"{ROOMS} rooms": ROOMS}


def subject(workers: int | None) -> str:
    return (
        SINGLE
        if workers is None
        else f"soketler/redis, {workers} worker{'s' if workers > 1 else ''}"
    )


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as file:
        return [int(word) for word in file.read().split()]


@contextlib.contextmanager
def cluster_server(workers: int | None, loop: str) -> Iterator[ChatTarget]:
    """`soketler serve` alone (SQLite history), or with Redis and `workers` processes,
    each worker pinned (see the module's docstring)."""
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="soketler-bench-"))
        log = stack.enter_context(tempfile.TemporaryFile())
        extra: tuple[str, ...] = ()
        redis_pids: list[int] = []
        if workers is not None:
            redis = stack.enter_context(redis_server())
            redis_pids = [redis.pid]
            extra = ("--redis", redis.url)
            if workers > 1:
                extra += ("--workers", str(workers))
        argv = util.serve_argv(loop, f"{folder}/history.sqlite3", extra=extra)
        proc = stack.enter_context(
            util.running(argv, stdout=subprocess.PIPE, stderr=log, grace=10.0)
        )
        try:
            port = util.read_port(proc, timeout=60)
        except (RuntimeError, TimeoutError) as exc:
            log.seek(0)
            raise RuntimeError(f"{exc}: {log.read()[-500:].decode(errors='replace')}") from exc
        served = children(proc.pid) if workers is not None and workers > 1 else []
        cpus = max(1, os.cpu_count() or 1)
        for index, pid in enumerate(served):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, {index % cpus})
        yield ChatTarget("soketler", port, server_pid=proc.pid, other_pids=(*served, *redis_pids))


def _wait_quiet(target: ChatTarget, timeout: float) -> None:
    """Until every process of the server has done what the clients' arrival gave it."""
    for pid in target.server_pids:
        util.wait_quiet(pid, timeout)


def run(opts: Options) -> list[Figure]:
    loop = "uvloop" if "uvloop" in opts.loops else opts.loops[0]
    configs: list[int | None] = [None, *WORKERS]
    p99: dict[tuple[str, str], list[float]] = defaultdict(list)
    rate: dict[tuple[str, str], list[float]] = defaultdict(list)
    loads: dict[tuple[str, str], list[float]] = defaultdict(list)
    errors: dict[tuple[str, str], str] = {}
    for run in range(opts.runs):
        for layout, rooms in LAYOUTS.items():
            print(f"  cluster, {CLIENTS:,} clients in {layout}: run {run + 1}/{opts.runs}")
            for workers in configs:
                key = (layout, subject(workers))
                if key in errors:
                    continue
                try:
                    _measure(workers, loop, rooms, key, p99, rate, loads)
                except (RuntimeError, TimeoutError, OSError) as exc:
                    errors[key] = f"{type(exc).__name__}: {exc}"
                    print(f"    {key[1]}: not available: {errors[key][:300]}", flush=True)
    figures: list[Figure] = []
    for layout in LAYOUTS:
        offered = util.human_rate(SATURATION)
        best = Figure(
            "cluster",
            f"{CLIENTS:,} clients, {layout}: deliveries/s with {offered}/s offered",
            "/s",
            True,
            [],
            peer=subject(1),
        )
        latency = Figure(
            "cluster", f"{CLIENTS:,} clients, {layout}: p99 at 50K/s", "ms", False, [], peer=SINGLE
        )
        for workers in configs:
            key = (layout, subject(workers))
            note = errors.get(key, "")
            load = loads.get(key, [])
            if load and not note:
                note = f"load average {min(load):.1f}–{max(load):.1f}"
            best.measures.append(Measure(key[1], rate.get(key, []), note))
            latency.measures.append(Measure(key[1], p99.get(key, []), note))
        latency.targets[subject(1)] = Target("≤ 2× one process", 2.0, False, relative=True)
        if layout != "one room":
            best.targets[subject(2)] = Target("≥ 1.6× 1 worker", 1.6, True, relative=True)
        best.details = {"load_average": {key[1]: v for key, v in loads.items() if key[0] == layout}}
        figures += [best, latency]
    figures.append(_in_step(opts, loop))
    return figures


def _measure(
    workers: int | None,
    loop: str,
    rooms: int,
    key: tuple[str, str],
    p99: dict[tuple[str, str], list[float]],
    rate: dict[tuple[str, str], list[float]],
    loads: dict[tuple[str, str], list[float]],
) -> None:
    with (
        cluster_server(workers, loop) as target,
        Fleet(
            target, CLIENTS, rooms=rooms, deadline=SETUP_DEADLINE, timeout=SETUP_DEADLINE + 60
        ) as fleet,
    ):
        if fleet.unfinished:
            raise TimeoutError(
                f"{fleet.unfinished} of {CLIENTS} not seated in {SETUP_DEADLINE:.0f} s"
            )
        _wait_quiet(target, 30)
        label = f"{key[1]}, {key[0]}"
        fleet.step(LATENCY_AT, 0.5, "spread")  # warm-up
        at = fleet.step(LATENCY_AT, 2.0, "spread")
        loads[key].append(os.getloadavg()[0])
        print(f"    {label:24} {at.line()}  (seated in {fleet.setup_seconds:.1f} s)", flush=True)
        if at.delivered >= at.expected:
            p99[key].append(at.p99_ms)
        _wait_quiet(target, 30)
        full = fleet.step(SATURATION, SATURATION_SECONDS, "spread", drain=30.0, stall=2.0)
        loads[key].append(os.getloadavg()[0])
        print(f"    {label:24} {full.line()}  loadavg {loads[key][-1]:.1f}", flush=True)
        # The last delivery came about max_ms after the last message was sent.
        elapsed = SATURATION_SECONDS + full.max_ms / 1000
        rate[key].append(full.delivered / elapsed)


def _in_step(opts: Options, loop: str) -> Figure:
    """One room of 1,000, 10 senders in step, 100K/s: one process against two workers."""
    clients = 1000
    figure = Figure(
        "cluster", "N=1000, senders in step: p99 at 100K/s", "ms", False, [], peer=SINGLE
    )
    for workers in (None, 2):
        name = subject(workers)
        measure = Measure(name)
        load: list[float] = []
        for _ in range(opts.runs):
            try:
                with cluster_server(workers, loop) as target, Fleet(target, clients) as fleet:
                    _wait_quiet(target, 10)
                    fleet.step(50e3, 0.5, "step")  # warm-up
                    result = fleet.step(100e3, 1.5, "step")
                    load.append(os.getloadavg()[0])
                    print(f"    {name:24} N=1000 {result.line()}  loadavg {load[-1]:.1f}")
                    if result.delivered >= result.expected:
                        measure.values.append(result.p99_ms)
            except (RuntimeError, TimeoutError, OSError) as exc:
                measure.note = f"{type(exc).__name__}: {exc}"[:200]
                break
        if load and not measure.note:
            measure.note = f"load average {min(load):.1f}–{max(load):.1f}"
        figure.measures.append(measure)
    figure.targets[subject(2)] = Target("≤ 15 ms", 15.0, False)
    return figure
