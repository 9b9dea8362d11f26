"""SVG figures from a results file: p99 against offered load, rates sustained, peers.

`python -m benchmarks.plots [RESULTS.json]` (default: results/latest-full.json) writes
benchmarks/results/plots/*.svg, which the top-level README shows; `make bench` does it
after a run. The SVG is written by hand: a few lines, points, bars and labels do not
need a plotting library, and the files stay small, diffable and the same every time
for the same results.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from benchmarks import util

RESULTS = Path(__file__).resolve().parent / "results"
PLOTS = RESULTS / "plots"
LATEST = RESULTS / "latest-full.json"

WIDTH, HEIGHT = 640, 380
LEFT, RIGHT, TOP, BOTTOM = 72, 170, 44, 56  # margins; the legend sits on the right
FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"
# One colour per subject, the same in every figure (soketler blue, peers warm or grey).
COLOURS = {
    "soketler/uvloop": "#1f4e9c",
    "soketler/asyncio": "#5b9bd5",
    "soketler": "#1f4e9c",
    "ncat": "#e07b00",
    "socat": "#7f7f7f",
    "nc": "#3a9a3a",
}
SHAPES = {"spread": "senders spread", "step": "senders in step"}
_LABEL_ROOM = 36  # pixels between the centres of two labels on the x axis


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[float, float]]  # (x, y), in data units


# --- drawing -------------------------------------------------------------------------


class Canvas:
    """An SVG document under construction; coordinates in pixels."""

    def __init__(self, title: str) -> None:
        self.parts = [
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
            f"viewBox='0 0 {WIDTH} {HEIGHT}' {FONT} font-size='12'>",
            f"<title>{escape(title)}</title>",
            f"<rect width='{WIDTH}' height='{HEIGHT}' fill='white'/>",
            f"<text x='{WIDTH / 2:.1f}' y='22' text-anchor='middle' font-size='15' "
            f"font-weight='bold'>{escape(title)}</text>",
        ]

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, words: str, anchor: str = "start", **extra: str) -> None:
        more = "".join(f" {key.replace('_', '-')}='{value}'" for key, value in extra.items())
        self.add(
            f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}'{more}>{escape(words)}</text>"
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, **extra: str) -> None:
        more = "".join(f" {key.replace('_', '-')}='{value}'" for key, value in extra.items())
        self.add(
            f"<line x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' "
            f"stroke='{stroke}'{more}/>"
        )

    def svg(self) -> str:
        return "\n".join([*self.parts, "</svg>"]) + "\n"


class Scale:
    """Data to pixels along one axis, linear or logarithmic."""

    def __init__(self, low: float, high: float, start: float, end: float, log: bool) -> None:
        self.log = log
        self.low, self.high = (math.log10(low), math.log10(high)) if log else (low, high)
        self.start, self.end = start, end

    def __call__(self, value: float) -> float:
        position = math.log10(value) if self.log else value
        share = (position - self.low) / (self.high - self.low) if self.high > self.low else 0.5
        return self.start + share * (self.end - self.start)


def log_ticks(low: float, high: float) -> list[float]:
    """1, 2, 5 times the powers of ten between low and high."""
    ticks = []
    for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for step in (1, 2, 5):
            value = step * 10.0**power
            if low <= value <= high:
                ticks.append(value)
    return ticks


def _legend(canvas: Canvas, names: Iterable[str], dashed: Iterable[str] = ()) -> None:
    x, y = WIDTH - RIGHT + 16, TOP + 10
    canvas.text(x, y, "(median of the runs)", fill="#555", font_size="11")
    for index, name in enumerate(names, 1):
        at = y + 20 * index
        colour = COLOURS.get(name, "#000")
        canvas.line(x, at - 4, x + 22, at - 4, colour, stroke_width="2.5")
        canvas.text(x + 28, at, name)
    for index, label in enumerate(dashed, len(list(names)) + 1):
        at = y + 20 * index
        canvas.line(x, at - 4, x + 22, at - 4, "#b00", stroke_dasharray="5 4")
        canvas.text(x + 28, at, label)


def line_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[Series],
    *,
    y_unit: str,
    limit: tuple[float, str] | None = None,
) -> str:
    """Points joined by lines on log-log axes; `limit` a dashed horizontal line."""
    canvas = Canvas(title)
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points] + ([limit[0]] if limit else [])
    if not xs:
        canvas.text(WIDTH / 2, HEIGHT / 2, "no results to show", "middle")
        return canvas.svg()
    x_scale = Scale(min(xs) / 1.3, max(xs) * 1.3, LEFT, WIDTH - RIGHT, log=True)
    y_low = max(t for t in log_ticks(min(ys) / 100, min(ys)) if t <= min(ys) / 1.1)
    y_high = min(t for t in log_ticks(max(ys), max(ys) * 100) if t >= max(ys) * 1.1)
    y_scale = Scale(y_low, y_high, HEIGHT - BOTTOM, TOP, log=True)
    for value in log_ticks(y_low, y_high):
        at = y_scale(value)
        canvas.line(LEFT, at, WIDTH - RIGHT, at, "#e4e4e4")
        canvas.text(LEFT - 6, at + 4, f"{value:g}", "end")
    labelled = -math.inf
    for value in sorted(set(xs)):
        at = x_scale(value)
        canvas.line(at, TOP, at, HEIGHT - BOTTOM, "#f0f0f0")
        if at - labelled >= _LABEL_ROOM:  # a label too close to the last would overlap it
            canvas.text(at, HEIGHT - BOTTOM + 16, util.human_rate(value), "middle")
            labelled = at
    canvas.line(LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, HEIGHT - BOTTOM, "#333")
    canvas.line(LEFT, TOP, LEFT, HEIGHT - BOTTOM, "#333")
    canvas.text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 14, x_label, "middle")
    middle = (TOP + HEIGHT - BOTTOM) / 2
    canvas.text(
        18, middle, f"{y_label} ({y_unit})", "middle", transform=f"rotate(-90 18 {middle:.1f})"
    )
    if limit is not None:
        at = y_scale(limit[0])
        canvas.line(LEFT, at, WIDTH - RIGHT, at, "#b00", stroke_dasharray="5 4")
    for s in series:
        colour = COLOURS.get(s.name, "#000")
        points = [(x_scale(x), y_scale(y)) for x, y in s.points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        canvas.add(
            f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2.5'>"
            f"<title>{escape(s.name)}</title></polyline>"
        )
        for (x, y), (vx, vy) in zip(points, s.points, strict=True):
            label = f"{s.name}: {vy:.3g} {y_unit} at {util.human_rate(vx)}/s"
            canvas.add(
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3.5' fill='{colour}'>"
                f"<title>{escape(label)}</title></circle>"
            )
    _legend(canvas, [s.name for s in series], [limit[1]] if limit else [])
    return canvas.svg()


def bar_chart(
    title: str, unit: str, groups: Sequence[tuple[str, dict[str, float]]], measure: str
) -> str:
    """Horizontal bars, one group per label, one bar per subject, values written out."""
    canvas = Canvas(title)
    bars = [(label, name, value) for label, values in groups for name, value in values.items()]
    if not bars:
        canvas.text(WIDTH / 2, HEIGHT / 2, "no results to show", "middle")
        return canvas.svg()
    top = max(value for _, _, value in bars)
    left, right = LEFT + 60, WIDTH - 40
    scale = Scale(0.0, top * 1.1, left, right, log=False)
    headings = len(groups) if len(groups) > 1 else 0
    row = (HEIGHT - TOP - BOTTOM) / (len(bars) + headings)
    y = TOP + row / 2
    for label, values in groups:
        if len(groups) > 1:
            canvas.text(16, y + 4, label, font_weight="bold")
            y += row
        for name, value in values.items():
            colour = COLOURS.get(name, "#000")
            width = scale(value) - left
            canvas.text(left - 8, y + 4, name, "end")
            canvas.add(
                f"<rect x='{left}' y='{y - row * 0.35:.1f}' width='{width:.1f}' "
                f"height='{row * 0.7:.1f}' fill='{colour}'><title>{escape(name)}: "
                f"{_value(value, unit)}</title></rect>"
            )
            canvas.text(left + width + 6, y + 4, _value(value, unit))
            y += row
    canvas.line(left, TOP, left, HEIGHT - BOTTOM, "#333")
    canvas.text(
        (left + right) / 2,
        HEIGHT - 14,
        f"{measure}, median of the runs (longer is better)",
        "middle",
    )
    return canvas.svg()


def _value(value: float, unit: str) -> str:
    if unit == "/s":
        return util.human_rate(value) + "/s"
    return f"{value:.3g} {unit}"


# --- from results to figures ---------------------------------------------------------


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _figure(doc: dict[str, Any], scenario: str, name_part: str) -> dict[str, Any] | None:
    return next(
        (f for f in doc["figures"] if f["scenario"] == scenario and name_part in f["name"]),
        None,
    )


def p99_series(figure: dict[str, Any]) -> list[Series]:
    """Per subject, the median p99 at each offered rate that was fully delivered."""
    series = []
    for subject, steps in figure["details"]["steps"].items():
        points = []
        for runs in steps.values():
            rate = _median(run.get("rate") for run in runs)
            p99 = _median(run.get("p99_ms") for run in runs)
            share = _median(run.get("share") for run in runs)
            if rate and p99 and share is not None and share >= 1.0:
                points.append((rate, p99))
        if points:
            series.append(Series(subject, sorted(points)))
    return series


def medians(figure: dict[str, Any] | None) -> dict[str, float]:
    if figure is None:
        return {}
    return {
        subject: summary["median"]
        for subject, summary in figure["summary"].items()
        if summary.get("median") is not None
    }


def draw(doc: dict[str, Any]) -> dict[str, str]:
    """File name -> SVG, for every figure the results can make."""
    when = str(doc.get("when", ""))[:10]
    out: dict[str, str] = {}
    sustained: list[tuple[str, dict[str, float]]] = []
    for shape, words in SHAPES.items():
        figure = _figure(doc, "fan-out", f"N=1000, {words}: highest rate sustained")
        if figure is None:
            continue
        limit = figure["details"].get("p99_limit_ms", 100)
        out[f"fanout-p99-{shape}.svg"] = line_chart(
            f"Room of 1,000, {words}: p99 latency ({when})",
            "offered load (deliveries per second)",
            "p99 latency",
            p99_series(figure),
            y_unit="ms",
            limit=(limit, f"limit: {limit:g} ms"),
        )
        sustained.append((words, medians(figure)))
    if sustained:
        out["fanout-sustained.svg"] = bar_chart(
            f"Room of 1,000: highest rate sustained, p99 ≤ 100 ms ({when})",
            "/s",
            sustained,
            "deliveries per second",
        )
    pipe = medians(_figure(doc, "pipe", "through listen"))
    if pipe:
        out["pipe.svg"] = bar_chart(
            f"1 GiB through listen ← connect ({when})", "GB/s", [("", pipe)], "GB per second"
        )
    echo = medians(_figure(doc, "echo", "request/response"))
    if echo:
        out["echo.svg"] = bar_chart(
            f"Echo, 1 KiB request/response over 10 connections ({when})",
            "/s",
            [("", echo)],
            "round trips per second",
        )
    return out


def write(results: Path = LATEST, into: Path = PLOTS) -> list[Path]:
    doc = json.loads(results.read_text())
    into.mkdir(parents=True, exist_ok=True)
    written = []
    for name, svg in draw(doc).items():
        path = into / name
        path.write_text(svg)
        written.append(path)
    return written


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else LATEST
    for path in write(source):
        print(path.relative_to(util.ROOT))
