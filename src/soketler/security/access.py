"""Who may connect: allow and deny lists of CIDR ranges, IPv4 and IPv6.

The rule: the most specific range that contains the address decides (the longest
prefix), so `deny 10.0.0.0/8` with `allow 10.1.2.0/24` lets 10.1.2.x in and keeps
the rest of 10/8 out, and the reverse works too. A range that is in both lists is a
deny. An address in no range is allowed when the allow list is empty (deny lists
only keep out) and refused otherwise (an allow list says who may come).

IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, how a dual-stack socket shows IPv4
clients) are IPv4 addresses here, and so are ranges written that way. A peer that
has no IP address (a Unix socket) is always allowed: the socket file's permissions
decide who reaches it.

Checking an address costs one set lookup per distinct prefix length in the lists,
whatever their size. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

# A peer's address is read as server bans read it: one rule for who is who.
from soketler.core.bans import parse_address

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


class AccessListError(ValueError):
    """An entry that is not a range; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    rule: str | None  # "deny 10.0.0.0/8"; None when no range decided

    def __bool__(self) -> bool:
        return self.allowed


def parse_network(text: str) -> Network:
    """`10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32 or /128)."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            raise AccessListError(f"not an address range: {text!r} ({exc})") from None
        raise AccessListError(
            f"{text.strip()} has bits set past its prefix; did you mean {loose}?"
        ) from None
    return _unmapped_network(network)


def _unmapped_network(network: Network) -> Network:
    mapped = (
        isinstance(network, ipaddress.IPv6Network)
        and network.prefixlen >= 96
        and network.subnet_of(_MAPPED)
    )
    if mapped:
        low = int(network.network_address) & 0xFFFFFFFF
        return ipaddress.IPv4Network((low, network.prefixlen - 96))
    return network


class AccessList:
    """Allow and deny ranges; `decide(address)` or `permits(address)`."""

    def __init__(
        self, allow: Iterable[str | Network] = (), deny: Iterable[str | Network] = ()
    ) -> None:
        self.allow = tuple(_network(entry) for entry in allow)
        self.deny = tuple(_network(entry) for entry in deny)
        # (version, prefix length) -> {network as an int: allowed}
        self._tables: dict[tuple[int, int], dict[int, bool]] = {}
        for allowed, networks in ((True, self.allow), (False, self.deny)):
            for network in networks:
                table = self._tables.setdefault((network.version, network.prefixlen), {})
                # Listed in both: deny. (Deny is filled second, so it overwrites.)
                table[int(network.network_address)] = allowed
        self._lengths = {
            version: sorted((length for v, length in self._tables if v == version), reverse=True)
            for version in (4, 6)
        }

    def decide(self, address: str) -> Decision:
        ip = parse_address(address)
        if ip is None:
            return Decision(True, None)
        bits = ip.max_prefixlen
        value = int(ip)
        for length in self._lengths[ip.version]:
            shift = bits - length
            masked = (value >> shift) << shift
            allowed = self._tables[(ip.version, length)].get(masked)
            if allowed is not None:
                network = ipaddress.ip_network((masked, length))
                return Decision(allowed, f"{'allow' if allowed else 'deny'} {network}")
        return Decision(not self.allow, None)

    def permits(self, address: str) -> bool:
        return self.decide(address).allowed

    @property
    def empty(self) -> bool:
        return not (self.allow or self.deny)


def _network(entry: str | Network) -> Network:
    return parse_network(entry) if isinstance(entry, str) else _unmapped_network(entry)
