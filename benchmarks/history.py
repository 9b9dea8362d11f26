"""The cost of durable history: fan-out with SQLite against `--db :memory:`.

Every message is committed to SQLite before anyone receives it (group commits on a
writer thread). The target: fan-out throughput with SQLite at least 0.8× that of the
memory store, in the same run. Throughput is measured past saturation: 1.6M
deliveries/s are offered for a second to a room of 1,000 (senders spread), and what
arrived is divided by the time until the last of it arrived. (The server's CPU is
near a full core at any rate that keeps it busy, so CPU per delivery tells nothing, and
the sustained-rate steps of the fan-out scenario are a factor 2 apart.)
"""

from __future__ import annotations

from collections import defaultdict

from benchmarks import util
from benchmarks.chatload import Fleet
from benchmarks.fanout import duration
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import Options, chat_server

CLIENTS = 1000
RATE = 1.6e6
STORES = ("sqlite", "memory")


def run(opts: Options) -> list[Figure]:
    throughput: dict[tuple[str, str], list[float]] = defaultdict(list)
    p99: dict[tuple[str, str], list[float]] = defaultdict(list)
    for run_index in range(opts.runs):
        print(f"  history: run {run_index + 1}/{opts.runs}", flush=True)
        for subject in opts.soketlers:
            for store in STORES:
                with (
                    chat_server(subject, memory=store == "memory", opts=opts) as target,
                    Fleet(target, CLIENTS) as fleet,
                ):
                    util.wait_quiet(target.server_pid, 10)
                    fleet.step(50e3, 0.5, "spread")  # warm-up
                    seconds = duration(RATE, CLIENTS, opts.quick)
                    result = fleet.step(RATE, seconds, "spread")
                    print(f"    {subject:16} {store:6} {result.line()}", flush=True)
                    # The last delivery came about max_ms after the last message was sent.
                    elapsed = seconds + result.max_ms / 1000
                    throughput[subject, store].append(RATE * seconds * result.share / elapsed)
                    p99[subject, store].append(result.p99_ms)
    figures = []
    for subject in opts.soketlers:
        memory_label = f"{subject} :memory:"
        sqlite_label = f"{subject} SQLite"
        labels = {"sqlite": sqlite_label, "memory": memory_label}
        figure = Figure(
            "history",
            f"N={CLIENTS}: throughput with {util.human_rate(RATE)}/s offered",
            "/s",
            True,
            [Measure(labels[store], throughput[subject, store]) for store in STORES],
            peer=memory_label,
        )
        figure.targets[sqlite_label] = Target("≥ 0.8× :memory:", 0.8, True, relative=True)
        figure.details = {"p99_ms": {labels[s]: p99[subject, s] for s in STORES}}
        figures.append(figure)
    return figures
