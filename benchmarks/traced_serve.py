"""`soketler serve`, unchanged, in an interpreter that traces Python allocations.

Used by the capacity scenario to tell the Python heap apart from the rest of the RSS.
The server itself has no such switch; this wrapper starts tracemalloc, runs the CLI
as usual, and answers on a side channel: each line on stdin ("snap") makes it write
one JSON line to the file named by its first argument (traced bytes, and the lines of
source that allocated most since the previous snap).
"""

from __future__ import annotations

import json
import sys
import threading
import tracemalloc


def _reporter(path: str) -> None:
    previous: tracemalloc.Snapshot | None = None
    for _ in sys.stdin:
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        current, _peak = tracemalloc.get_traced_memory()
        top = []
        if previous is not None:
            for stat in snapshot.compare_to(previous, "lineno")[:15]:
                frame = stat.traceback[0]
                top.append([f"{frame.filename}:{frame.lineno}", stat.size_diff, stat.count_diff])
        previous = snapshot
        with open(path, "a") as out:
            out.write(json.dumps({"traced": current, "top": top}) + "\n")


def main() -> int:
    tracemalloc.start(1)
    report, argv = sys.argv[1], sys.argv[2:]
    threading.Thread(target=_reporter, args=(report,), daemon=True).start()
    from soketler.cli import main as soketler

    return soketler(argv)


if __name__ == "__main__":
    sys.exit(main())
