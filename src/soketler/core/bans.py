"""Ban masks, for rooms and for the whole server: `nick!user@host` with `*` and `?`, where
the host part may also be an address range (`*!*@203.0.113.0/24`, `*!*@2001:db8::/32`),
matched against the address the person connects from rather than the host text.

A server ban (`ServerBans`) keeps someone off the server: a range is refused when the
connection is accepted, before anything is read; any mask is refused when a nickname is
chosen, and the people it matches are ended when it is set. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from soketler.protocols import names
from soketler.protocols.irc.masks import ANY, mask_matches, normalize_mask

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Server bans kept at most: every registration is checked against each nick mask.
MAX_SERVER_BANS = 1000


def network_of(text: str) -> Network | None:
    """The address range a host part names (a CIDR or one address), or None."""
    if not text or ANY in text or "?" in text:
        return None
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:  # ::ffff:a.b.c.d/n is IPv4, as peers show it
            return ipaddress.IPv4Network((int(mapped), network.prefixlen - 96), strict=False)
    return network


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address of a peer (zone dropped, IPv4-mapped made IPv4); None if not IP."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def ban_mask(text: str) -> str:
    """A mask as stored and shown: a bare range or address becomes `*!*@range`, a partial
    mask is completed (`bob` is `bob!*@*`)."""
    text = text.strip()
    network = network_of(text)
    if network is not None:
        return f"{ANY}!{ANY}@{_shown(network)}"
    nick, bang, rest = normalize_mask(text).partition("!")
    user, _, host = rest.partition("@")
    network = network_of(host)
    return f"{nick}{bang}{user}@{_shown(network) if network is not None else host}"


def _shown(network: Network) -> str:
    """A range as written in a mask: one address without its prefix length."""
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def matches(mask: str, nick: str, user: str, host: str, address: str) -> bool:
    """Whether a person (nick!user@host, connecting from `address`) is matched."""
    who, _, where = mask.rpartition("@")
    network = network_of(where)
    if network is None:
        return mask_matches(mask, f"{nick}!{user}@{host}", names.key)
    ip = parse_address(address)
    if ip is None or ip.version != network.version or ip not in network:
        return False
    return mask_matches(f"{who}@{ANY}", f"{nick}!{user}@{host}", names.key)


def address_only(mask: str) -> Network | None:
    """The range of a mask that names nothing but a range (`*!*@range`): such a ban can
    refuse a connection before it says who it is."""
    who, _, where = mask.rpartition("@")
    return network_of(where) if who == f"{ANY}!{ANY}" else None


@dataclass(frozen=True, slots=True)
class ServerBan:
    mask: str
    reason: str
    set_by: str
    set_at: datetime


class ServerBans:
    """The server's bans, in the order set. `on_change(ban, added)` is called for each
    change (the server keeps them in its database)."""

    def __init__(self, bans: tuple[ServerBan, ...] = ()) -> None:
        self._bans: dict[str, ServerBan] = {names.key(ban.mask): ban for ban in bans}
        self.on_change: Callable[[ServerBan, bool], None] | None = None

    def load(self, bans: Iterable[ServerBan]) -> None:
        """Bans kept from an earlier run (not reported as changes)."""
        for ban in bans:
            self._bans.setdefault(names.key(ban.mask), ban)

    def __iter__(self) -> Iterator[ServerBan]:
        return iter(list(self._bans.values()))

    def __len__(self) -> int:
        return len(self._bans)

    def add(self, ban: ServerBan) -> bool:
        """Whether it is new (and there was room for it)."""
        key = names.key(ban.mask)
        if key in self._bans or len(self._bans) >= MAX_SERVER_BANS:
            return False
        self._bans[key] = ban
        if self.on_change is not None:
            self.on_change(ban, True)
        return True

    def remove(self, mask: str) -> ServerBan | None:
        ban = self._bans.pop(names.key(ban_mask(mask)), None)
        if ban is not None and self.on_change is not None:
            self.on_change(ban, False)
        return ban

    def for_address(self, address: str) -> ServerBan | None:
        """The ban that keeps this address out before anything is said, if any."""
        ip = parse_address(address)
        if ip is None:
            return None
        for ban in self._bans.values():
            network = address_only(ban.mask)
            if network is not None and ip.version == network.version and ip in network:
                return ban
        return None

    def for_person(self, nick: str, user: str, host: str, address: str) -> ServerBan | None:
        for ban in self._bans.values():
            if matches(ban.mask, nick, user, host, address):
                return ban
        return None
