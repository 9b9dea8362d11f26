"""Scenario "irc": the IRC door against ngIRCd, in the same run.

One room (#lobby) of 1,000 IRC clients (each NICK, USER, JOIN #lobby, then reading),
10 of them senders, on soketler's IRC door and on ngIRCd (Debian's, flood penalties
off: benchmarks/ircpeer.py), each pinned to the server CPU:

- senders spread at 50K deliveries/s: p99 latency and the share delivered;
- saturation: 3.2M deliveries/s offered for a second (more than either server
  delivers), and what arrived divided by the time until the last of it arrived.

IRC servers do not send a sender its own message (no echo-message here), so a message
makes 999 deliveries.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from benchmarks import util
from benchmarks.chatload import Fleet, StepResult
from benchmarks.fanout import duration
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import NGIRCD, Options, irc_server

CLIENTS = 1000
RATE = 50e3
SATURATION = 3.2e6


def _summary(result: StepResult) -> dict[str, Any]:
    return {
        "rate": result.rate,
        "share": result.share,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "max_ms": result.max_ms,
        "server_cpu": result.server_cpu,
        "generator_cpu": result.generator_cpu,
        "dropped": result.dropped,
    }


def run(opts: Options) -> list[Figure]:
    subjects = [NGIRCD, *opts.irc_soketlers]
    p99: dict[str, list[float]] = defaultdict(list)
    share: dict[str, list[float]] = defaultdict(list)
    throughput: dict[str, list[float]] = defaultdict(list)
    steps: dict[str, list[dict[str, Any]]] = defaultdict(list)
    errors: dict[str, str] = {}
    for run_index in range(opts.runs):
        print(f"  irc: run {run_index + 1}/{opts.runs}", flush=True)
        for subject in subjects:
            if subject in errors:
                continue
            try:
                with irc_server(subject) as target, Fleet(target, CLIENTS) as fleet:
                    util.wait_quiet(target.server_pid, 10)
                    fleet.step(RATE, 0.5, "spread")  # warm-up
                    result = fleet.step(RATE, duration(RATE, CLIENTS, opts.quick), "spread")
                    print(f"    {subject:20} N={CLIENTS} {result.line()}", flush=True)
                    p99[subject].append(result.p99_ms)
                    share[subject].append(100 * result.share)
                    seconds = duration(SATURATION, CLIENTS, opts.quick)
                    flood = fleet.step(SATURATION, seconds, "spread", drain=10.0)
                    print(f"    {subject:20} N={CLIENTS} {flood.line()}", flush=True)
                    # The last delivery came about max_ms after the last message was sent.
                    elapsed = seconds + flood.max_ms / 1000
                    throughput[subject].append(SATURATION * seconds * flood.share / elapsed)
                    steps[subject] += [_summary(result), _summary(flood)]
            except (RuntimeError, TimeoutError, OSError) as exc:
                errors[subject] = f"{type(exc).__name__}: {exc}"
                print(f"    {subject}: not available: {errors[subject][:300]}", flush=True)
    latency = Figure(
        "irc", f"N={CLIENTS}, senders spread: p99 at 50K/s", "ms", False, [], peer=NGIRCD
    )
    delivered = Figure(
        "irc", f"N={CLIENTS}, senders spread: delivered at 50K/s", "%", True, [], peer=NGIRCD
    )
    saturation = Figure(
        "irc",
        f"N={CLIENTS}: deliveries/s with {util.human_rate(SATURATION)}/s offered",
        "/s",
        True,
        [],
        peer=NGIRCD,
    )
    for subject in subjects:
        note = errors.get(subject, "")
        latency.measures.append(Measure(subject, p99[subject], note))
        delivered.measures.append(Measure(subject, share[subject], note))
        saturation.measures.append(Measure(subject, throughput[subject], note))
    for subject in opts.irc_soketlers:
        latency.targets[subject] = Target("≤ 1.0× ngircd", 1.0, False, relative=True)
        delivered.targets[subject] = Target("100%", 100.0, True)
        saturation.targets[subject] = Target("≥ 1.0× ngircd", 1.0, True, relative=True)
    latency.details = {"steps": dict(steps)}
    return [latency, delivered, saturation]
