"""`python -m benchmarks [--quick] [--only NAME,...]`: runs the scenarios, prints each
figure with its peer, ratio and target, saves JSON to benchmarks/results/, and puts
the summary table in README.md (full runs of every scenario only)."""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks import (
    cluster,
    echo,
    fanout,
    history,
    irc,
    joins,
    pipe,
    plots,
    redis_streams,
    report,
    saturation,
    search,
    slow,
    startup,
    util,
)
from benchmarks.report import Figure
from benchmarks.servers import Options

Scenario = Callable[[Options], list[Figure]]

# In the order they run: the cheap ones first, so a broken set-up shows early.
SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "startup": (startup.run, "`soketler --help` against `ncat -h`"),
    "fanout": (fanout.run_big_room, "one room of 1,000, stepped rates, both shapes"),
    "fanout-100": (partial(fanout.run_room, clients=100), "one room of 100 at 50K/s"),
    "fanout-web": (fanout.run_web_room, "one room of 1,000 browsers against 1,000 on TCP"),
    "slow": (slow.run, "100 clients and one that never reads"),
    "saturation": (saturation.run, "one room of 1,000, 10 senders as fast as TCP allows"),
    "history": (history.run, "fan-out with SQLite history against --db :memory:"),
    "search": (search.run, "SQLite writes with and without the search index; search latency"),
    "irc": (irc.run, "the IRC door against ngIRCd: a room of 1,000 at 50K/s, saturation"),
    "joins": (joins.run_storm, "5,000 clients join one room"),
    "capacity": (joins.run_capacity, "memory per idle connection, 10,000 connections"),
    "fanout-10k": (partial(fanout.run_room, clients=10_000), "one room of 10,000 at 50K/s"),
    "pipe": (pipe.run, "1 GiB through listen ← connect, against socat, ncat, nc"),
    "echo": (echo.run, "1 KiB request/response over 10 connections"),
    "redis": (redis_streams.run, "one room's stream through redis-server: latency, msg/s"),
    "cluster": (cluster.run, "serve --redis, 1, 2 and 4 workers: 4,000 clients in 1 and 100 rooms"),
}
# Left out of --quick (run them with --only): building a room of 10,000 takes minutes.
SLOW_SCENARIOS = ("fanout-10k",)
# The scenarios that run `soketler serve` only, and so can run it from another tree.
COMPARABLE = (
    "fanout",
    "fanout-100",
    "fanout-10k",
    "slow",
    "saturation",
    "history",
    "joins",
    "capacity",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short run of each")
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help="run only these scenarios: " + ", ".join(SCENARIOS),
    )
    parser.add_argument("--runs", type=int, help="runs per figure (default 5, quick 1)")
    parser.add_argument(
        "--loop",
        action="append",
        choices=util.LOOPS,
        help="soketler's event loop; repeatable (default: both; with --quick, uvloop, "
        "the one `soketler serve` picks by default)",
    )
    parser.add_argument(
        "--compare",
        action="append",
        metavar="TREE",
        help="also run `soketler serve` from this source tree (a checkout of another "
        "commit, e.g. made with `git worktree add`), as soketler@COMMIT/LOOP; "
        "repeatable; only with --only among " + ", ".join(COMPARABLE),
    )
    parser.add_argument(
        "--readme",
        choices=("auto", "yes", "no"),
        default="auto",
        help="update README.md's table (auto: only after a full run of every scenario)",
    )
    args = parser.parse_args(argv)
    names = [n for n in SCENARIOS if not (args.quick and n in SLOW_SCENARIOS)]
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in SCENARIOS]
        if unknown:
            parser.error(
                f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}"
            )
    compare: dict[str, str] = {}
    for tree in args.compare or ():
        src = Path(tree).resolve() / "src"
        if not (src / "soketler").is_dir():
            parser.error(f"--compare {tree}: no src/soketler there")
        if not args.only or any(n not in COMPARABLE for n in names):
            parser.error("--compare needs --only with scenarios among " + ", ".join(COMPARABLE))
        compare[_label(tree)] = str(src)
    missing = [tool for tool in ("ncat", "socat", "nc") if not shutil.which(tool)]
    if missing:
        print(f"note: {', '.join(missing)} missing; their figures will be 'not available'")
    runs = args.runs or (1 if args.quick else 5)
    # A quick pass measures the default loop only, to stay within two minutes; the
    # full run measures both.
    fastest = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    default_loops = (fastest,) if args.quick else util.LOOPS
    opts = Options(
        quick=args.quick, runs=runs, loops=tuple(args.loop or default_loops), compare=compare
    )
    util.pin_self(util.LOAD_CPU)
    info = util.machine_info()
    print(
        f"{info['cpu']}, {info['cores']} cores, Linux {info['kernel']}, Python "
        f"{info['python']}, uvloop {info['uvloop']}; load average "
        f"{info['load_average'][0]:.2f}; pinned: {info['pinned']}; {runs} run(s) per figure",
        flush=True,
    )
    figures: list[Figure] = []
    started = time.monotonic()
    for name in names:
        scenario, what = SCENARIOS[name]
        print(f"\n== {name}: {what}", flush=True)
        begun = time.monotonic()
        found = scenario(opts)
        print(f"-- {name} took {time.monotonic() - begun:.0f} s", flush=True)
        report.print_figures(found)
        figures += found
    options = {
        "quick": opts.quick,
        "runs": runs,
        "loops": list(opts.loops),
        "only": names,
        "partial": bool(args.only) or opts.loops != util.LOOPS,
        "compare": compare,
    }
    info["seconds"] = round(time.monotonic() - started, 1)
    path = report.save(figures, info, options)
    print(f"\nresults: {path.relative_to(util.ROOT)} ({info['seconds']:.0f} s)")
    everything = names == list(SCENARIOS) and not opts.quick
    wanted = args.readme == "yes" or (args.readme == "auto" and everything)
    if wanted and report.update_readme(report.table(figures, info, options)):
        print("README.md: table updated")
    if everything:
        # The README's pictures: redrawn from the run that also wrote its table.
        for drawn in plots.write(path):
            print(f"drew {drawn.relative_to(util.ROOT)}")
    print("\n" + report.table(figures, info, options))
    return 0


def _label(tree: str) -> str:
    """A source tree's short commit when it is a git checkout of its own (a `git
    worktree add` one), else its folder's name (an unpacked `git archive`)."""
    folder = Path(tree).resolve()

    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() == folder:
            return git("rev-parse", "--short", "HEAD")
    except (OSError, subprocess.SubprocessError):
        pass
    return folder.name


if __name__ == "__main__":
    sys.exit(main())
