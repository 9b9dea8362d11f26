from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler import exitcodes
from soketler.tools.portspec import PortSpecError, format_ports, parse_port, parse_ports

ports = st.integers(min_value=1, max_value=65535)


def test_examples() -> None:
    assert parse_ports("22,80,8000-8003") == [22, 80, 8000, 8001, 8002, 8003]
    assert parse_ports(" 443 , 22,22") == [22, 443]
    assert parse_ports("65535") == [65535]
    assert format_ports([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"


@pytest.mark.parametrize(
    "spec", ["", "0", "65536", "a", "1-", "-5", "5-1", "1,,2", "+80", "8_0", "٣", "1-2-3", ","]
)
def test_rejects(spec: str) -> None:
    with pytest.raises(PortSpecError) as caught:
        parse_ports(spec)
    assert caught.value.exit_code == exitcodes.USAGE


def test_parse_port_allows_zero_only_when_asked() -> None:
    assert parse_port("0") == 0
    with pytest.raises(PortSpecError):
        parse_port("0", allow_zero=False)


@given(st.sets(ports, min_size=1, max_size=200))
def test_format_then_parse_is_identity(chosen: set[int]) -> None:
    assert parse_ports(format_ports(sorted(chosen))) == sorted(chosen)


@given(ports, ports)
def test_ranges_are_inclusive(a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    parsed = parse_ports(f"{low}-{high}")
    assert parsed[0] == low and parsed[-1] == high and len(parsed) == high - low + 1


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_port_spec_error(text: str) -> None:
    try:
        parsed = parse_ports(text)
    except PortSpecError:
        return
    assert parsed == sorted(set(parsed))
    assert all(1 <= port <= 65535 for port in parsed)
