"""The saturation benchmark's ledger: from the bytes a client receives to the
deliveries it is owed. No sockets: chunks in, numbers out."""

from __future__ import annotations

import asyncio
import itertools

from benchmarks.chatload import (
    SENDERS,
    Client,
    Fleet,
    FloodResult,
    Tally,
    _at,
    _flood_line,
)
from hypothesis import given, settings
from hypothesis import strategies as st

LINES = 40  # per sender


def stream(senders: int, skip: frozenset[tuple[int, int]] = frozenset()) -> bytes:
    """Lines as soketler delivers them, the senders interleaved in turn."""
    out = []
    for seq in range(LINES):
        for sender in range(senders):
            if (sender, seq) not in skip:
                out.append(b"<s%dx%d> " % (sender, sender) + _flood_line(sender, seq, 64))
    return b"".join(out)


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def ledger_of(data: bytes, cuts: list[int], track_at: int) -> tuple[int, list[int], int]:
    """Feeds `data` in pieces to a client that keeps the end of the flood, starts
    tracking after `track_at` pieces; returns (count, last numbers, untagged)."""

    async def run() -> tuple[int, list[int], int]:
        client = Client(Tally(), None, False)
        client.keep = True
        chunks = pieces(data, cuts)
        at = min(track_at, len(chunks))
        for chunk in chunks[:at]:
            client.data_received(chunk)
        client.start_tracking()
        for chunk in chunks[at:]:
            client.data_received(chunk)
        assert client.last is not None
        return client.count, client.last, client.untagged

    return asyncio.run(run())


def settle(
    rows: list[tuple[int, list[int], int, bool, int]], senders: int = 3
) -> tuple[int, int, int, int]:
    written = [LINES if s < senders else 0 for s in range(SENDERS)]
    return Fleet._settle(rows, [0] * SENDERS, written)


def test_a_flood_line_has_the_size_asked_and_one_marker() -> None:
    line = _flood_line(7, 0x1A2B, 64)
    assert len(line) == 64
    assert line.count(b"~") == 1
    assert line.startswith(b"~f7:1a2b ")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0), max_size=30), st.integers(0, 30))
def test_however_the_bytes_are_cut_a_client_that_lost_nothing_owes_nothing(
    cuts: list[int], track_at: int
) -> None:
    data = stream(3)
    count, last, untagged = ledger_of(data, cuts, track_at)
    assert count == 3 * LINES
    owed, got, behind, unchecked = settle([(count, last, untagged, False, -1)])
    if unchecked:
        # The last piece kept had no line of some sender, and nothing came after it.
        assert owed == got == 0
    else:
        assert owed == got == 3 * LINES
        assert behind == 0


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(min_value=0), max_size=30),
    st.sets(st.tuples(st.integers(0, 2), st.integers(0, LINES - 2)), min_size=1, max_size=10),
)
def test_a_line_missing_on_the_way_is_owed(cuts: list[int], missing: set[tuple[int, int]]) -> None:
    # Tracked from the start; the last line of each sender arrives, so all are checked.
    data = stream(3, frozenset(missing))
    count, last, untagged = ledger_of(data, cuts, 0)
    owed, got, _, unchecked = settle([(count, last, untagged, False, -1)])
    assert unchecked == 0
    assert got == 3 * LINES - len(missing)
    assert owed - got == len(missing)


def test_a_dropped_client_is_owed_what_the_furthest_got() -> None:
    full = ledger_of(stream(2), [], 0)
    rows = [(full[0], full[1], full[2], False, -1), (10, [-1] * SENDERS, 0, True, -1)]
    owed, got, _, _ = settle(rows, senders=2)
    assert got == 2 * LINES + 10
    assert owed == 2 * (2 * LINES)


def test_a_server_that_does_not_echo_owes_a_sender_nothing_of_its_own() -> None:
    # Sender 0 of ncat gets only sender 1's lines.
    data = b"".join(_flood_line(1, seq, 64) for seq in range(LINES))
    count, last, untagged = ledger_of(data, [100, 1000], 0)
    owed, got, _, unchecked = settle([(count, last, untagged, False, 0)], senders=2)
    assert (owed, got, unchecked) == (LINES, LINES, 0)


def test_a_tag_broken_by_a_prefix_falls_back_to_the_line_before() -> None:
    # ncat puts "<userN> " before each piece it forwards, even inside a line.
    first = _flood_line(0, 5, 64)
    broken = b"~f0:6<user1> " + _flood_line(0, 6, 64)[6:]
    client_data = first + broken
    count, last, _ = ledger_of(client_data, [], 0)
    assert count == 2
    assert last[0] == 5


def test_the_count_at_a_moment_is_read_between_two_samples() -> None:
    timeline = [(0, 0), (1_000_000, 100), (2_000_000, 100), (3_000_000, 400)]
    assert _at(timeline, 500_000) == 50
    assert _at(timeline, 2_500_000) == 250
    assert _at(timeline, 5_000_000) == 400


def test_the_longest_pause_is_the_longest_run_without_deliveries() -> None:
    result = FloodResult(
        seconds=3.0,
        written=0,
        taken=0,
        in_window=0,
        owed=0,
        delivered=0,
        behind=0,
        unchecked=0,
        generator_cpu=0.0,
        server_cpu=0.0,
        dropped=0,
        refused=0,
        quits=[],
        timelines=[[(0.0, 0), (0.5, 10), (1.0, 10), (1.5, 10), (2.0, 30), (3.5, 30)]],
    )
    # 0.5 → 1.5 s without a delivery, then 2.0 → the end of the window (3.0 s).
    assert result.longest_pause == 1.0
