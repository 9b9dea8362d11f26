"""History in Redis Streams: the store of cluster mode.

Each room and each private conversation is one stream (`cluster.keys`), whose entry
ids are the message ids (`cluster.cursors`): in cluster mode the nodes add messages
with `XADD *` (`cluster.publisher`) and read them back from the same streams, so the
history a newcomer scrolls back through is exactly what was delivered. Topics are kept
in one hash.

Like every `HistoryStore`, this one is synchronous and runs on the writer thread
(`store.archive.ThreadedArchive`), with redis-py's blocking client. The writer thread
already turns the messages that arrive during one round trip into the next group, so a
group is one script call; the event loop never waits for Redis, and a Redis that hangs
holds up the writer thread (until the socket timeout), not the clients.

`write` honours the ids it is given (a history can be copied between backends and keep
its cursors): a group's ids are checked before any is written, in one script per hash
slot, so on a single Redis a group is stored whole or not at all; on a Redis Cluster
that holds per room, since a group that spans rooms on several shards cannot be one
transaction.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, cast

import redis

from soketler.cluster import cursors, entries
from soketler.cluster.connect import ClusterError, SyncClient, connect_sync, is_cluster, slot
from soketler.cluster.keys import KeyLayout
from soketler.cluster.scripts import WRITE_GROUP
from soketler.protocols.events import ChatMessage
from soketler.protocols.names import key
from soketler.protocols.query import SearchQuery, scanner
from soketler.store.base import (
    PRUNE_SLICE,
    HistoryStore,
    Page,
    Retention,
    Saved,
    StoreError,
    Topic,
)

# Entries read per round trip while paging back over events that are not messages, or
# scanning for what retention removes.
SCAN_BATCH = 1_000
# A page's first read (more when the page asks for more), growing to SCAN_BATCH.
PAGE_STEP = 16
# Runs of events without a message remembered per stream, and streams remembered.
QUIET_RUNS_PER_STREAM = 8
QUIET_STREAMS = 4096


# The clients are opened with decode_responses=True: every reply holds str, not bytes.
Entries = list[tuple[str, dict[str, str]]]


def _entries(reply: object) -> Entries:
    return cast(Entries, reply or [])


def _strings(reply: object) -> set[str]:
    return cast(set[str], reply)


def _hash(reply: object) -> dict[str, str]:
    return cast(dict[str, str], reply)


def _topic_json(topic: Topic) -> str:
    return json.dumps(
        {
            "room": topic.room,
            "text": topic.text,
            "set_by": topic.set_by,
            "time": int(topic.time.timestamp() * 1000),
        },
        ensure_ascii=False,
    )


def _topic(room_key: str, text: str) -> Topic:
    data = json.loads(text)
    time = datetime.fromtimestamp(int(data["time"]) / 1000, UTC)
    return Topic(room_key, data["room"], data["text"], data["set_by"], time)


def _after(stream_id: str) -> str:
    """The smallest stream id greater than `stream_id` (an inclusive lower bound)."""
    ms, _, seq = stream_id.partition("-")
    return f"{ms}-{int(seq) + 1}"


# A stream id as numbers, (milliseconds, sequence): what orders entries.
StreamId = tuple[int, int]


def _stream_id(text: str) -> StreamId:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq)


def _text(stream_id: StreamId) -> str:
    return f"{stream_id[0]}-{stream_id[1]}"


class _QuietScan:
    """What one page learns of a stream: runs of entries that hold no message, each
    between two messages (or the stream's end) and read whole, newest first."""

    __slots__ = ("_bottom", "_top", "runs")

    def __init__(self) -> None:
        self.runs: list[tuple[StreamId, StreamId]] = []
        self._top: StreamId | None = None  # the newest entry of the run being read
        self._bottom: StreamId | None = None

    def read(self, entry: StreamId, is_message: bool) -> None:
        if is_message:
            self._close()
        else:
            if self._top is None:
                self._top = entry
            self._bottom = entry

    def jumped(self, run: tuple[StreamId, StreamId]) -> None:
        """A run known from before, skipped: the run being read goes on through it."""
        if self._top is None:
            self._top = run[1]
        self._bottom = run[0]

    def ended(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._top is not None and self._bottom is not None and self._bottom < self._top:
            self.runs.append((self._bottom, self._top))
        self._top = self._bottom = None


class _QuietRuns:
    """Runs of entries without a message, per stream, as pages found them. A stream
    only grows at its end (ids increase), so a run found quiet stays quiet; trimming
    only removes entries. Bounded: a few runs per stream, a few thousand streams."""

    def __init__(self) -> None:
        self._runs: OrderedDict[str, list[tuple[StreamId, StreamId]]] = OrderedDict()

    def runs(self, stream: str) -> list[tuple[StreamId, StreamId]]:
        """A copy, for one page to use."""
        return list(self._runs.get(stream, ()))

    def learn(self, stream: str, found: list[tuple[StreamId, StreamId]]) -> None:
        if not found:
            return
        runs = self._runs.pop(stream, [])
        for low, high in found:
            # A new run takes the place of those it holds (it was read through them).
            runs = [r for r in runs if not (low <= r[0] and r[1] <= high)]
            runs.append((low, high))
        self._runs[stream] = runs[-QUIET_RUNS_PER_STREAM:]
        while len(self._runs) > QUIET_STREAMS:
            self._runs.popitem(last=False)


class RedisStore(HistoryStore):
    def __init__(
        self,
        url: str,
        layout: KeyLayout | None = None,
        max_len: int = 0,
    ) -> None:
        """`max_len`: each stream is trimmed to about this many entries as it grows
        (XADD MAXLEN ~; 0: only `prune` trims)."""
        self.url = url
        self.layout = layout or KeyLayout()
        self.max_len = max_len
        self._client: SyncClient | None = None
        self._registered: set[str] = set()  # streams known to be in the register
        self._quiet = _QuietRuns()  # used on the writer thread only, like all of this

    # --- opening ---------------------------------------------------------------------

    def _open(self) -> SyncClient:
        if self._client is None:
            try:
                self._client = connect_sync(self.url)
            except ClusterError as exc:
                raise StoreError(str(exc)) from exc
        return self._client

    def _failed(self, doing: str, exc: redis.RedisError) -> StoreError:
        return StoreError(f"cannot {doing} the history in Redis at {self.url}: {exc}")

    def load(self) -> Saved:
        client = self._open()
        try:
            topics = {
                room_key: _topic(room_key, text)
                for room_key, text in _hash(client.hgetall(self.layout.topics)).items()
            }
            streams = sorted(_strings(client.smembers(self.layout.streams)))
            last_id = max((self._last_generated(client, streams)), default=0)
        except redis.RedisError as exc:
            raise self._failed("read", exc) from exc
        except (ValueError, KeyError) as exc:
            raise StoreError(f"the topics in Redis at {self.url} are damaged: {exc}") from exc
        self._registered.update(streams)
        return Saved(last_id, topics)

    def _last_generated(self, client: SyncClient, streams: list[str]) -> list[int]:
        """The id each stream gave last, even if retention has removed that entry since:
        the next id must be above it, never a reused one. One round trip per shard."""
        found = []
        for start in range(0, len(streams), SCAN_BATCH):
            pipe = client.pipeline(transaction=False)
            for stream in streams[start : start + SCAN_BATCH]:
                pipe.xinfo_stream(stream)
            for info in pipe.execute(raise_on_error=False):
                if isinstance(info, redis.ResponseError):
                    continue  # registered, never written
                if isinstance(info, Exception):
                    raise info
                try:
                    found.append(cursors.cursor(str(info["last-generated-id"])))
                except cursors.CursorError:
                    continue  # not written by soketler
        return found

    # --- writing -----------------------------------------------------------------------

    def _stream(self, message: ChatMessage) -> str:
        if message.room is not None:
            return self.layout.room_stream(key(message.room))
        return self.layout.private_stream(key(message.sender), key(message.to or ""))

    def write(self, messages: Sequence[ChatMessage], topics: Sequence[Topic]) -> None:
        client = self._open()
        groups: dict[int, list[tuple[str, str, dict[str, str]]]] = defaultdict(list)
        cluster = is_cluster(client)
        for message in messages:
            stream = self._stream(message)
            try:
                entry_id = cursors.stream_id(message.id)
            except cursors.CursorError as exc:
                raise StoreError(f"cannot store message {message.id}: {exc}") from exc
            groups[slot(stream) if cluster else 0].append(
                (stream, entry_id, entries.encode(message))
            )
        topic_args = [
            value for t in topics for value in (t.room_key, _topic_json(t))
        ]  # field, value, ...
        try:
            new = {stream for group in groups.values() for stream, _, _ in group}
            new -= self._registered
            if new:
                # Before the entries: a registered stream that stays empty is harmless;
                # an entry in an unregistered stream would escape retention.
                client.sadd(self.layout.streams, *new)
                self._registered |= new
            script = client.register_script(WRITE_GROUP)
            if not cluster:
                self._write_group(script, groups.get(0, []), topic_args)
                return
            for group in groups.values():
                self._write_group(script, group, [])
            if topic_args:
                client.hset(self.layout.topics, items=list(topic_args))
        except redis.RedisError as exc:
            raise self._failed("write", exc) from exc

    def _write_group(
        self,
        script: Any,
        group: list[tuple[str, str, dict[str, str]]],
        topic_args: list[str],
    ) -> None:
        if not group and not topic_args:
            return
        keys: list[str] = []
        index: dict[str, int] = {}
        args: list[str | int] = [self.max_len, len(topic_args) // 2, *topic_args]
        for stream, entry_id, fields in group:
            if stream not in index:
                keys.append(stream)
                index[stream] = len(keys)  # Lua counts from 1
            args += [index[stream], entry_id, len(fields)]
            for name, value in fields.items():
                args += [name, value]
        if topic_args:
            keys.append(self.layout.topics)
        script(keys=keys, args=args)

    # --- reading -----------------------------------------------------------------------

    def _page(self, stream: str, limit: int, before: int | None, after: int = 0) -> Page:
        client = self._open()
        if before is not None and before <= 0:
            return Page([], False)
        upper: StreamId | None = None  # read what is below it (None: everything)
        if before is not None and before <= cursors.MAX_CURSOR:
            upper = _stream_id(cursors.stream_id(before))
        if after > cursors.MAX_CURSOR:
            return Page([], False)
        floor = _stream_id(cursors.stream_id(after)) if after > 0 else None
        found: list[ChatMessage] = []
        known = self._quiet.runs(stream)
        scan = _QuietScan()
        step = PAGE_STEP
        try:
            # Newest first, until one more message than asked for (to know whether
            # there are more), stepping over events that are not messages. Each read
            # takes four times more than the one before, and a run of such events met
            # by an earlier page is jumped over at once: a room thousands of people
            # joined since its last message is read back once, not once per joiner.
            while len(found) <= limit:
                inside = next(
                    (r for r in known if upper is not None and r[0] < upper <= r[1]), None
                )
                if inside is not None:
                    known.remove(inside)
                    scan.jumped(inside)
                    upper = inside[0]
                    continue
                below = max((r[1] for r in known if upper is None or r[1] < upper), default=None)
                if below is not None and floor is not None and below < floor:
                    below = None
                start = (
                    "(" + _text(below) if below is not None else (_text(floor) if floor else "-")
                )
                count = max(limit + 1 - len(found), step)
                end = "+" if upper is None else "(" + _text(upper)
                batch = _entries(client.xrevrange(stream, end, start, count=count))
                for entry_id, fields in batch:
                    message = entries.decode_message(entry_id, fields)
                    scan.read(_stream_id(entry_id), message is not None)
                    if message is not None:
                        found.append(message)
                if batch:
                    upper = _stream_id(batch[-1][0])
                if len(batch) < count:
                    if below is None:
                        scan.ended()  # nothing older to read
                        break
                    upper = below  # what is above the run is read: jump it next
                step = min(step * 4, SCAN_BATCH)
        except redis.RedisError as exc:
            raise self._failed("read", exc) from exc
        except entries.EntryError as exc:
            raise StoreError(f"the history in Redis at {self.url} is damaged: {exc}") from exc
        self._quiet.learn(stream, scan.runs)
        more = len(found) > limit
        return Page(found[:limit][::-1], more)

    def room_page(self, room_key: str, limit: int, before: int | None) -> Page:
        return self._page(self.layout.room_stream(room_key), limit, before)

    def private_page(
        self, key_a: str, key_b: str, limit: int, before: int | None, after: int = 0
    ) -> Page:
        return self._page(self.layout.private_stream(key_a, key_b), limit, before, after)

    def search(
        self,
        query: SearchQuery,
        viewer_key: str,
        rooms: Collection[str] | None,
        limit: int,
        before: int | None,
        tz: tzinfo = UTC,
        private_after: int = 0,
    ) -> Page:
        """A scan of every stream kept (Redis has no text index; retention bounds what
        is kept), on the writer thread like every read."""
        client = self._open()
        wanted = scanner(query, viewer_key, rooms, before, tz, private_after)
        found: list[ChatMessage] = []
        try:
            for stream in sorted(_strings(client.smembers(self.layout.streams))):
                low = "-"
                while True:
                    batch = _entries(client.xrange(stream, low, "+", count=SCAN_BATCH))
                    for entry_id, fields in batch:
                        message = entries.decode_message(entry_id, fields)
                        if message is not None and wanted(message):
                            found.append(message)
                    if len(batch) < SCAN_BATCH:
                        break
                    low = _after(batch[-1][0])
        except redis.RedisError as exc:
            raise self._failed("search", exc) from exc
        except entries.EntryError as exc:
            raise StoreError(f"the history in Redis at {self.url} is damaged: {exc}") from exc
        found.sort(key=lambda m: m.id)
        return Page(found[-limit:] if limit > 0 else [], len(found) > limit)

    # --- retention ---------------------------------------------------------------------

    def prune(self, retention: Retention, now: datetime, limit: int = PRUNE_SLICE) -> int:
        """The whole pass at once, whatever `limit`: XTRIM drops a stream's old entries
        in one command, which never holds a transaction open (the next call finds
        nothing more and ends the pass)."""
        client = self._open()
        removed = 0
        try:
            for stream in sorted(_strings(client.smembers(self.layout.streams))):
                if retention.days > 0:
                    cutoff = now - timedelta(days=retention.days)
                    removed += self._trim_older(client, stream, int(cutoff.timestamp() * 1000))
                if retention.messages > 0:
                    removed += self._trim_beyond(client, stream, retention.messages)
        except redis.RedisError as exc:
            raise self._failed("prune", exc) from exc
        return removed

    def _trim_older(self, client: SyncClient, stream: str, cutoff_ms: int) -> int:
        """Removes the oldest entries up to the first one at or after the cutoff."""
        low = "-"
        keep_from: str | None = None
        while keep_from is None:
            batch = _entries(client.xrange(stream, low, "+", count=SCAN_BATCH))
            for entry_id, fields in batch:
                ms = entries.time_ms(fields)
                if ms is None or ms >= cutoff_ms:
                    keep_from = entry_id
                    break
            else:
                if len(batch) < SCAN_BATCH:
                    if not batch:
                        return 0 if low == "-" else self._trim_to(client, stream, low)
                    keep_from = _after(batch[-1][0])
                else:
                    low = _after(batch[-1][0])
        return self._trim_to(client, stream, keep_from)

    def _trim_beyond(self, client: SyncClient, stream: str, keep: int) -> int:
        """Removes everything older than the newest `keep` messages."""
        if client.xlen(stream) <= keep:
            return 0
        upper = "+"
        counted = 0
        while True:
            batch = _entries(client.xrevrange(stream, upper, "-", count=SCAN_BATCH))
            for entry_id, fields in batch:
                if fields.get(entries.EVENT) == entries.EVENT_NAMES[ChatMessage]:
                    counted += 1
                    if counted == keep:
                        return self._trim_to(client, stream, entry_id)
            if len(batch) < SCAN_BATCH:
                return 0
            upper = "(" + batch[-1][0]

    def _trim_to(self, client: SyncClient, stream: str, lowest_kept: str) -> int:
        # MINID, not MAXLEN: entries added by other nodes since the scan are newer than
        # `lowest_kept` and stay.
        return int(client.xtrim(stream, minid=lowest_kept, approximate=False))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
