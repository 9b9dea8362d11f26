"""Port numbers and port lists as people type them: `8080`, `http`, `22,80,8000-8010`."""

from __future__ import annotations

import re

from soketler import exitcodes
from soketler.tools.errors import ToolError

MAX_PORT = 65535


class PortSpecError(ToolError, ValueError):
    """The text is not a port or a port list; the message says which part and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exitcodes.USAGE)


_RANGE = re.compile(r"\s*[0-9]+\s*(-\s*[0-9]*\s*)?|\s*-.*")


def service_port(name: str, protocol: str) -> int | None:
    """The port of a service name or alias (`http`, `www`) for `protocol`, as
    `soketler ports` knows it (built-in table and /etc/services); None if unknown."""
    from soketler.tools.wellknown import all_ports  # the table is read only when needed

    wanted = name.strip().casefold()
    for entry in all_ports():
        if entry.protocol == protocol and wanted in (
            word.casefold() for word in (entry.name, *entry.aliases)
        ):
            return entry.port
    return None


def parse_port(text: str, *, allow_zero: bool = True, protocol: str | None = None) -> int:
    """One port number. Zero means "any free port" when binding, hence `allow_zero`.

    With `protocol` ("tcp" or "udp") a service name is accepted too (`http` is 80),
    as nc and every socket API accept one.
    """
    stripped = text.strip()
    # isdecimal() rather than int(): int() also accepts "+80", "8_0" and non-ASCII digits.
    if not stripped.isascii() or not stripped.isdecimal():
        if protocol is not None and stripped:
            port = service_port(stripped, protocol)
            if port is not None:
                return port
            raise PortSpecError(
                f"invalid port: {text!r} (expected a number {0 if allow_zero else 1}-{MAX_PORT}"
                f" or a service name; `soketler ports WORD` searches them)"
            )
        raise PortSpecError(f"invalid port: {text!r} (expected a number 0-{MAX_PORT})")
    port = int(stripped)
    low = 0 if allow_zero else 1
    if not low <= port <= MAX_PORT:
        raise PortSpecError(f"invalid port: {text} (expected {low}-{MAX_PORT})")
    return port


def parse_ports(spec: str, *, protocol: str | None = None) -> list[int]:
    """`22,80,8000-8010` → the sorted distinct ports it names (each 1-65535).

    Ranges are inclusive and may be written either way round only when ascending;
    "10-1" is an error rather than a silent empty range. With `protocol`, an item may
    be a service name (`ssh,http,8000-8010`); names can hold dashes (`ftp-data`), so
    only digits around a dash make a range.
    """
    ports: set[int] = set()
    parts = spec.split(",")
    for part in parts:
        if not part.strip():
            raise PortSpecError(f"invalid port list: {spec!r} (empty item)")
        if protocol is not None and not _RANGE.fullmatch(part):
            ports.add(parse_port(part, allow_zero=False, protocol=protocol))
            continue
        first, dash, last = part.partition("-")
        low = parse_port(first, allow_zero=False)
        high = parse_port(last, allow_zero=False) if dash else low
        if high < low:
            raise PortSpecError(f"invalid port range: {part.strip()} (the end is below the start)")
        ports.update(range(low, high + 1))
    return sorted(ports)


def format_ports(ports: list[int]) -> str:
    """The shortest spec for `ports` (the inverse of `parse_ports`)."""
    items: list[str] = []
    ordered = sorted(set(ports))
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        low, high = ordered[start], ordered[end]
        items.append(str(low) if low == high else f"{low}-{high}")
        start = end + 1
    return ",".join(items)
