"""Scenario 3, join storm, and scenario 4, capacity.

Join storm: 5,000 clients connect, choose a nickname and land in #lobby, all at once
(from two processes, 200 connections in flight each). We record when each finished
registering; the time per join, 500 joins at a time, shows how a join's cost grows
with the room. The storm is bounded in time: whoever has not joined by then is
counted as not joined.

Capacity: 10,000 connections that stay idle, greeted but unnamed (the target's case);
and, for comparison, 10,000 named users idle in one room. Server RSS (/proc/PID/status) before and
after, divided by the connections; and the Python heap by tracemalloc, in a second
server run under `benchmarks/traced_serve.py` (tracemalloc's own bookkeeping inflates
RSS, so the two are measured in different runs). Kernel socket buffers are not in RSS.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks import util
from benchmarks.chatload import ChatTarget, Fleet, join_times
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import (
    NCAT,
    Options,
    chat_server,
    loop_of,
    tree_argv,
    tree_env,
    tree_of,
)

STORM = 5000
BUCKET = 500
CAPACITY = 10_000
NCAT_NOTE = "ncat --chat cannot hold more than ~1,020 clients (select())"


def _per_join_ms(done: list[int]) -> list[float]:
    return [
        (done[i + BUCKET - 1] - done[i]) / (BUCKET - 1) / 1000
        for i in range(0, len(done) - BUCKET + 1, BUCKET)
    ]


def _window(done: list[int], start: int, stop: int | None) -> float:
    """Mean µs per join over done[start:stop]."""
    part = done[start:stop]
    return (part[-1] - part[0]) / max(1, len(part) - 1)


def run_storm(opts: Options) -> list[Figure]:
    limit = 5.0 if opts.quick else 8.0
    totals: dict[str, list[float]] = defaultdict(list)
    growth: dict[str, list[float]] = defaultdict(list)
    details: dict[str, Any] = defaultdict(list)
    notes: dict[str, str] = {}
    for run in range(opts.runs):
        for subject in opts.soketlers:
            with chat_server(subject, opts=opts) as target:
                with Fleet(
                    target,
                    STORM,
                    samples=0,
                    per_process=STORM // 2,
                    deadline=limit,
                    timeout=limit + 60,
                ) as fleet:
                    regs = fleet.registrations
                    done = join_times(regs)
                    first = min(start for start, _ in regs) if regs else 0
                    total = (done[-1] - first) / 1e6 if done else float("nan")
                    curve = _per_join_ms(done)
                joined = len(done)
            if fleet.unfinished:
                notes[subject] = f"only {joined} of {STORM} joined within {limit:.0f} s"
                total = float("inf")
            else:
                totals[subject].append(total)
            # Time per join over the last 1,000 joins against joins 500-1,500: windows
            # of 1,000 smooth out the loop's batching, and the first 500 are left out
            # because they hold the ramp-up of the storm (connections being opened).
            if joined == STORM:
                growth[subject].append(_window(done, -1000, None) / _window(done, 500, 1500))
            details[subject].append({"joined": joined, "seconds": total, "ms_per_join": curve})
            shown = " ".join(f"{x:.2f}" for x in curve)
            print(
                f"    {subject:16} run {run + 1}: {joined}/{STORM} joined, "
                f"{'>' + str(limit) if fleet.unfinished else f'{total:.2f}'} s; "
                f"ms per join by {BUCKET}s: {shown}",
                flush=True,
            )
    total_fig = Figure("join storm", f"{STORM:,} clients join one room: total", "s", False, [])
    flat_fig = Figure("join storm", "time per join, last 1,000 ÷ joins 500-1,500", "×", False, [])
    for subject in opts.soketlers:
        total_fig.measures.append(Measure(subject, totals[subject], notes.get(subject, "")))
        flat_fig.measures.append(Measure(subject, growth[subject], notes.get(subject, "")))
        total_fig.targets[subject] = Target("≤ 5 s", 5.0, False)
        flat_fig.targets[subject] = Target("flat (≤ 1.5×)", 1.5, False)
    total_fig.measures.append(Measure(NCAT, note=NCAT_NOTE))
    total_fig.details = {"limit_s": limit, "runs": dict(details)}
    return [total_fig, flat_fig]


def _capacity_once(
    subject: str, count: int, traced: bool, opts: Options, register: bool = False
) -> dict[str, Any]:
    """RSS (or traced heap) growth of one server while `count` connections are idle:
    connected and greeted, or with `register` also named and in one room."""
    with tempfile.TemporaryDirectory(prefix="soketler-bench-") as folder:
        report = Path(folder) / "heap.jsonl"
        argv = tree_argv(
            util.serve_argv(loop_of(subject), f"{folder}/history.sqlite3"),
            tree_of(subject, opts),
        )
        if traced:
            at = argv.index(util.SOKETLER)
            argv[at : at + 1] = [
                str(util.BIN / "python"),
                "-m",
                "benchmarks.traced_serve",
                str(report),
            ]
        with util.running(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=tree_env(tree_of(subject, opts)),
        ) as proc:
            port = util.read_port(proc)

            def heap() -> dict[str, Any]:
                assert proc.stdin is not None
                lines = report.read_text().splitlines() if report.exists() else []
                proc.stdin.write(b"snap\n")
                proc.stdin.flush()
                deadline = util.now() + 60
                while util.now() < deadline:
                    now_lines = report.read_text().splitlines() if report.exists() else []
                    if len(now_lines) > len(lines):
                        return dict(json.loads(now_lines[-1]))
                    time.sleep(0.05)
                raise TimeoutError("no heap report from the traced server")

            util.wait_quiet(proc.pid, 10)
            before = heap() if traced else {}
            rss0 = util.rss_kib(proc.pid)
            target = ChatTarget("soketler", port, server_pid=proc.pid, register=register)
            with Fleet(target, count, samples=0, timeout=120) as fleet:
                util.wait_quiet(proc.pid, 30)
                rss1 = util.rss_kib(proc.pid)
                after = heap() if traced else {}
                held = count - fleet.unfinished
        if traced:
            return {
                "per_connection": (after["traced"] - before["traced"]) / held,
                "top": after["top"],
            }
        return {"per_connection": (rss1 - rss0) * 1024 / held, "rss_kib": [rss0, rss1]}


def run_capacity(opts: Options) -> list[Figure]:
    count = 2000 if opts.quick else CAPACITY
    rss = Figure("capacity", f"server RSS growth per idle connection ({count:,})", "B", False, [])
    heap = Figure(
        "capacity", f"Python heap per idle connection ({count:,}, tracemalloc)", "B", False, []
    )
    users = Figure(
        "capacity",
        f"Python heap per idle user, named, in one room ({count:,}, tracemalloc)",
        "B",
        False,
        [],
    )
    for subject in opts.soketlers:
        values, traced, tops = [], [], []
        for _ in range(opts.runs):
            values.append(_capacity_once(subject, count, False, opts)["per_connection"])
        # The traced run is slow and its result steady: once is enough.
        found = _capacity_once(subject, count, True, opts)
        traced.append(found["per_connection"])
        tops.append(found["top"])
        user = _capacity_once(subject, count, True, opts, register=True)
        print(
            f"    {subject:16} RSS/conn {util.median(values):.0f} B, heap/conn {traced[0]:.0f} B,"
            f" heap/user {user['per_connection']:.0f} B",
            flush=True,
        )
        users.measures.append(Measure(subject, [user["per_connection"]], "1 traced run"))
        users.details[subject] = {"top_allocations": user["top"]}
        rss.measures.append(Measure(subject, values, "unregistered; kernel buffers excluded"))
        heap.measures.append(Measure(subject, traced, "1 traced run"))
        heap.targets[subject] = Target("≤ 2 KB", 2048.0, False)
        heap.details[subject] = {"top_allocations": tops[0]}
    rss.measures.append(Measure(NCAT, note=NCAT_NOTE))
    return [rss, heap, users]
