"""Scenario 1, fan-out: one room, 10 senders, everybody else reads.

Offered load is counted in deliveries a second (messages a second × room size). Each
step offers a rate for a few seconds, then waits for the deliveries to arrive (or to
stop arriving); a step is *sustained* when everything arrived and p99 ≤ 100 ms.
Two shapes: senders spread evenly in time, and senders in step (bursts).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from benchmarks import util
from benchmarks.chatload import Fleet, StepResult
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import NCAT, Options, chat_server

SHAPES = ("spread", "step")
SHAPE_NAMES = {"spread": "senders spread", "step": "senders in step"}
RATES_FULL = (50e3, 100e3, 200e3, 400e3, 800e3, 1.6e6, 2.4e6, 3.2e6)
RATES_QUICK = (100e3, 1.2e6)
SUSTAINED_P99_MS = 100.0
NCAT_MAX_CLIENTS = 1020
SMALL_ROOM_P99_MS = 200.0
# Past this a server is overloaded: higher steps would only take longer to fail.
GIVE_UP_SHARE = 0.99
GIVE_UP_P99_MS = 250.0


def duration(rate: float, clients: int, quick: bool) -> float:
    """Long enough for a few hundred messages at low rates, short at high ones."""
    messages_per_second = rate / clients
    return min(1.0 if quick else 1.5, max(1.0, 200 / messages_per_second))


def _steps(
    fleet: Fleet, rates: tuple[float, ...], shape: str, opts: Options, label: str
) -> list[StepResult]:
    # Warm-up, not recorded: first connections, first allocations, caches.
    fleet.step(50e3, 0.5, shape)
    done = []
    for rate in rates:
        result = fleet.step(rate, duration(rate, fleet.clients, opts.quick), shape)
        print(f"    {label:16} N={fleet.clients} {result.line()}", flush=True)
        done.append(result)
        if result.share < GIVE_UP_SHARE or result.p99_ms > GIVE_UP_P99_MS:
            break
    return done


def _summary(result: StepResult) -> dict[str, Any]:
    return {
        "rate": result.rate,
        "share": result.share,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "max_ms": result.max_ms,
        "latencies": result.latencies,
        "server_cpu": result.server_cpu,
        "generator_cpu": result.generator_cpu,
        "sender_late_ms": result.sender_late_ms,
        "dropped": result.dropped,
    }


def sustained(results: list[StepResult], last_rate: float) -> tuple[float, bool]:
    """The highest offered rate sustained, and whether every step was (a lower bound)."""
    best = 0.0
    for result in results:
        if result.sustained(SUSTAINED_P99_MS):
            best = max(best, result.rate)
    everything = bool(results) and all(r.sustained() for r in results)
    return best, everything and results[-1].rate == last_rate


def run_big_room(opts: Options) -> list[Figure]:
    """N = 1,000: the stepped rates in both shapes, soketler on each loop and ncat."""
    clients = 1000
    rates = RATES_QUICK if opts.quick else RATES_FULL
    subjects = [NCAT, *opts.soketlers]
    # per (subject, shape): one list of step results per run
    runs: dict[tuple[str, str], list[list[StepResult]]] = defaultdict(list)
    errors: dict[str, str] = {}
    for run in range(opts.runs):
        print(f"  fan-out N={clients}: run {run + 1}/{opts.runs}", flush=True)
        for subject in subjects:
            for shape in SHAPES:
                if subject in errors:
                    continue
                try:
                    with chat_server(subject, opts=opts) as target, Fleet(target, clients) as fleet:
                        util.wait_quiet(target.server_pid, 10)
                        runs[subject, shape].append(_steps(fleet, rates, shape, opts, subject))
                except (RuntimeError, TimeoutError, OSError) as exc:
                    errors[subject] = f"{type(exc).__name__}: {exc}"
                    print(f"    {subject}: not available: {errors[subject][:300]}", flush=True)
    figures = []
    for shape in SHAPES:
        name = SHAPE_NAMES[shape]
        at = 100e3
        p99 = Figure("fan-out", f"N=1000, {name}: p99 at 100K/s", "ms", False, [], peer=NCAT)
        p50 = Figure("fan-out", f"N=1000, {name}: p50 at 100K/s", "ms", False, [], peer=NCAT)
        best = Figure(
            "fan-out", f"N=1000, {name}: highest rate sustained", "/s", True, [], peer=NCAT
        )
        table: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for subject in subjects:
            results = runs.get((subject, shape), [])
            note = errors.get(subject, "")
            mp99, mp50, mbest = Measure(subject, note=note), Measure(subject), Measure(subject)
            bounds = 0
            for steps in results:
                hit = [s for s in steps if s.rate == at]
                if hit and hit[0].delivered >= hit[0].expected:
                    mp99.values.append(hit[0].p99_ms)
                    mp50.values.append(hit[0].p50_ms)
                value, lower_bound = sustained(steps, rates[-1])
                mbest.values.append(value)
                bounds += lower_bound
            if bounds:
                mbest.note = f"every step sustained in {bounds} run(s): a lower bound"
            if results and not mp99.values:
                mp99.note = "not everything was delivered at 100K/s"
            p99.measures.append(mp99)
            p50.measures.append(mp50)
            best.measures.append(mbest)
            table[subject] = {
                util.human_rate(rate): [
                    _summary(s) for steps in results for s in steps if s.rate == rate
                ]
                for rate in rates
            }
        for subject in opts.soketlers:
            if shape == "spread":
                p99.targets[subject] = Target("≤ 1.0× ncat (spread)", 1.0, False, relative=True)
            else:
                p99.targets[subject] = Target("≤ 20 ms", 20.0, False)
            best.targets[subject] = Target("≥ 1M/s (stretch 2.25M/s)", 1e6, True)
        best.details = {"steps": table, "rates": list(rates), "p99_limit_ms": 100}
        figures += [p99, p50, best]
    return figures


def run_room(opts: Options, clients: int) -> list[Figure]:
    """N = 100 or 10,000 at 50K deliveries/s, both shapes.

    10,000 clients take a while to join (every join is announced to the room), so
    that room is built once per server and measured `runs` times; 100 clients get a
    fresh server per run.
    """
    rate = 50e3
    subjects = [NCAT, *opts.soketlers]
    results: dict[tuple[str, str], list[StepResult]] = defaultdict(list)
    errors: dict[str, str] = {}
    setup: dict[str, float] = {}
    fresh = clients <= 1000
    # Building the room is bounded: a server that cannot seat everyone in this time
    # gets "not available" with the count, rather than holding up the whole run.
    deadline = 60.0 if fresh else (15.0 if opts.quick else 45.0)
    if clients > NCAT_MAX_CLIENTS:
        # Measured: its select() loop stops accepting near 1,020 clients, so trying
        # would only spend the deadline.
        errors[NCAT] = f"ncat --chat cannot hold more than ~{NCAT_MAX_CLIENTS:,} clients"
    for subject in subjects:
        rounds = range(opts.runs) if fresh else range(1)
        for _ in rounds:
            if subject in errors:
                continue
            try:
                with (
                    chat_server(subject, opts=opts) as target,
                    Fleet(target, clients, deadline=deadline, timeout=deadline + 60) as fleet,
                ):
                    setup[subject] = fleet.setup_seconds
                    if fleet.unfinished:
                        joined = clients - fleet.unfinished
                        raise TimeoutError(
                            f"only {joined} of {clients} joined the room in {deadline:.0f} s"
                        )
                    util.wait_quiet(target.server_pid, 60)
                    for _ in range(1 if fresh else opts.runs):
                        for shape in SHAPES:
                            fleet.step(rate, 0.5, shape)  # warm-up
                            result = fleet.step(rate, duration(rate, clients, opts.quick), shape)
                            print(f"    {subject:16} N={clients} {result.line()}", flush=True)
                            results[subject, shape].append(result)
            except (RuntimeError, TimeoutError, OSError) as exc:
                errors[subject] = f"{type(exc).__name__}: {exc}"
                print(f"    {subject}: not available: {errors[subject][:300]}", flush=True)
    figures = []
    for shape in SHAPES:
        name = f"N={clients}, {SHAPE_NAMES[shape]}"
        p99 = Figure("fan-out", f"{name}: p99 at 50K/s", "ms", False, [], peer=NCAT)
        share = Figure("fan-out", f"{name}: delivered at 50K/s", "%", True, [], peer=NCAT)
        for subject in subjects:
            steps = results.get((subject, shape), [])
            note = errors.get(subject, "")
            p99.measures.append(Measure(subject, [s.p99_ms for s in steps], note))
            share.measures.append(Measure(subject, [100 * s.share for s in steps], note))
        for subject in opts.soketlers:
            p99.targets[subject] = Target(f"≤ {SMALL_ROOM_P99_MS:.0f} ms", SMALL_ROOM_P99_MS, False)
            share.targets[subject] = Target("100%", 100.0, True)
        p99.details = {
            "setup_seconds": setup,
            "steps": {s: [_summary(r) for r in results.get((s, shape), [])] for s in subjects},
        }
        figures += [p99, share]
    return figures


def run_web_room(opts: Options) -> list[Figure]:
    """N = 1,000 readers in browsers (the web door, one WebSocket each) against the same
    room read over TCP (the lines door), senders spread: what a delivery costs through
    the browser door. Same server, same loop, same senders; only the readers' door
    differs."""
    clients = 1000
    rates = RATES_QUICK if opts.quick else RATES_FULL
    loop = "uvloop" if "uvloop" in opts.loops else opts.loops[0]
    subject = f"soketler/{loop}"
    lines, browsers = f"{subject} lines", f"{subject} web"
    runs: dict[str, list[list[StepResult]]] = defaultdict(list)
    errors: dict[str, str] = {}
    for run in range(opts.runs):
        print(f"  fan-out to browsers N={clients}: run {run + 1}/{opts.runs}", flush=True)
        for name, web in ((lines, False), (browsers, True)):
            if name in errors:
                continue
            try:
                with (
                    chat_server(subject, web=web) as target,
                    Fleet(target, clients, web=web) as fleet,
                ):
                    util.wait_quiet(target.server_pid, 10)
                    runs[name].append(_steps(fleet, rates, "spread", opts, name))
            except (RuntimeError, TimeoutError, OSError) as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
                print(f"    {name}: not available: {errors[name][:300]}", flush=True)
    at = 100e3
    p99 = Figure("fan-out", "N=1000 browsers: p99 at 100K/s", "ms", False, [], peer=lines)
    best = Figure("fan-out", "N=1000 browsers: highest rate sustained", "/s", True, [], peer=lines)
    for name in (lines, browsers):
        mp99, mbest = Measure(name, note=errors.get(name, "")), Measure(name)
        bounds = 0
        for steps in runs.get(name, []):
            hit = [s for s in steps if s.rate == at]
            if hit and hit[0].delivered >= hit[0].expected:
                mp99.values.append(hit[0].p99_ms)
            value, lower_bound = sustained(steps, rates[-1])
            mbest.values.append(value)
            bounds += lower_bound
        if bounds:
            mbest.note = f"every step sustained in {bounds} run(s): a lower bound"
        p99.measures.append(mp99)
        best.measures.append(mbest)
    p99.targets[browsers] = Target("≤ 2.0× over TCP", 2.0, False, relative=True)
    best.targets[browsers] = Target("≥ 0.5× over TCP", 0.5, True, relative=True)
    best.details = {
        "steps": {n: [[_summary(s) for s in steps] for steps in runs.get(n, [])] for n in runs},
        "rates": list(rates),
        "p99_limit_ms": SUSTAINED_P99_MS,
    }
    return [p99, best]
