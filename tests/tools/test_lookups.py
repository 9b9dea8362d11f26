"""`soketler ports` and `soketler resolve` (names: localhost, 127.0.0.1 and ::1 only)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from soketler import exitcodes, tools
from soketler.tools.wellknown import lookup, merged, parse_services
from tests.tools.support import run_tool

TUTORIAL_PORTS = {21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 80: "http",
                  110: "pop3", 119: "nntp", 143: "imap", 443: "https"}  # fmt: skip


def test_builtin_table_has_the_tutorial_ports(tmp_path: Path) -> None:
    no_system = tmp_path / "missing-services"
    for port, name in TUTORIAL_PORTS.items():
        assert name in [e.name for e in lookup(str(port), path=no_system)]


def test_services_file_is_merged(tmp_path: Path) -> None:
    services = tmp_path / "services"
    services.write_text(
        "# comment line\n"
        "http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\n"
        "zork\t\t4242/tcp\tgrue\n"
        "broken\t\tnotaport/tcp\n"
    )
    http = lookup("80/tcp", path=services)
    assert [(e.name, e.aliases) for e in http] == [("http", ("www",))]
    assert [e.port for e in lookup("grue", path=services)] == [4242]
    assert lookup("notaport", path=services) == []


def test_parse_services_and_merge_keep_builtin_names() -> None:
    entries = parse_services(["ssh-alt 22/tcp # system's own name\n"])
    ssh = [e for e in merged(entries) if (e.port, e.protocol) == (22, "tcp")]
    assert ssh[0].name == "ssh" and ssh[0].aliases == ("ssh-alt",)


def test_search_by_name_and_protocol() -> None:
    assert {e.protocol for e in lookup("53")} == {"tcp", "udp"}
    assert [e.protocol for e in lookup("53/udp")] == ["udp"]
    assert 6667 in [e.port for e in lookup("irc")]


def test_ports_command_json_and_no_match() -> None:
    result = run_tool(["ports", "--json", "443"])
    assert result.returncode == 0
    assert "https" in {entry["name"] for entry in json.loads(result.stdout)}
    missing = run_tool(["ports", "no-such-service-anywhere"])
    assert missing.returncode == exitcodes.FAILURE
    assert missing.stderr.count(b"\n") == 1


def test_ports_command_table() -> None:
    result = run_tool(["ports", "ssh"])
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split() == [b"PORT", b"PROTO", b"NAME", b"DESCRIPTION"]
    assert any(line.split()[:3] == [b"22", b"tcp", b"ssh"] for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    ("name", "address"), [("localhost", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"), ("::1", "::1")]
)
def test_resolve(name: str, address: str) -> None:
    answer = tools.resolve(name)
    assert address in answer.addresses
    assert answer.canonical


def test_resolve_orders_ipv4_first_and_filters_by_family() -> None:
    assert tools.resolve("::1").ipv6 == ["::1"]
    with pytest.raises(tools.ToolError) as caught:
        tools.resolve("::1", family=socket.AF_INET)
    assert caught.value.exit_code == exitcodes.UNKNOWN_HOST


def test_reverse_lookup_of_loopback() -> None:
    assert tools.reverse("127.0.0.1").name
    with pytest.raises(tools.ToolError) as caught:
        tools.reverse("not-an-address")
    assert caught.value.exit_code == exitcodes.USAGE


def test_resolve_command_json() -> None:
    result = run_tool(["resolve", "--json", "localhost"])
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["name"] == "localhost" and "127.0.0.1" in answer["addresses"]
    reverse = run_tool(["resolve", "--json", "-r", "127.0.0.1"])
    assert reverse.returncode == 0, reverse.stderr
    assert json.loads(reverse.stdout)["address"] == "127.0.0.1"


def test_resolve_command_this_host() -> None:
    result = run_tool(["resolve"])
    assert result.returncode == 0
    assert result.stdout.split()[0] == b"hostname"
