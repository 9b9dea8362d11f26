"""Scenario 2, slow consumer: 100 clients and one that never reads.

The one that never reads has a 4 KiB SO_RCVBUF. 1 KiB messages at 100K deliveries/s
for 8 s: about 1 MB/s for every client, so the silent one has absorbed the ~4 MB the
kernel buffers on loopback plus the 1 MiB SendQ after about 5 s. The others should
get everything, as fast as without it, and the silent one should be dropped: at once
by a server that drops at the SendQ, or, by soketler, once it has stayed above it for
its grace (--sendq-grace, 10 s by default), which we wait for after the step.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from benchmarks import util
from benchmarks.chatload import Fleet, StepResult
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import NCAT, Options, chat_server

CLIENTS = 100
RATE = 100e3
SIZE = 1024
SENDQ = 1 << 20  # the server's default, stated so the run does not depend on it
# After the step, how long the silent client may take to be dropped: soketler's default
# --sendq-grace (10 s) after it passed its SendQ, and its check every 0.5 s.
DROP_WAIT = 12.0


def _one(subject: str, slow: bool, seconds: float, opts: Options) -> tuple[StepResult, bool]:
    with (
        chat_server(subject, sendq=SENDQ, opts=opts) as target,
        Fleet(target, CLIENTS, slow=slow) as fleet,
    ):
        fleet.step(RATE, 0.3, "spread", size=SIZE)  # warm-up
        began = util.mono_us()  # (the step's schedule starts 50 ms later)
        result = fleet.step(RATE, seconds, "spread", size=SIZE, stall=1.5)
        if slow and subject != NCAT:
            # A server may give a client above its SendQ some time to catch up before
            # it counts as not reading (soketler: --sendq-grace, 10 s): the silent one
            # still owes megabytes, so wait for the drop, a while.
            deadline = util.now() + DROP_WAIT
            while fleet.slow_alive() and util.now() < deadline:
                time.sleep(0.25)
            result.quits += fleet.quits(began)
        # The server says why it dropped someone ("-- slow… quit (SendQ exceeded)") to
        # the room; the sampled receivers note those lines.
        announced = any(q[1].startswith("slow") and "SendQ" in q[2] for q in result.quits)
        # TCP state of the silent client's socket, for the record: a server that closes
        # without SO_LINGER 0 leaves the kernel trying to deliver its buffered megabytes.
        established = fleet.slow_alive() if slow else True
    alive = not announced
    if slow:
        result.quits.append((0.0, "tcp-state", "established" if established else "closed"))
    label = "with slow" if slow else "baseline"
    print(f"    {subject:16} {label:9} {result.line()}", flush=True)
    return result, alive


def run(opts: Options) -> list[Figure]:
    subjects = [NCAT, *opts.soketlers]
    base: dict[str, list[StepResult]] = defaultdict(list)
    slow: dict[str, list[StepResult]] = defaultdict(list)
    dropped: dict[str, list[float]] = defaultdict(list)
    drop_after: dict[str, list[float]] = defaultdict(list)
    states: dict[str, list[str]] = defaultdict(list)
    errors: dict[str, str] = {}
    # Quick passes stop sooner: the silent client is over its SendQ after ~4 s.
    seconds = 5.0 if opts.quick else 8.0
    for run in range(opts.runs):
        print(f"  slow consumer: run {run + 1}/{opts.runs}", flush=True)
        for subject in subjects:
            if subject in errors:
                continue
            try:
                # The same length as the run with the silent client: a longer run
                # meets more rare pauses (a WAL checkpoint, a collection), and its p99
                # would be worse for reasons that have nothing to do with that client.
                base[subject].append(_one(subject, False, seconds, opts)[0])
                result, alive = _one(subject, True, seconds, opts)
            except (RuntimeError, TimeoutError, OSError) as exc:
                errors[subject] = f"{type(exc).__name__}: {exc}"
                continue
            slow[subject].append(result)
            dropped[subject].append(0.0 if alive else 100.0)
            drop_after[subject] += [q[0] for q in result.quits if "SendQ" in q[2]][:1]
            states[subject] += [q[2] for q in result.quits if q[1] == "tcp-state"]
    share = Figure(
        "slow consumer", "delivered to the 100 others, 1 never reads", "%", True, [], peer=NCAT
    )
    ratio = Figure(
        "slow consumer",
        "others' p99 with the slow client ÷ without",
        "×",
        False,
        [],
        peer=NCAT,
    )
    gone = Figure("slow consumer", "the slow client was dropped", "%", True, [], peer=NCAT)
    details: dict[str, Any] = {}
    for subject in subjects:
        note = errors.get(subject, "")
        pairs = list(zip(base[subject], slow[subject], strict=False))
        share.measures.append(Measure(subject, [100 * s.share for s in slow[subject]], note))
        ratio.measures.append(
            Measure(subject, [s.p99_ms / b.p99_ms for b, s in pairs if b.p99_ms > 0], note)
        )
        gone.measures.append(Measure(subject, dropped[subject], note))
        details[subject] = {
            "baseline": [[b.p50_ms, b.p99_ms, b.share] for b in base[subject]],
            "with_slow": [[s.p50_ms, s.p99_ms, s.share] for s in slow[subject]],
            "dropped_after_s": drop_after[subject],
            "slow_socket_after_run": states[subject],
        }
    for subject in opts.soketlers:
        share.targets[subject] = Target("100%", 100.0, True)
        ratio.targets[subject] = Target("≤ 1.10×", 1.10, False)
        gone.targets[subject] = Target("dropped at its SendQ", 100.0, True)
    share.details = {"p50_p99_share": details, "rate": RATE, "size": SIZE, "seconds": seconds}
    for subject, times in drop_after.items():
        if times:
            gone.details[subject] = f"SendQ exceeded after {util.median(times):.1f} s (median)"
    return [share, ratio, gone]
