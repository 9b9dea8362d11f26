"""Counters and gauges, and their Prometheus text exposition (format 0.0.4).

Pure bookkeeping: no I/O, no threads, no clock. Whoever serves `/metrics` calls
`Registry.expose()` and sends the text with `CONTENT_TYPE`.

Updating a value is one attribute addition, cheap enough for the delivery path: the
hub counts a fan-out with one `inc(n)`, not one call per reader. Each metric is meant
to be updated from one thread (the event loop's, or the store's writer thread for
commit latency); a scrape on another thread may see a histogram's count one
observation ahead of its sum, which Prometheus tolerates.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")

# Seconds: from a fast group commit (well under a millisecond on tmpfs) to a disk that
# stalls for seconds.
DEFAULT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

LabelValues = tuple[str, ...]


class MetricError(ValueError):
    """A metric was declared or used against the exposition format's rules (our bug)."""


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


def format_value(value: float) -> str:
    """A sample value as the text format writes it: integers without a fraction."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise MetricError(f"not a metric name: {name!r}")


def _check_labels(names: Sequence[str], reserved: Iterable[str] = ()) -> tuple[str, ...]:
    taken = set(reserved)
    for label in names:
        if not _LABEL.match(label) or label.startswith("__"):
            raise MetricError(f"not a label name: {label!r}")
        if label in taken:
            raise MetricError(f"label name used twice or reserved: {label!r}")
        taken.add(label)
    return tuple(names)


class Metric(ABC):
    kind: str  # the TYPE line's word

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        _check_name(name)
        self.name = name
        self.help = help
        self.labelnames = _check_labels(labelnames, self._reserved_labels())

    def _reserved_labels(self) -> tuple[str, ...]:
        return ()

    def _key(self, args: Sequence[str], kwargs: dict[str, str]) -> LabelValues:
        if args and kwargs:
            raise MetricError("label values either by position or by name, not both")
        values = tuple(args) if args else tuple(kwargs.get(n, "") for n in self.labelnames)
        if len(values) != len(self.labelnames) or (kwargs and set(kwargs) != set(self.labelnames)):
            raise MetricError(f"{self.name} takes labels {self.labelnames}")
        return tuple(str(v) for v in values)

    def _pairs(self, values: LabelValues) -> tuple[tuple[str, str], ...]:
        return tuple(zip(self.labelnames, values, strict=True))

    @abstractmethod
    def samples(self) -> Iterator[Sample]:
        """The current samples, in a stable order."""


class _Value:
    """One time series' number, with its optional live source."""

    __slots__ = ("function", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.function: Callable[[], float] | None = None

    def read(self) -> float:
        return float(self.function()) if self.function is not None else self.value


class CounterChild:
    __slots__ = ("_value",)

    def __init__(self, value: _Value) -> None:
        self._value = value

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise MetricError("a counter only goes up")
        self._value.value += amount

    def set_function(self, function: Callable[[], float]) -> None:
        """Reads the total from `function` at each scrape: a count kept elsewhere (an
        attribute the hot path adds to), which only goes up."""
        self._value.function = function

    @property
    def value(self) -> float:
        return self._value.read()


class GaugeChild:
    __slots__ = ("_value",)

    def __init__(self, value: _Value) -> None:
        self._value = value

    def set(self, value: float) -> None:
        self._value.value = value

    def inc(self, amount: float = 1.0) -> None:
        self._value.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self._value.value -= amount

    def set_function(self, function: Callable[[], float]) -> None:
        """Reads the value from `function` at each scrape (a queue's length, say)."""
        self._value.function = function

    @property
    def value(self) -> float:
        return self._value.read()


class _Series(Metric):
    """A counter or a gauge: one number per combination of label values."""

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        self._series: dict[LabelValues, _Value] = {}
        if not self.labelnames:
            self._series[()] = _Value()

    def _value(self, args: Sequence[str], kwargs: dict[str, str]) -> _Value:
        key = self._key(args, kwargs)
        value = self._series.get(key)
        if value is None:
            value = self._series[key] = _Value()
        return value

    def _own(self) -> _Value:
        if self.labelnames:
            raise MetricError(f"{self.name} has labels {self.labelnames}: use .labels(...)")
        return self._series[()]

    def samples(self) -> Iterator[Sample]:
        for key in sorted(self._series):
            yield Sample(self.name, self._pairs(key), self._series[key].read())


class Counter(_Series):
    kind = "counter"

    def labels(self, *args: str, **kwargs: str) -> CounterChild:
        return CounterChild(self._value(args, kwargs))

    def inc(self, amount: float = 1.0) -> None:
        CounterChild(self._own()).inc(amount)

    def set_function(self, function: Callable[[], float]) -> None:
        CounterChild(self._own()).set_function(function)

    @property
    def value(self) -> float:
        return self._own().read()


class Gauge(_Series):
    kind = "gauge"

    def labels(self, *args: str, **kwargs: str) -> GaugeChild:
        return GaugeChild(self._value(args, kwargs))

    def set(self, value: float) -> None:
        self._own().value = value

    def inc(self, amount: float = 1.0) -> None:
        self._own().value += amount

    def dec(self, amount: float = 1.0) -> None:
        self._own().value -= amount

    def set_function(self, function: Callable[[], float]) -> None:
        GaugeChild(self._own()).set_function(function)

    @property
    def value(self) -> float:
        return self._own().read()


class _Buckets:
    __slots__ = ("counts", "sum", "total")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size  # per bucket, not cumulative: observe touches one slot
        self.sum = 0.0
        self.total = 0


class HistogramChild:
    __slots__ = ("_bounds", "_data")

    def __init__(self, bounds: tuple[float, ...], data: _Buckets) -> None:
        self._bounds = bounds
        self._data = data

    def observe(self, value: float) -> None:
        data = self._data
        for i, bound in enumerate(self._bounds):
            if value <= bound:
                data.counts[i] += 1
                break
        else:
            data.counts[-1] += 1
        data.sum += value
        data.total += 1


class Histogram(Metric):
    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, help, labelnames)
        bounds = sorted(float(b) for b in buckets if not math.isinf(b))
        if not bounds or len(set(bounds)) != len(bounds) or any(map(math.isnan, bounds)):
            raise MetricError(f"{name}: buckets must be distinct numbers")
        self.bounds = tuple(bounds)
        self._series: dict[LabelValues, _Buckets] = {}
        if not self.labelnames:
            self._series[()] = _Buckets(len(self.bounds) + 1)

    def _reserved_labels(self) -> tuple[str, ...]:
        return ("le",)

    def labels(self, *args: str, **kwargs: str) -> HistogramChild:
        key = self._key(args, kwargs)
        data = self._series.get(key)
        if data is None:
            data = self._series[key] = _Buckets(len(self.bounds) + 1)
        return HistogramChild(self.bounds, data)

    def observe(self, value: float) -> None:
        if self.labelnames:
            raise MetricError(f"{self.name} has labels {self.labelnames}: use .labels(...)")
        HistogramChild(self.bounds, self._series[()]).observe(value)

    def samples(self) -> Iterator[Sample]:
        for key in sorted(self._series):
            data = self._series[key]
            pairs = self._pairs(key)
            running = 0
            for bound, count in zip((*self.bounds, math.inf), data.counts, strict=True):
                running += count
                le = format_value(bound) if math.isinf(bound) else repr(bound)
                yield Sample(self.name + "_bucket", (*pairs, ("le", le)), running)
            yield Sample(self.name + "_sum", pairs, data.sum)
            yield Sample(self.name + "_count", pairs, data.total)


M = TypeVar("M", bound=Metric)


class Registry:
    """The metrics of one server, exposed together."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}

    def register(self, metric: M) -> M:
        # Histograms also write NAME_bucket, NAME_sum and NAME_count: keep those free.
        names = {metric.name}
        if isinstance(metric, Histogram):
            names |= {metric.name + s for s in ("_bucket", "_sum", "_count")}
        for other in self._metrics.values():
            taken = {other.name}
            if isinstance(other, Histogram):
                taken |= {other.name + s for s in ("_bucket", "_sum", "_count")}
            if names & taken:
                raise MetricError(f"metric {metric.name!r} clashes with {other.name!r}")
        self._metrics[metric.name] = metric
        return metric

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        return self.register(Counter(name, help, labelnames))

    def gauge(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Gauge:
        return self.register(Gauge(name, help, labelnames))

    def histogram(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        return self.register(Histogram(name, help, labelnames, buckets))

    def get(self, name: str) -> Metric | None:
        return self._metrics.get(name)

    def expose(self) -> str:
        """Every metric in the Prometheus text format, in the order registered."""
        lines: list[str] = []
        for metric in self._metrics.values():
            lines.append(f"# HELP {metric.name} {escape_help(metric.help)}")
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            for sample in metric.samples():
                lines.append(_sample_line(sample))
        return "\n".join(lines) + "\n" if lines else ""


def _sample_line(sample: Sample) -> str:
    if sample.labels:
        inner = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in sample.labels)
        return f"{sample.name}{{{inner}}} {format_value(sample.value)}"
    return f"{sample.name} {format_value(sample.value)}"
