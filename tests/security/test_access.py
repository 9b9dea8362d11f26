from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.security.access import AccessList, AccessListError, Network, parse_address

v4_networks = st.builds(
    lambda value, length: ipaddress.IPv4Network((value, length), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
v6_networks = st.builds(
    lambda value, length: ipaddress.IPv6Network((value, length), strict=False),
    st.integers(0, 2**128 - 1),
    st.integers(0, 128),
)
# Ranges written as IPv4-mapped IPv6 (::ffff:10.0.0.0/104): the same as 10.0.0.0/8.
mapped_networks = st.builds(
    lambda value, length: ipaddress.IPv6Network(
        ((0xFFFF << 32) | value, 96 + length), strict=False
    ),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
networks = st.one_of(v4_networks, v6_networks, mapped_networks)


def _as_v4(network: Network) -> Network:
    if not isinstance(network, ipaddress.IPv6Network) or network.prefixlen < 96:
        return network
    mapped = network.network_address.ipv4_mapped
    if mapped is not None:
        return ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
    return network


def reference(allow: list[Network], deny: list[Network], address: str) -> bool:
    """The rule read off the docstring, by brute force over every range."""
    ip = parse_address(address)
    assert ip is not None
    matches = [
        (network.prefixlen, kind)
        for kind, listed in (("allow", allow), ("deny", deny))
        for network in map(_as_v4, listed)
        if network.version == ip.version and ip in network
    ]
    if not matches:
        return not allow
    longest = max(length for length, _ in matches)
    return "deny" not in {kind for length, kind in matches if length == longest}


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Network], list[Network], str]:
    allow = draw(st.lists(networks, max_size=6))
    deny = draw(st.lists(networks, max_size=6))
    listed = allow + deny
    # Mostly addresses inside a listed range (at its edges too), so that rules compete.
    if listed and draw(st.booleans()):
        network = _as_v4(draw(st.sampled_from(listed)))
        offset = draw(
            st.sampled_from([0, network.num_addresses - 1])
            | st.integers(0, network.num_addresses - 1)
        )
        ip = network.network_address + offset
    else:
        ip = draw(st.ip_addresses())
    text = str(ip)
    if isinstance(ip, ipaddress.IPv4Address) and draw(st.booleans()):
        text = f"::ffff:{ip}"  # how a dual-stack socket reports an IPv4 client
    return allow, deny, text


@given(cases())
def test_the_longest_matching_range_decides(case: tuple[list[Network], list[Network], str]) -> None:
    allow, deny, address = case
    access = AccessList(allow=[str(n) for n in allow], deny=[str(n) for n in deny])
    assert access.permits(address) == reference(allow, deny, address)


def test_a_narrow_allow_inside_a_wide_deny_and_the_reverse() -> None:
    access = AccessList(
        allow=["10.1.2.0/24", "2001:db8::/32"], deny=["10.0.0.0/8", "2001:db8:bad::/48"]
    )
    assert access.permits("10.1.2.3")
    assert not access.permits("10.9.9.9")
    assert access.decide("10.9.9.9").rule == "deny 10.0.0.0/8"
    assert access.decide("10.1.2.3").rule == "allow 10.1.2.0/24"
    assert access.permits("2001:db8:1::5")
    assert not access.permits("2001:db8:bad::5")
    assert not access.permits("192.0.2.1")  # an allow list: strangers stay out
    assert access.decide("192.0.2.1").rule is None


def test_a_deny_list_alone_keeps_out_only_what_it_names() -> None:
    access = AccessList(deny=["203.0.113.0/24", "::ffff:198.51.100.0/120"])
    assert access.permits("192.0.2.1")
    assert not access.permits("203.0.113.9")
    assert not access.permits("::ffff:203.0.113.9")
    assert not access.permits("198.51.100.20")  # the mapped range is the IPv4 range


def test_the_same_range_in_both_lists_is_a_deny() -> None:
    assert not AccessList(allow=["192.0.2.0/24"], deny=["192.0.2.0/24"]).permits("192.0.2.1")


def test_peers_without_an_ip_address_are_local() -> None:
    assert AccessList(allow=["10.0.0.0/8"]).permits("/run/soketler.sock")
    assert AccessList(allow=["fe80::/10"]).permits("fe80::1%eth0")


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("10.1.2.3/8", "10.1.2.3/8 has bits set past its prefix; did you mean 10.0.0.0/8?"),
        ("10.0.0.0/33", "not an address range: '10.0.0.0/33'"),
        ("example.org", "not an address range: 'example.org'"),
    ],
)
def test_entries_that_are_not_ranges_are_refused(entry: str, complaint: str) -> None:
    with pytest.raises(AccessListError) as refused:
        AccessList(deny=[entry])
    assert str(refused.value).startswith(complaint)
