"""Netcat-style tools as a Python API: resolve, well-known ports, probe, pipe.

    >>> from soketler.tools import resolve, lookup_ports
    >>> "127.0.0.1" in resolve("localhost").addresses
    True
    >>> lookup_ports("22")[0].name
    'ssh'

The command-line tools (`soketler connect`, `listen`, `resolve`, `ports`, `probe`)
are thin layers over these functions; docs/tools.md describes both.

Names are imported on first use (PEP 562), so importing one submodule (as each
command does) does not pay for all the others, asyncio included.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soketler.tools.duplex import PipeResult, pipe
    from soketler.tools.endpoints import connect, connect_unix, listener, unix_listener
    from soketler.tools.errors import ToolError
    from soketler.tools.portspec import PortSpecError, format_ports, parse_port, parse_ports
    from soketler.tools.prober import PortState, probe
    from soketler.tools.resolver import (
        HostIdentity,
        Resolution,
        ReverseResolution,
        resolve,
        reverse,
        this_host,
    )
    from soketler.tools.wellknown import PortEntry
    from soketler.tools.wellknown import lookup as lookup_ports

_WHERE = {
    "PipeResult": ("duplex", "PipeResult"),
    "pipe": ("duplex", "pipe"),
    "connect": ("endpoints", "connect"),
    "connect_unix": ("endpoints", "connect_unix"),
    "listener": ("endpoints", "listener"),
    "unix_listener": ("endpoints", "unix_listener"),
    "ToolError": ("errors", "ToolError"),
    "PortSpecError": ("portspec", "PortSpecError"),
    "format_ports": ("portspec", "format_ports"),
    "parse_port": ("portspec", "parse_port"),
    "parse_ports": ("portspec", "parse_ports"),
    "PortState": ("prober", "PortState"),
    "probe": ("prober", "probe"),
    "HostIdentity": ("resolver", "HostIdentity"),
    "Resolution": ("resolver", "Resolution"),
    "ReverseResolution": ("resolver", "ReverseResolution"),
    "resolve": ("resolver", "resolve"),
    "reverse": ("resolver", "reverse"),
    "this_host": ("resolver", "this_host"),
    "PortEntry": ("wellknown", "PortEntry"),
    "lookup_ports": ("wellknown", "lookup"),
}

__all__ = [
    "HostIdentity",
    "PipeResult",
    "PortEntry",
    "PortSpecError",
    "PortState",
    "Resolution",
    "ReverseResolution",
    "ToolError",
    "connect",
    "connect_unix",
    "format_ports",
    "listener",
    "lookup_ports",
    "parse_port",
    "parse_ports",
    "pipe",
    "probe",
    "resolve",
    "reverse",
    "this_host",
    "unix_listener",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'soketler.tools' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"soketler.tools.{module}"), attribute)
    globals()[name] = value  # later lookups skip this function
    return value
