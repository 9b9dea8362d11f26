"""The cost of the search index: SQLite writes with and without it, and search latency.

Every message written also goes into the FTS5 index (by trigger, on the store's writer
thread). Measured on the store alone, in this process: groups of 256 messages (the
biggest single statement the writer makes) of 12 words each, from a vocabulary where
most words are common, so that most searches match thousands of messages. The target:
writing with the index at least 0.5× as fast as without, and a search over 100,000
messages within 20 ms at the median.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.report import Figure, Measure, Target
from benchmarks.servers import Options
from soketler.protocols.events import ChatMessage
from soketler.protocols.query import parse_query
from soketler.store.sqlite import SqliteStore

GROUP = 256
COMMON = [
    "merhaba",
    "release",
    "group",
    "commit",
    "deploy",
    "build",
    "test",
    "green",
    "lobby",
    "dev",
]
RARE = ("coffee", "sürüm", "kahve", "index")
QUERIES = (
    "deploy",
    "deploy green",
    "coffee",
    "from:user3 green",
    "sür*",
    "in:#r3 index",
    '"group commit" after:2000-01-01',
)


def groups(count: int, rng: random.Random) -> list[list[ChatMessage]]:
    now = datetime.now(UTC)
    made = []
    for g in range(count // GROUP):
        group = []
        for i in range(GROUP):
            mid = 1 + g * GROUP + i
            words = [rng.choice(COMMON) for _ in range(12)]
            if rng.random() < 0.01:
                words.append(rng.choice(RARE))
            group.append(
                ChatMessage(mid, now, f"user{mid % 50}", " ".join(words), room=f"#r{mid % 20}")
            )
        made.append(group)
    return made


def write_rate(
    folder: Path, batches: list[list[ChatMessage]], index: bool
) -> tuple[float, SqliteStore]:
    store = SqliteStore(str(folder / ("with.db" if index else "without.db")))
    store.load()
    if not index:  # the schema as it was before the index: no trigger fills it
        db = sqlite3.connect(store.path)
        db.execute("DROP TRIGGER messages_fts_insert")
        db.close()
    start = time.perf_counter()
    for batch in batches:
        store.write(batch, [])
    return sum(map(len, batches)) / (time.perf_counter() - start), store


def run(opts: Options) -> list[Figure]:
    count = 20_000 if opts.quick else 100_000
    rates: dict[bool, list[float]] = {True: [], False: []}
    latency: list[float] = []
    for run_index in range(opts.runs):
        print(f"  search: run {run_index + 1}/{opts.runs}", flush=True)
        batches = groups(count, random.Random(run_index))
        with tempfile.TemporaryDirectory() as folder:
            for index in (False, True):
                rate, store = write_rate(Path(folder), batches, index)
                rates[index].append(rate)
                if index:
                    times = []
                    for text in QUERIES:
                        query = parse_query(text)
                        for _ in range(5):
                            started = time.perf_counter()
                            store.search(query, "user1", None, 50, None)
                            times.append((time.perf_counter() - started) * 1000)
                    latency.append(statistics.median(times))
                store.close()
        print(
            f"    with index {rates[True][-1]:,.0f}/s, without {rates[False][-1]:,.0f}/s, "
            f"search median {latency[-1]:.2f} ms",
            flush=True,
        )
    writes = Figure(
        "search",
        f"SQLite writes in groups of {GROUP}, with the search index",
        "/s",
        True,
        [Measure("with index", rates[True]), Measure("without index", rates[False])],
        peer="without index",
    )
    writes.targets["with index"] = Target("≥ 0.5× without", 0.5, True, relative=True)
    searches = Figure(
        "search",
        f"search over {count:,} messages, median of {len(QUERIES)} queries",
        "ms",
        False,
        [Measure("with index", latency)],
    )
    searches.targets["with index"] = Target("≤ 20 ms", 20.0, False)
    return [writes, searches]
