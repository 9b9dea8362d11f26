"""A pytest plugin that stops every server the controllers started.

irctest stops a test's server in `tearDown`, which unittest skips when `setUp`
raises (a test class that finds a token missing from ISUPPORT raises in `setUp`), so
a run can leave servers behind. The controllers here register each process they
start, and when the session ends (in each xdist worker too) the ones still running
are stopped: SIGTERM to the process group irctest gave them, then SIGKILL.
Loaded with `-p tests.irctest.reaper` (the Makefile does it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any

STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL

_started: list[subprocess.Popen[Any]] = []


def track(process: subprocess.Popen[Any]) -> subprocess.Popen[Any]:
    _started.append(process)
    return process


def _signal_group(process: subprocess.Popen[Any], signum: signal.Signals) -> None:
    # irctest starts servers with start_new_session: the group id is the pid.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def reap() -> int:
    """Stop what is still running; returns how many were."""
    running = [process for process in _started if process.poll() is None]
    for process in running:
        _signal_group(process, signal.SIGTERM)
    for process in running:
        try:
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    _started.clear()
    return len(running)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    reap()
