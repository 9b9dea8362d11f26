"""Which pages may open a WebSocket to us: the Origin check (RFC 6455 section 10.2).

A browser sends the Origin of the page that opens a WebSocket, and lets any page open
one to any server; a page elsewhere could otherwise chat in a visitor's name. So a
handshake whose Origin is not allowed is refused. A handshake with no Origin is not
from a browser page (a program can claim any Origin anyway) and is let through.

By default the page must come from the host the WebSocket is asked of (the Host
header): the same name, and the same port. `--web-origin` lists origins instead,
for a page served elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

# scheme, host (lower case, IPv6 without brackets), port
Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """An Origin header's parts, or None when it names no origin ("null", junk)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host or parts.username is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


def parse_host(value: str) -> tuple[str, int | None] | None:
    """A Host header's name and port (None when the default port was used)."""
    try:
        parts = urlsplit("//" + value.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.path or parts.query or parts.username is not None:
        return None
    return parts.hostname, port


def allowed_origins(values: Iterable[str]) -> frozenset[Origin]:
    """Origins as configured ("https://chat.example.org"); raises ValueError for one
    that is not an origin, so a typo fails at start-up, not at every handshake."""
    found = set()
    for value in values:
        origin = parse_origin(value)
        if origin is None:
            raise ValueError(f"not an origin (scheme://host[:port]): {value!r}")
        found.add(origin)
    return frozenset(found)


def origin_allowed(origin: str | None, host: str | None, allowed: frozenset[Origin] | None) -> bool:
    """Whether a handshake with this Origin header, asked of this Host, may go on."""
    if origin is None:
        return True
    theirs = parse_origin(origin)
    if theirs is None:
        return False
    if allowed is not None:
        return theirs in allowed
    ours = parse_host(host) if host is not None else None
    if ours is None:
        return False
    scheme, name, port = theirs
    our_name, our_port = ours
    # No port in Host: the browser used the default one of the page's scheme.
    return name == our_name and port == (our_port or DEFAULT_PORTS[scheme])
