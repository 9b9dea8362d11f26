"""Figures, targets, the printed verdicts, the JSON results and the README table."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import util

RESULTS = Path(__file__).resolve().parent / "results"
README = util.ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass
class Target:
    """`value` is an absolute bound, or a ratio to the peer's median when `relative`."""

    text: str
    value: float
    higher_is_better: bool
    relative: bool = False

    def met(self, mine: float, peer: float | None) -> bool | None:
        if math.isnan(mine):
            return None
        if self.relative:
            if peer is None or math.isnan(peer) or peer == 0:
                return None
            mine = mine / peer
        return mine >= self.value if self.higher_is_better else mine <= self.value


@dataclass
class Measure:
    """One subject's runs of one figure."""

    subject: str  # "soketler/uvloop", "ncat", ...
    values: list[float] = field(default_factory=list)
    note: str = ""  # why there is no value, or what qualifies it

    @property
    def median(self) -> float:
        return util.median(self.values)

    @property
    def low(self) -> float:
        return util.spread(self.values)[0]

    @property
    def high(self) -> float:
        return util.spread(self.values)[1]


@dataclass
class Figure:
    scenario: str
    name: str
    unit: str
    higher_is_better: bool
    measures: list[Measure]
    peer: str | None = None  # the subject the ratio is taken against
    targets: dict[str, Target] = field(default_factory=dict)  # by subject
    details: dict[str, Any] = field(default_factory=dict)

    def measure(self, subject: str) -> Measure | None:
        return next((m for m in self.measures if m.subject == subject), None)

    def peer_median(self) -> float | None:
        m = self.measure(self.peer) if self.peer else None
        return m.median if m and m.values else None

    def verdict(self, subject: str) -> bool | None:
        target = self.targets.get(subject)
        m = self.measure(subject)
        if target is None or m is None or not m.values:
            return None
        return target.met(m.median, self.peer_median())

    def ratio(self, subject: str) -> float | None:
        m, peer = self.measure(subject), self.peer_median()
        if m is None or not m.values or peer is None or peer == 0 or subject == self.peer:
            return None
        return m.median / peer

    def lines(self) -> list[str]:
        out = [f"[{self.scenario}] {self.name}"]
        for m in self.measures:
            if not m.values:
                out.append(f"    {m.subject:18} not available: {m.note}")
                continue
            text = (
                f"    {m.subject:18} {fmt(m.median, self.unit):>12} "
                f"(spread {fmt(m.low, self.unit)} – {fmt(m.high, self.unit)}, "
                f"{len(m.values)} run{'s' if len(m.values) != 1 else ''})"
            )
            ratio = self.ratio(m.subject)
            if ratio is not None:
                text += f"  {ratio:.2f}× {self.peer}"
            target = self.targets.get(m.subject)
            if target is not None:
                verdict = self.verdict(m.subject)
                mark = {True: "MET", False: "MISSED", None: "n/a"}[verdict]
                text += f"  target {target.text}: {mark}"
            if m.note:
                text += f"  ({m.note})"
            out.append(text)
        return out


def fmt(value: float, unit: str) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if unit == "/s":
        return util.human_rate(value) + "/s"
    if unit == "GB/s":
        return f"{value:.2f} GB/s"
    if unit == "%":
        if 99.0 <= value < 100.0:
            # Just short of everything: one decimal would round it up to 100.0%.
            return f"{math.floor(value * 100) / 100:.2f}%"
        return f"{value:.1f}%"
    if unit in ("ms", "s"):
        return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    if unit in ("B", "clients", "lines"):
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}".strip()


def print_figures(figures: Sequence[Figure]) -> None:
    for figure in figures:
        print("\n".join(figure.lines()), flush=True)


def save(figures: Sequence[Figure], info: dict[str, Any], options: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "options": options,
        "figures": [
            {
                **asdict(f),
                "summary": {
                    m.subject: {
                        "median": m.median if m.values else None,
                        "low": m.low if m.values else None,
                        "high": m.high if m.values else None,
                        "runs": len(m.values),
                        "ratio": f.ratio(m.subject),
                        "target_met": f.verdict(m.subject),
                    }
                    for m in f.measures
                },
            }
            for f in figures
        ],
    }
    kind = "quick" if options.get("quick") else "full"
    if options.get("partial"):
        # A selection: named after it, so latest-full.json stays the last full run.
        kind += "-" + "+".join(options.get("only") or ())
    path = RESULTS / f"{stamp}-{kind}.json"
    text = json.dumps(_clean(doc), indent=1, default=_jsonable, allow_nan=False)
    path.write_text(text + "\n")
    (RESULTS / f"latest-{kind}.json").write_text(text + "\n")
    return path


def _jsonable(value: object) -> object:
    return repr(value)


def _clean(value: Any) -> Any:
    """NaN and infinity are not JSON: they become null (the notes say why)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def table(figures: Sequence[Figure], info: dict[str, Any], options: dict[str, Any]) -> str:
    """The Markdown summary: one row per figure and subject that has a target."""
    kind = "quick pass" if options.get("quick") else "full run"
    rows = [
        f"Last {kind}: {time.strftime('%Y-%m-%d')}, {info['cpu']}, {info['cores']} cores, "
        f"Linux {info['kernel']}, Python {info['python']}, uvloop {info['uvloop']}; "
        f"median of {options.get('runs')} runs (spread in brackets). Details: "
        f"`benchmarks/results/latest-{'quick' if options.get('quick') else 'full'}.json`.",
        "",
        "| scenario | figure | loop | soketler | peer | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        peer = f.measure(f.peer) if f.peer else None
        peer_text = "–"
        if peer is not None:
            peer_text = f"{f.peer} {fmt(peer.median, f.unit)}" if peer.values else f"{f.peer}: n/a"
        for m in f.measures:
            if not m.subject.startswith("soketler"):
                continue
            loop = m.subject.split("/", 1)[1] if "/" in m.subject else "–"
            name = m.subject.split("/", 1)[0]
            if "@" in name:  # another source tree's server (--compare)
                loop += " @" + name.split("@", 1)[1]
            if m.values:
                mine = f"{fmt(m.median, f.unit)} ({fmt(m.low, f.unit)}–{fmt(m.high, f.unit)})"
                if len(m.values) < (options.get("runs") or 0) or (m.note and "run" in m.note):
                    # Fewer runs than asked, or a qualified value: the JSON has the note.
                    mine += f" [{len(m.values)} run{'s' if len(m.values) != 1 else ''}; see note]"
            else:
                mine = "n/a: " + m.note.splitlines()[0][:80] if m.note else "n/a"
            ratio = f.ratio(m.subject)
            target = f.targets.get(m.subject)
            verdict = {True: "yes", False: "**no**", None: "–"}[f.verdict(m.subject)]
            rows.append(
                f"| {f.scenario} | {f.name} | {loop} | {mine} | {peer_text} | "
                f"{f'{ratio:.2f}×' if ratio is not None else '–'} | "
                f"{target.text if target else '–'} | {verdict} |"
            )
    return "\n".join(rows)


def update_readme(markdown: str) -> bool:
    """Replaces what is between the bench markers in README.md, and nothing else."""
    text = README.read_text()
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return False
    README.write_text(text[: start + len(START)] + "\n" + markdown + "\n" + text[end:])
    return True
