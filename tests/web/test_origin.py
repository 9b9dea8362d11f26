"""The WebSocket Origin check, without sockets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.doors.web.origin import allowed_origins, origin_allowed, parse_origin


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://localhost:8080", "localhost:8080"),
        ("http://LOCALHOST:8080", "localhost:8080"),
        ("https://chat.example.org", "chat.example.org"),  # TLS in front, default port
        ("http://chat.example.org", "chat.example.org"),
        ("https://chat.example.org:443", "chat.example.org"),
        ("http://[::1]:8080", "[::1]:8080"),
        ("http://127.0.0.1:8080", "127.0.0.1:8080"),
    ],
)
def test_a_page_of_the_same_host_may_connect(origin: str, host: str) -> None:
    assert origin_allowed(origin, host, None)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://evil.example:8080", "localhost:8080"),
        ("http://localhost:9999", "localhost:8080"),  # another server on the same machine
        ("http://localhost", "localhost:8080"),
        ("http://chat.example.org:8443", "chat.example.org"),
        ("null", "localhost:8080"),  # a sandboxed frame or a file: page
        ("file://", "localhost:8080"),
        ("ftp://localhost:8080", "localhost:8080"),
        ("http://localhost:8080/path", "localhost:8080"),
        ("http://user@localhost:8080", "localhost:8080"),
        ("http://localhost:99999", "localhost:8080"),
        ("http://localhost:8080", None),
        ("http://localhost:8080", "local host:8080"),
    ],
)
def test_any_other_page_is_refused(origin: str, host: str | None) -> None:
    assert not origin_allowed(origin, host, None)


def test_no_origin_is_not_a_browser_page_and_passes() -> None:
    assert origin_allowed(None, "localhost:8080", None)
    assert origin_allowed(None, None, allowed_origins(["https://a.example"]))


def test_a_configured_list_replaces_the_same_host_rule() -> None:
    allowed = allowed_origins(["https://chat.example.org", "http://localhost:3000"])
    assert origin_allowed("https://chat.example.org", "internal:8080", allowed)
    assert origin_allowed("https://CHAT.example.org:443", "internal:8080", allowed)
    assert origin_allowed("http://localhost:3000", "internal:8080", allowed)
    assert not origin_allowed("http://internal:8080", "internal:8080", allowed)
    assert not origin_allowed("http://chat.example.org", "internal:8080", allowed)


def test_a_configured_origin_that_is_none_fails_at_once() -> None:
    with pytest.raises(ValueError, match="not an origin"):
        allowed_origins(["chat.example.org"])


hosts = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)
ports = st.integers(1, 65535)


@given(hosts, ports, st.sampled_from(["http", "https"]))
def test_same_host_and_port_always_pass(host: str, port: int, scheme: str) -> None:
    assert origin_allowed(f"{scheme}://{host}:{port}", f"{host}:{port}", None)


@given(hosts, hosts, ports)
def test_another_host_never_passes(ours: str, theirs: str, port: int) -> None:
    if ours != theirs:
        assert not origin_allowed(f"http://{theirs}:{port}", f"{ours}:{port}", None)


@given(st.text(max_size=60), st.none() | st.text(max_size=40))
def test_any_header_gives_an_answer_and_never_an_exception(origin: str, host: str | None) -> None:
    assert isinstance(origin_allowed(origin, host, None), bool)
    parsed = parse_origin(origin)
    assert parsed is None or parsed[0] in ("http", "https")
