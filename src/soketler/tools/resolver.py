"""Name ↔ address lookups through the system resolver (`soketler resolve`)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

from soketler import exitcodes
from soketler.tools.errors import ToolError, unknown_host


@dataclass(frozen=True)
class Resolution:
    """What the resolver knows about `name`: IPv4 first, then IPv6, each in its order."""

    name: str
    canonical: str
    addresses: list[str] = field(default_factory=list)

    @property
    def ipv4(self) -> list[str]:
        return [a for a in self.addresses if ":" not in a]

    @property
    def ipv6(self) -> list[str]:
        return [a for a in self.addresses if ":" in a]


@dataclass(frozen=True)
class ReverseResolution:
    address: str
    name: str
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HostIdentity:
    """This machine as the resolver sees it (`soketler resolve` with no name)."""

    hostname: str
    fqdn: str
    addresses: list[str] = field(default_factory=list)


def resolve(name: str, family: int = socket.AF_UNSPEC) -> Resolution:
    """All addresses of `name` (IPv4 and IPv6 unless `family` narrows it) and its
    canonical name. Raises ToolError(UNKNOWN_HOST) when there are none."""
    try:
        infos = socket.getaddrinfo(
            name, None, family=family, type=socket.SOCK_STREAM, flags=socket.AI_CANONNAME
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise unknown_host(name, exc) from None
    canonical = next((info[3] for info in infos if info[3]), name)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    ordered = sorted(seen, key=lambda a: ":" in a)  # stable: keeps the resolver's order
    return Resolution(name=name, canonical=canonical, addresses=ordered)


def reverse(address: str) -> ReverseResolution:
    """The name registered for an IP address (PTR record or /etc/hosts)."""
    try:
        ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        raise ToolError(f"not an IP address: {address}", exitcodes.USAGE) from None
    try:
        name, aliases, _ = socket.gethostbyaddr(address)
    except socket.herror:
        raise ToolError(f"no name for {address}", exitcodes.UNKNOWN_HOST) from None
    except socket.gaierror as exc:
        raise unknown_host(address, exc) from None
    return ReverseResolution(address=address, name=name, aliases=list(aliases))


def this_host() -> HostIdentity:
    """This machine's name and the addresses its own name resolves to."""
    hostname = socket.gethostname()
    try:
        addresses = resolve(hostname).addresses
    except ToolError:
        addresses = []  # a host whose name is in no resolver is still a host
    return HostIdentity(hostname=hostname, fqdn=socket.getfqdn(hostname), addresses=addresses)
