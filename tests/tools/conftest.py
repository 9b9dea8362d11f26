from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest

from tests.tools.support import STEP_TIMEOUT


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A local port that answers connections with a reset.

    The socket stays bound (not listening) for the whole test, so nobody else can
    start listening on that port meanwhile.
    """
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port whose connections time out, as behind a dropping firewall.

    A listener with backlog 0 that never accepts holds one finished handshake; once
    that is queued, Linux drops further SYNs instead of answering them.
    """
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        filler = stack.enter_context(socket.socket())
        filler.settimeout(STEP_TIMEOUT)
        filler.connect(("127.0.0.1", port))
        yield port
