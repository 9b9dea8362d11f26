"""The netcat-style tools: connect, listen, resolve, ports, probe (arguments only)."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Adds the tools' subcommands (filled in by the tools package)."""
