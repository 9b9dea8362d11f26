"""Running a blocking function in a daemon thread and awaiting it from asyncio.

`asyncio.to_thread` would do, except that its executor threads are joined when the
loop closes: a thread still blocked on a silent terminal would then keep the process
alive after the connection is over. These threads are daemons, and they report back
with `call_soon_threadsafe`, which is a no-op once the loop is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


def in_thread(name: str, work: Callable[[], T]) -> asyncio.Future[T]:
    """Starts `work()` in a daemon thread; the future holds its result or exception."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def report(result: T | None, error: BaseException | None) -> None:
        # RuntimeError: the loop is closed, so nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, future, result, error)

    def run() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting task as is
            report(None, exc)
        else:
            report(result, None)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
