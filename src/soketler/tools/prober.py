"""Concurrent TCP connect checks (`soketler probe`), as `nc -z` does for one port.

A port is "open" when the handshake completes, "closed" when the host answers with
a reset (connection refused), and "filtered" when nothing answers in time or an
ICMP error says the packets are blocked (nmap's meaning of the word).
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from soketler import exitcodes
from soketler.tools.endpoints import addresses
from soketler.tools.errors import ToolError

State = Literal["open", "closed", "filtered"]
DEFAULT_CONCURRENCY = 100
DEFAULT_TIMEOUT = 1.0
MAX_CONCURRENCY = 5000  # each check holds a file descriptor; this stays far below ulimit
_FILTERED_ERRNOS = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM, errno.ETIMEDOUT}
)


@dataclass(frozen=True)
class PortState:
    port: int
    state: State
    seconds: float  # how long the check took (handshake time for open ports)


async def probe(
    host: str,
    ports: Iterable[int],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    connect_timeout: float = DEFAULT_TIMEOUT,
    family: int = socket.AF_UNSPEC,
    on_result: Callable[[PortState], None] | None = None,
) -> tuple[str, list[PortState]]:
    """Checks every port of `host`'s first address; returns (address, states by port).

    At most `concurrency` checks run at once, each bounded by `connect_timeout`.
    `on_result` is called with each port's state as soon as it is known (progress).
    """
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ToolError(
            f"invalid concurrency: {concurrency} (expected 1-{MAX_CONCURRENCY})", exitcodes.USAGE
        )
    infos = await addresses(host, None, family, socket.SOCK_STREAM)
    af, _, _, _, sockaddr = infos[0]
    gate = asyncio.Semaphore(concurrency)

    async def check(port: int) -> PortState:
        async with gate:
            state = await _check(af, (sockaddr[0], port, *sockaddr[2:]), connect_timeout)
        if on_result is not None:
            on_result(state)
        return state

    results = await asyncio.gather(*(check(port) for port in ports))
    return str(sockaddr[0]), sorted(results, key=lambda r: r.port)


async def _check(family: int, sockaddr: tuple[Any, ...], connect_timeout: float) -> PortState:
    loop = asyncio.get_running_loop()
    started = loop.time()
    state: State
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, sockaddr), connect_timeout)
            state = "open"
        except ConnectionRefusedError:
            state = "closed"
        except TimeoutError:
            state = "filtered"
        except OSError as exc:
            if exc.errno not in _FILTERED_ERRNOS:
                raise
            state = "filtered"
    return PortState(port=int(sockaddr[1]), state=state, seconds=loop.time() - started)
