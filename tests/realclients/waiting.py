"""Waiting for something a real program shows, with a deadline (never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
POLL = 0.05  # seconds between looks: a screen or a file has no event to wait on


def wait_for(look: Callable[[], T | None], timeout: float, what: str) -> T:
    """`look()` until it returns something other than None, or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = look()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(POLL)
