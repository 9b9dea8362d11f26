"""Server configuration: where to listen, and the limits that protect everyone."""

from __future__ import annotations

from dataclasses import dataclass, field

from soketler.core.archive import Retention

DEFAULT_PORT = 61000


@dataclass(frozen=True, slots=True)
class Limits:
    """Every buffer and rate has a named limit (docs/protocol.md lists them)."""

    max_line: int = 4096  # bytes in one line, terminator excluded
    rate: float = 5.0  # lines per second a client may send on average (0: no limit)
    burst: int = 20  # lines a client may send at once before the rate applies
    flood_lines: int = 50  # lines waiting beyond the rate before "Excess flood"
    # Bytes the kernel has not taken from us for one client; above it for longer than
    # sendq_grace seconds, the client is not reading and is dropped (transport/backlog.py).
    sendq: int = 1 << 20
    sendq_grace: float = 10.0
    # Output waiting for all clients together past which the server stops reading
    # until it drains: TCP then slows the senders, and no reader is dropped.
    output_watermark: int = 32 << 20
    max_clients: int = 10_000
    max_per_address: int = 20  # 0: no limit
    nick_timeout: float = 60.0  # seconds to choose a nickname


@dataclass(frozen=True, slots=True)
class ServerConfig:
    hosts: tuple[str, ...] = ()  # empty: every address, IPv4 and IPv6
    port: int = DEFAULT_PORT
    unix: str | None = None
    limits: Limits = field(default_factory=Limits)
    close_words: bool = True
    server_name: str = ""  # shown in the welcome line; empty: this host's name
    db: str = ":memory:"  # history: an SQLite file, or ":memory:"
    replay: int = 20  # messages shown to someone joining a room; 0: none
    announce_limit: int = 1000  # joins/parts/quits announced in rooms up to this size
    retention: Retention = field(default_factory=Retention)
