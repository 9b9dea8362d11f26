"""The metrics registry and its Prometheus text exposition.

prometheus_client's own parser is the reference reader: whatever we write, it must
read back the same names, labels and values.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from soketler.metrics import (
    CONTENT_TYPE,
    Counter,
    Gauge,
    Histogram,
    MetricError,
    Registry,
    format_value,
)


def parsed(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_exposition_of_each_kind_reads_exactly_so() -> None:
    registry = Registry()
    messages = registry.counter("soketler_messages_total", "Messages accepted.")
    connections = registry.gauge("soketler_connections", "Open connections.", ["door"])
    latency = registry.histogram("soketler_commit_seconds", "Commit time.", buckets=[0.01, 0.1])
    messages.inc()
    messages.inc(2)
    connections.labels(door="web").inc(3)
    connections.labels(door="plain").set(1)
    latency.observe(0.005)
    latency.observe(0.05)
    latency.observe(7)
    assert registry.expose() == (
        "# HELP soketler_messages_total Messages accepted.\n"
        "# TYPE soketler_messages_total counter\n"
        "soketler_messages_total 3\n"
        "# HELP soketler_connections Open connections.\n"
        "# TYPE soketler_connections gauge\n"
        'soketler_connections{door="plain"} 1\n'
        'soketler_connections{door="web"} 3\n'
        "# HELP soketler_commit_seconds Commit time.\n"
        "# TYPE soketler_commit_seconds histogram\n"
        'soketler_commit_seconds_bucket{le="0.01"} 1\n'
        'soketler_commit_seconds_bucket{le="0.1"} 2\n'
        'soketler_commit_seconds_bucket{le="+Inf"} 3\n'
        "soketler_commit_seconds_sum 7.055\n"
        "soketler_commit_seconds_count 3\n"
    )
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")


def test_a_gauge_can_read_its_value_at_scrape_time() -> None:
    registry = Registry()
    queue: list[int] = []
    registry.gauge("soketler_queue_depth", "Messages waiting.").set_function(lambda: len(queue))
    queue += [1, 2, 3]
    assert parsed(registry.expose())[("soketler_queue_depth", ())] == 3
    queue.clear()
    assert parsed(registry.expose())[("soketler_queue_depth", ())] == 0


def test_a_counter_can_read_a_total_kept_elsewhere() -> None:
    class Kept:
        delivered = 0

    kept = Kept()
    registry = Registry()
    registry.counter("soketler_deliveries_total", "Deliveries.").set_function(
        lambda: kept.delivered
    )
    by_door = registry.counter("soketler_floods_total", "Floods.", ["door"])
    by_door.labels(door="web").set_function(lambda: kept.delivered * 2)
    kept.delivered += 1000  # what a fan-out to a room of 1,000 adds, in one addition
    samples = parsed(registry.expose())
    assert samples[("soketler_deliveries_total", ())] == 1000
    assert samples[("soketler_floods_total", (("door", "web"),))] == 2000
    assert "# TYPE soketler_deliveries_total counter" in registry.expose()


def test_special_values_are_written_as_the_format_spells_them() -> None:
    assert [format_value(v) for v in (math.inf, -math.inf, 0.0, -2.0, 0.25)] == [
        "+Inf",
        "-Inf",
        "0",
        "-2",
        "0.25",
    ]
    assert format_value(math.nan) == "NaN"


def test_mistakes_are_refused() -> None:
    registry = Registry()
    with pytest.raises(MetricError):
        Counter("1bad", "starts with a digit")
    with pytest.raises(MetricError):
        Counter("ok", "label reserved for Prometheus", ["__name"])
    with pytest.raises(MetricError):
        Histogram("h", "le is the bucket label", ["le"])
    with pytest.raises(MetricError):
        Gauge("g", "same label twice", ["a", "a"])
    counter = registry.counter("c_total", "x", ["door"])
    with pytest.raises(MetricError):
        counter.inc()  # labelled: which series?
    with pytest.raises(MetricError):
        counter.labels(room="#a")
    with pytest.raises(MetricError):
        counter.labels(door="web").inc(-1)
    registry.histogram("commit", "x")
    with pytest.raises(MetricError):
        registry.gauge("commit_count", "would be written twice by the histogram")
    with pytest.raises(MetricError):
        registry.counter("c_total", "registered twice")


label_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
numbers = st.floats(allow_nan=False, width=64) | st.integers(-(2**40), 2**40)


@given(
    # Space around a HELP text is not part of it in the format; ours never has any.
    help_text=label_text.map(str.strip),
    series=st.dictionaries(st.tuples(label_text, label_text), numbers, max_size=6),
)
def test_any_labels_and_values_read_back_unchanged(
    help_text: str, series: dict[tuple[str, str], float]
) -> None:
    registry = Registry()
    gauge = registry.gauge("soketler_thing", help_text, ["door", "room"])
    for (door, room), value in series.items():
        gauge.labels(door, room).set(value)
    back = parsed(registry.expose())
    assert back == {
        ("soketler_thing", (("door", door), ("room", room))): float(value)
        for (door, room), value in series.items()
    }
    [family] = text_string_to_metric_families(registry.expose() or "# HELP soketler_thing x\n")
    if series:
        assert family.documentation == help_text


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), max_size=50))
def test_histogram_buckets_are_cumulative_and_count_every_observation(
    values: list[float],
) -> None:
    registry = Registry()
    histogram = registry.histogram("h_seconds", "x", buckets=[0.5, 1, 10])
    for v in values:
        histogram.observe(v)
    back = parsed(registry.expose())
    for bound in ("0.5", "1.0", "10.0", "+Inf"):
        limit = math.inf if bound == "+Inf" else float(bound)
        assert back[("h_seconds_bucket", (("le", bound),))] == sum(v <= limit for v in values)
    assert back[("h_seconds_count", ())] == len(values)
    assert back[("h_seconds_sum", ())] == pytest.approx(sum(values))
