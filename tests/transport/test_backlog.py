"""The backlog: lines wait while output, or the history store, is behind."""

from __future__ import annotations

import asyncio

from soketler.core.config import Limits
from soketler.transport.backlog import STORE_HIGH, STORE_LOW, Backlog


class Held:
    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog
        self.released = 0

    def backlog_drained(self) -> None:
        self.released += 1
        if self.backlog.overloaded:
            self.backlog.hold(self)  # type: ignore[arg-type]


async def test_lines_wait_while_the_store_is_behind_and_go_on_when_it_catches_up() -> None:
    pending = STORE_HIGH + 1
    backlog = Backlog(asyncio.get_running_loop(), Limits(), lambda: pending)
    assert backlog.overloaded
    waiting = Held(backlog)
    backlog.hold(waiting)  # type: ignore[arg-type]
    pending = STORE_LOW + 1
    assert not backlog.overloaded
    backlog.drained()
    assert waiting.released == 0  # not yet: it must come down to the low mark
    pending = STORE_LOW - 1
    backlog.drained()
    assert waiting.released == 1


async def test_output_past_the_watermark_holds_lines_until_a_quarter_of_it() -> None:
    limits = Limits(output_watermark=1 << 20)
    backlog = Backlog(asyncio.get_running_loop(), limits)
    backlog.queued = (1 << 20) + 1
    assert backlog.overloaded
    waiting = [Held(backlog) for _ in range(3)]
    for held in waiting:
        backlog.hold(held)  # type: ignore[arg-type]
    backlog.queued = 1 << 19
    backlog.drained()
    assert [h.released for h in waiting] == [0, 0, 0]
    backlog.queued = (1 << 18) - 1
    backlog.drained()
    assert [h.released for h in waiting] == [1, 1, 1]
