"""Saturation: 10 senders write as fast as TCP lets them into a room of 1,000.

No schedule: each sender hands its socket a block of lines whenever the socket has
taken the last one, for a fixed time, with the rate limit off. That offers far more
than any server can deliver, so what is measured is how a server behaves past its
limit: how many deliveries a second it makes, whether it drops its readers to keep
up, and whether the lines it passes on reach everyone.

- *Deliveries/s*: messages arrived at a client (markers counted with `bytes.count`,
  as in the fan-out), divided by the time the senders wrote.
- *Delivered*: every line carries its sender and its number. A sender's lines reach
  a client in order, so a client that lost none has, from each sender, as many lines
  as its last line's number + 1; a dropped client is owed everything the server
  passed on to anyone. Refused lines count as not delivered. (Waiting for all that
  the senders wrote is not possible: TCP lets them put megabytes into the server's
  socket buffers, minutes of work at this rate; see `Fleet.flood`.)
- *Dropped*: clients whose connection the server closed or reset.
- The server's CPU and the load generator's, over the time the senders wrote.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import asdict
from typing import Any

from benchmarks import util
from benchmarks.chatload import Fleet, FloodResult
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import NCAT, Options, chat_server

CLIENTS = 1000
SIZE = 64
# The server's default SendQ (the fan-out raises it to 8 MiB): whether readers are
# dropped under overload is the question, so the limit is the one people run with.
SENDQ = 1 << 20
SECONDS = 5.0
SECONDS_QUICK = 2.0
# At most this long, after the senders stop, for every client to have had a line from
# every sender (its ledger can be checked only then; see Fleet.flood).
WAIT = 10.0
WAIT_QUICK = 5.0
TARGET_RATE = 2e6  # ngircd, C on one core, delivers 2.1–2.7M lines/s here
NAME = f"N={CLIENTS:,}, 10 senders flat out"


def _subjects(opts: Options) -> list[tuple[str, str, bool]]:
    """(label, server, history in memory): ncat, soketler with its SQLite history on
    each loop, and in full runs soketler with `--db :memory:` too, which tells the
    cost of waiting for the disk apart from the rest."""
    found = [(NCAT, NCAT, False)] + [(s, s, False) for s in opts.soketlers]
    if not opts.quick:
        found += [(f"{s} :memory:", s, True) for s in opts.soketlers]
    return found


def run(opts: Options) -> list[Figure]:
    subjects = _subjects(opts)
    seconds, wait = (SECONDS_QUICK, WAIT_QUICK) if opts.quick else (SECONDS, WAIT)
    results: dict[str, list[FloodResult]] = defaultdict(list)
    loads: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, str] = {}
    for run_index in range(opts.runs):
        print(f"  saturation: run {run_index + 1}/{opts.runs}", flush=True)
        for label, subject, memory in subjects:
            if label in errors:
                continue
            try:
                with (
                    chat_server(subject, sendq=SENDQ, memory=memory, opts=opts) as target,
                    Fleet(target, CLIENTS) as fleet,
                ):
                    util.wait_quiet(target.server_pid, 10)
                    load = os.getloadavg()[0]
                    result = fleet.flood(seconds, size=SIZE, wait=wait)
            except (RuntimeError, TimeoutError, OSError) as exc:
                errors[label] = f"{type(exc).__name__}: {exc}"
                print(f"    {label}: not available: {errors[label][:300]}", flush=True)
                continue
            results[label].append(result)
            loads[label].append(load)
            print(f"    {label:16} {result.line()}  (load average {load:.1f})", flush=True)
    rate = Figure("saturation", f"{NAME}: deliveries/s", "/s", True, [], peer=NCAT)
    pause = Figure("saturation", f"{NAME}: longest pause in deliveries", "s", False, [], peer=NCAT)
    share = Figure("saturation", f"{NAME}: delivered", "%", True, [], peer=NCAT)
    dropped = Figure("saturation", f"{NAME}: clients dropped", "clients", False, [], peer=NCAT)
    refused = Figure("saturation", f"{NAME}: lines refused", "lines", False, [], peer=NCAT)
    server = Figure("saturation", f"{NAME}: server CPU", "%", False, [], peer=NCAT)
    load_cpu = Figure("saturation", f"{NAME}: load generator CPU", "%", False, [], peer=NCAT)
    details: dict[str, Any] = {}
    for label, _, _ in subjects:
        got = results.get(label, [])
        note = errors.get(label, "")
        rate.measures.append(Measure(label, [r.rate for r in got], note))
        pause.measures.append(Measure(label, [r.longest_pause for r in got], note))
        checked = [100 * r.share for r in got if r.owed]
        unchecked = "" if len(checked) == len(got) else "nothing was passed on in some runs"
        share.measures.append(Measure(label, checked, note or unchecked))
        dropped.measures.append(Measure(label, [float(r.dropped) for r in got], note))
        refused.measures.append(Measure(label, [float(r.refused) for r in got], note))
        server.measures.append(Measure(label, [100 * r.server_cpu for r in got], note))
        load_cpu.measures.append(Measure(label, [100 * r.generator_cpu for r in got], note))
        details[label] = [
            {**asdict(r), "quits": r.quits[:10], "load_average": load}
            for r, load in zip(got, loads[label], strict=True)
        ]
    for label, _, _ in subjects[1:]:
        rate.targets[label] = Target("≥ 2M/s", TARGET_RATE, True)
        dropped.targets[label] = Target("nobody", 0.0, False)
    rate.details = {"runs": details, "seconds": seconds, "size": SIZE, "clients": CLIENTS}
    return [rate, pause, share, dropped, refused, server, load_cpu]
