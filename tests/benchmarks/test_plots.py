"""benchmarks/plots.py: the README's SVG figures, drawn from the results JSON."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from benchmarks import plots

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def step(rate: float, p99: float, share: float = 1.0) -> dict[str, float]:
    return {"rate": rate, "p99_ms": p99, "share": share}


def results(steps: dict[str, dict[str, list[dict[str, float]]]]) -> dict[str, object]:
    figure = {
        "scenario": "fan-out",
        "name": "N=1000, senders spread: highest rate sustained",
        "details": {"steps": steps, "p99_limit_ms": 100},
        "summary": {subject: {"median": 1e5} for subject in steps},
    }
    return {"when": "2026-12-01T10:00:00", "figures": [figure]}


def circles(svg: str) -> dict[str, list[tuple[float, float]]]:
    """Each subject's points, in pixels, from the circles' tooltips."""
    found: dict[str, list[tuple[float, float]]] = {}
    for circle in ElementTree.fromstring(svg).iter(f"{SVG}circle"):
        title = circle.find(f"{SVG}title")
        assert title is not None and title.text
        subject = title.text.split(":")[0]
        found.setdefault(subject, []).append(
            (float(circle.get("cx", 0)), float(circle.get("cy", 0)))
        )
    return found


def test_p99_points_are_placed_by_their_values_and_undelivered_steps_left_out() -> None:
    doc = results(
        {
            "ncat": {"50K": [step(5e4, 10.0)], "100K": [step(1e5, 100.0)]},
            "soketler/uvloop": {
                "50K": [step(5e4, 10.0), step(5e4, 30.0), step(5e4, 20.0)],  # median 20
                "100K": [step(1e5, 20.0)],
                "200K": [step(2e5, 500.0, share=0.9)],  # not all delivered: not a point
            },
        }
    )
    svg = plots.draw(doc)["fanout-p99-spread.svg"]
    points = circles(svg)
    assert len(points["ncat"]) == 2 and len(points["soketler/uvloop"]) == 2
    (n50, n100), (s50, s100) = points["ncat"], points["soketler/uvloop"]
    assert n50[0] == s50[0] < n100[0] == s100[0]  # the same offered load, the same x
    assert n50[1] > s50[1]  # 10 ms is lower on the page than 20 ms
    assert s50[1] == s100[1]  # the median of 10, 30, 20 is 20
    # A log scale: 10 -> 20 ms is log10(2) of the height of 10 -> 100 ms.
    assert abs((n50[1] - s50[1]) / (n50[1] - n100[1]) - math.log10(2)) < 0.01
    assert "limit: 100 ms" in svg


def test_the_latest_results_make_every_figure_and_they_are_well_formed() -> None:
    doc = json.loads(plots.LATEST.read_text())
    drawn = plots.draw(doc)
    assert set(drawn) == {
        "fanout-p99-spread.svg",
        "fanout-p99-step.svg",
        "fanout-sustained.svg",
        "pipe.svg",
        "echo.svg",
    }
    for name, svg in drawn.items():
        root = ElementTree.fromstring(svg)
        assert root.tag == f"{SVG}svg", name
        assert root.find(f"{SVG}title") is not None
    # soketler beside its peers in each figure
    assert {"ncat", "soketler/asyncio", "soketler/uvloop"} <= set(
        circles(drawn["fanout-p99-step.svg"])
    )
    for name in ("pipe.svg", "echo.svg"):
        assert "soketler/uvloop" in drawn[name] and "socat" in drawn[name] and "ncat" in drawn[name]


def test_the_committed_figures_are_current_and_the_readme_shows_them() -> None:
    drawn = plots.draw(json.loads(plots.LATEST.read_text()))
    readme = (ROOT / "README.md").read_text()
    for name, svg in drawn.items():
        path = plots.PLOTS / name
        assert path.read_text() == svg, f"{name} is stale: run `make bench-plots`"
        assert re.search(rf"!\[[^\]]+\]\(benchmarks/results/plots/{re.escape(name)}\)", readme)
