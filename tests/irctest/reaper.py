"""A pytest plugin that stops every server the controllers started.

irctest stops a test's server in `tearDown`, which unittest skips when `setUp`
raises (a test class that finds a token missing from ISUPPORT raises in `setUp`), so
a run can leave servers behind, with their temporary folders and their entries in
irctest's shared list of ports in use. The controllers here register themselves when
they start a server, and when the session ends (in each xdist worker too) every one
still running is killed the way irctest's own `kill` does it, which also frees its
ports and removes its folder. Loaded with `-p tests.irctest.reaper` (the Makefile
does it).
"""

from __future__ import annotations

from typing import Any

_controllers: list[Any] = []


def track(controller: Any) -> None:
    if controller not in _controllers:
        _controllers.append(controller)


def reap() -> int:
    """Kill what is still running; returns how many were."""
    running = [controller for controller in _controllers if controller.proc is not None]
    for controller in running:
        controller.kill()
    _controllers.clear()
    return len(running)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    reap()
