"""Ports on 127.0.0.1 for irctest's servers.

irctest picks a port by binding the wildcard address and then has the server listen
on every interface. Servers under test here listen on loopback only, so the port is
chosen on 127.0.0.1 and recorded in irctest's shared list of ports in use, which keeps
parallel workers (`-n 4`) from picking the same one.
"""

from __future__ import annotations

import socket
from typing import Any

LOOPBACK = "127.0.0.1"


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def reserve_loopback_port(controller: Any) -> tuple[str, int]:
    """`get_hostname_and_port` for an irctest controller, on 127.0.0.1."""
    with controller._used_ports() as used_ports:
        while True:
            port = free_loopback_port()
            if (LOOPBACK, port) not in used_ports:
                break
        used_ports.add((LOOPBACK, port))
        controller._own_ports.add((LOOPBACK, port))
    return LOOPBACK, port
