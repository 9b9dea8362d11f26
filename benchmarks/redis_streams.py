"""Scenario "redis": one room's stream through Redis, the path of cluster mode.

A publisher (`cluster.publisher`, the XADD script) and a stream reader
(`cluster.reader`, XREAD BLOCK) in this process, on the load CPU, against a
`redis-server` pinned to the server CPU (no persistence, as a cache-only Redis; the
fsync cost of `appendfsync always` is the disk's, not ours):

- round trip, one at a time: publish an entry, wait until the reader delivers it,
  publish the next (p50, p99): the latency a message gains by going through Redis;
- throughput: 50,000 entries (20,000 quick) of a 120-byte message published as fast as
  the publisher takes them, counted as the reader delivers them;
- the same through plain pipelined XADD, to show what the publish script costs;
- Redis memory per entry (MEMORY USAGE / XLEN) and bytes per entry on the wire;
- Redis's own CPU per message, published once and read by 1 and by 4 readers (as 1 or
  4 nodes with members in the room would): what a message costs Redis, and what each
  more node reading it adds. With the sizes, the inputs of the sizing model in
  docs/operations.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks import util
from benchmarks.report import Figure, Measure
from benchmarks.servers import Options
from soketler import loops
from soketler.cluster import entries
from soketler.cluster.connect import connect
from soketler.cluster.keys import KeyLayout
from soketler.cluster.publisher import Publisher
from soketler.cluster.reader import Entry, StreamReader
from soketler.protocols.events import ChatMessage

SUBJECT = "soketler+redis"
TEXT = "x" * 120
STREAM = KeyLayout().room_stream("#bench")


@dataclass(frozen=True)
class RedisUnderTest:
    url: str
    pid: int


@contextlib.contextmanager
def redis_server() -> Iterator[RedisUnderTest]:
    program = shutil.which("redis-server")
    if program is None:
        raise RuntimeError("redis-server is not installed")
    port = util.free_port()
    with tempfile.TemporaryDirectory(prefix="soketler-bench-redis-") as folder:
        argv = [
            *util.taskset(util.SERVER_CPU), program,
            "--port", str(port), "--bind", util.HOST, "--dir", folder,
            "--save", "", "--appendonly", "no",
        ]  # fmt: skip
        with util.running(argv) as proc:
            util.wait_listening(port, proc=proc)
            yield RedisUnderTest(f"redis://{util.HOST}:{port}", proc.pid)


def _fields(sent_us: int) -> dict[str, str]:
    message = ChatMessage(0, datetime.now(UTC), "bench", TEXT, room="#bench")
    fields = entries.encode(message)
    fields["sent"] = str(sent_us)
    return fields


async def _round_trips(url: str, count: int) -> list[float]:
    client = await connect(url)
    await client.flushall()
    arrived: asyncio.Queue[int] = asyncio.Queue()

    def deliver(stream: str, got: list[Entry]) -> None:
        for _, fields in got:
            arrived.put_nowait(util.mono_us() - int(fields["sent"]))

    reader = StreamReader(client, deliver)
    publisher = Publisher(client, "bench-1")
    await reader.add_now(STREAM)
    latencies = []
    try:
        for _ in range(count + 50):
            publisher.publish(STREAM, _fields(util.mono_us()))
            latencies.append(await asyncio.wait_for(arrived.get(), 10) / 1000)
    finally:
        await publisher.close()
        await reader.close()
        await client.aclose()
    return sorted(latencies[50:])  # the first ones warm the connections


async def _throughput(url: str, count: int, scripted: bool) -> tuple[float, dict[str, float]]:
    client = await connect(url)
    await client.flushall()
    done = asyncio.Event()
    seen = 0
    wire = 0

    def deliver(stream: str, got: list[Entry]) -> None:
        nonlocal seen, wire
        seen += len(got)
        wire += sum(len(i) + sum(len(k) + len(v) for k, v in f.items()) for i, f in got)
        if seen >= count:
            done.set()

    reader = StreamReader(client, deliver)
    publisher = Publisher(client, "bench-1")
    await reader.add_now(STREAM)
    fields = _fields(0)
    started = time.perf_counter()
    try:
        if scripted:
            for start in range(0, count, 1000):
                batch = [publisher.publish(STREAM, fields) for _ in range(start, start + 1000)]
                await asyncio.gather(*batch)
        else:
            for start in range(0, count, 1000):
                pipe = client.pipeline(transaction=False)
                for _ in range(start, start + 1000):
                    pipe.xadd(STREAM, fields)  # type: ignore[arg-type]
                await pipe.execute()
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.perf_counter() - started
        memory = await client.memory_usage(STREAM, samples=0) or 0
        length = await client.xlen(STREAM)
    finally:
        await publisher.close()
        await reader.close()
        await client.aclose()
    details = {"memory_per_entry": memory / max(length, 1), "wire_per_entry": wire / count}
    return count / elapsed, details


async def _redis_cpu(url: str, pid: int, count: int, readers: int) -> float:
    """Redis CPU µs per message: `count` messages published (in batches, as the
    publisher sends them) and read by `readers` readers, each its own connection."""
    client = await connect(url)
    await client.flushall()
    done = asyncio.Event()
    seen = [0] * readers

    def deliver_to(index: int) -> Any:
        def deliver(stream: str, got: list[Entry]) -> None:
            seen[index] += len(got)
            if min(seen) >= count:
                done.set()

        return deliver

    group = [StreamReader(client, deliver_to(i)) for i in range(readers)]
    publisher = Publisher(client, "bench-1")
    for reader in group:
        await reader.add_now(STREAM)
    fields = _fields(0)
    before = util.process_cpu(pid)
    try:
        for _ in range(count // 1000):
            await asyncio.gather(*(publisher.publish(STREAM, fields) for _ in range(1000)))
        await asyncio.wait_for(done.wait(), 120)
        used = util.process_cpu(pid) - before
    finally:
        await publisher.close()
        for reader in group:
            await reader.close()
        await client.aclose()
    return used / count * 1e6


def run(opts: Options) -> list[Figure]:
    count = 20_000 if opts.quick else 50_000
    trips = 500 if opts.quick else 2_000
    p50, p99 = Measure(SUBJECT), Measure(SUBJECT)
    rate, plain = Measure(SUBJECT), Measure("plain XADD")
    memory, wire = Measure(SUBJECT), Measure(SUBJECT)
    cpu_one, cpu_four = Measure("1 reader"), Measure("4 readers")
    details: dict[str, Any] = {"messages": count, "round_trips": trips, "text_bytes": len(TEXT)}
    with redis_server() as redis:
        url = redis.url
        for _ in range(opts.runs):
            times = loops.run(lambda: _round_trips(url, trips))
            p50.values.append(util.percentile(times, 50))
            p99.values.append(util.percentile(times, 99))
            per_second, sizes = loops.run(lambda: _throughput(url, count, scripted=True))
            rate.values.append(per_second)
            memory.values.append(sizes["memory_per_entry"])
            wire.values.append(sizes["wire_per_entry"])
            plain.values.append(loops.run(lambda: _throughput(url, count, scripted=False))[0])
            for readers, measure in ((1, cpu_one), (4, cpu_four)):
                measure.values.append(
                    loops.run(lambda n=readers: _redis_cpu(url, redis.pid, count, n))  # type: ignore[misc]
                )
        version = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, check=False
        ).stdout.split()
    details["redis"] = next((w for w in version if w.startswith("v=")), "?")
    one_at_a_time = "publish → delivered, one at a time"
    return [
        Figure("redis", f"{one_at_a_time}, p50", "ms", False, [p50], details=details),
        Figure("redis", f"{one_at_a_time}, p99", "ms", False, [p99]),
        Figure(
            "redis",
            "messages/s through one stream (publish → read)",
            "msg/s",
            True,
            [rate, plain],
            peer="plain XADD",
        ),
        Figure("redis", "Redis memory per 120-byte message", "bytes", False, [memory]),
        Figure("redis", "bytes per message read (fields and id)", "bytes", False, [wire]),
        Figure(
            "redis",
            "Redis CPU per message (published once, read by 1 or 4 readers)",
            "µs",
            False,
            [cpu_one, cpu_four],
        ),
    ]
