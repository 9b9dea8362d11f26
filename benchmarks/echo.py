"""Scenario 6, echo: 1 KiB requests over 10 connections, each waiting for its answer.

Echo servers: `soketler listen -k --echo`, `socat ... fork PIPE` (a process per
connection) and `ncat -k -e /bin/cat` (a cat per connection). The client is one
process on the load CPU with its own uvloop loop; its CPU use is reported: near 100 %
of its core the figure is a lower bound.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import defaultdict
from multiprocessing.connection import Connection
from typing import Any

from benchmarks import util
from benchmarks.pipe import available
from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import Options, loop_of

CONNECTIONS = 10
SIZE = 1024
PAYLOAD = b"e" * (SIZE - 1) + b"\n"


class _Echo(asyncio.Protocol):
    def __init__(self, counter: list[int]) -> None:
        self.counter = counter
        self.got = 0
        self.running = True
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(PAYLOAD)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.got += len(data)
        while self.got >= SIZE:
            self.got -= SIZE
            self.counter[0] += 1
            if self.running and self.transport is not None:
                self.transport.write(PAYLOAD)


async def _drive(port: int, warmup: float, seconds: float) -> tuple[int, float, float]:
    loop = asyncio.get_running_loop()
    counter = [0]
    clients = []
    for _ in range(CONNECTIONS):
        _, client = await loop.create_connection(lambda: _Echo(counter), util.HOST, port)
        clients.append(client)
    await asyncio.sleep(warmup)
    count0, cpu0, t0 = counter[0], util.self_cpu(), util.now()
    await asyncio.sleep(seconds)
    count1, cpu1, t1 = counter[0], util.self_cpu(), util.now()
    for client in clients:
        client.running = False
        if client.transport is not None:
            client.transport.abort()
    return count1 - count0, t1 - t0, (cpu1 - cpu0) / (t1 - t0)


def _client(conn: Connection, port: int, warmup: float, seconds: float) -> None:
    util.pin_self(util.LOAD_CPU)
    import uvloop

    factory: Any = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        conn.send(runner.run(_drive(port, warmup, seconds)))


def _argv(subject: str, port: int) -> list[str]:
    p = str(port)
    if subject.startswith("soketler/"):
        return [
            *[util.SOKETLER, "listen", "-s", util.HOST, "-p", p, "-k", "--echo"],
            *["--loop", loop_of(subject)],
        ]
    if subject == "socat":
        return ["socat", f"TCP-LISTEN:{p},bind={util.HOST},reuseaddr,fork", "PIPE"]
    return ["ncat", "-l", util.HOST, p, "-k", "-e", "/bin/cat"]


def _once(subject: str, seconds: float) -> tuple[float, float]:
    port = util.free_port()
    with util.running([*util.taskset(util.SERVER_CPU), *_argv(subject, port)]) as server:
        util.wait_listening(port, proc=server)
        ctx = multiprocessing.get_context("fork")
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_client, args=(theirs, port, 0.5, seconds))
        proc.start()
        try:
            if not mine.poll(seconds + 30):
                raise TimeoutError("the echo client did not finish")
            count, wall, cpu = mine.recv()
        finally:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    return count / wall, cpu


def run(opts: Options) -> list[Figure]:
    seconds = 1.0 if opts.quick else 2.0
    subjects = [*opts.soketlers, "socat", "ncat"]
    notes = {s: available(s) for s in subjects}
    values: dict[str, list[float]] = defaultdict(list)
    load: dict[str, list[float]] = defaultdict(list)
    for run in range(opts.runs):
        for subject in subjects:
            if notes[subject]:
                continue
            try:
                rate, cpu = _once(subject, seconds)
            except (RuntimeError, OSError, TimeoutError, EOFError) as exc:
                notes[subject] = f"{type(exc).__name__}: {exc}"
                continue
            values[subject].append(rate)
            load[subject].append(cpu)
            print(
                f"    {subject:16} run {run + 1}: {rate / 1e3:.1f}K requests/s "
                f"(client CPU {100 * cpu:.0f}%)",
                flush=True,
            )
    figure = Figure(
        "echo",
        f"{SIZE} B request/response, {CONNECTIONS} connections",
        "/s",
        True,
        [Measure(s, values[s], notes[s]) for s in subjects],
        peer="socat",
        details={"client_cpu": dict(load)},
    )
    for subject in opts.soketlers:
        need = 50e3 if loop_of(subject) == "asyncio" else 70e3
        figure.targets[subject] = Target(f"≥ {need / 1e3:.0f}K/s", need, True)
    return [figure]
