from __future__ import annotations

import json
import socket
from pathlib import Path

from soketler import exitcodes
from soketler.tools import probe
from tests.tools.support import run_tool


async def test_probe_tells_open_closed_and_filtered_apart(
    refused_port: int, silent_port: int
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        open_port = server.getsockname()[1]
        address, states = await probe(
            "127.0.0.1", [open_port, refused_port, silent_port], connect_timeout=0.3
        )
    assert address == "127.0.0.1"
    found = {state.port: state.state for state in states}
    assert found == {open_port: "open", refused_port: "closed", silent_port: "filtered"}


async def test_probe_over_ipv6() -> None:
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as server:
        port = server.getsockname()[1]
        address, states = await probe("::1", [port], connect_timeout=1.0)
    assert address == "::1"
    assert [state.state for state in states] == ["open"]


async def test_concurrency_cap_is_respected(refused_port: int) -> None:
    # Many ports through a one-wide gate still all get an answer.
    _, states = await probe("127.0.0.1", [refused_port] * 50, concurrency=1)
    assert len(states) == 50 and {s.state for s in states} == {"closed"}


def test_probe_command_json_and_exit_codes(refused_port: int) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        open_port = server.getsockname()[1]
        result = run_tool(["probe", "--json", "127.0.0.1", f"{refused_port},{open_port}"])
    assert result.returncode == exitcodes.OK, result.stderr
    answer = json.loads(result.stdout)
    states = {entry["port"]: entry["state"] for entry in answer["ports"]}
    assert states == {open_port: "open", refused_port: "closed"}

    none_open = run_tool(["probe", "127.0.0.1", str(refused_port)])
    assert none_open.returncode == exitcodes.FAILURE
    assert f"{refused_port}/tcp".encode() in none_open.stdout
    assert b"closed" in none_open.stdout


def test_probe_command_open_only(refused_port: int) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        open_port = server.getsockname()[1]
        result = run_tool(["probe", "--open", "127.0.0.1", f"{refused_port},{open_port}"])
    lines = result.stdout.decode().splitlines()
    assert [line.split()[:2] for line in lines[1:-1]] == [[f"{open_port}/tcp", "open"]]
    assert lines[-1] == "127.0.0.1: 2 ports probed: 1 open, 1 closed, 0 filtered"


def listening_on_loopback() -> set[int]:
    """Ports something on this machine listens on that 127.0.0.1 reaches (other
    programs, other tests running beside this one)."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(name).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.rsplit(":", 1)
            if state == "0A" and address in ("0100007F", "00000000", "0" * 32):
                found.add(int(port, 16))
    return found


def test_a_range_lists_what_answers_and_counts_the_closed() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        open_port = server.getsockname()[1]
        first = max(1, open_port - 20)
        last = open_port + 20
        spec = f"{first}-{last}"
        result = run_tool(["probe", "127.0.0.1", spec])
        everything = run_tool(["probe", "--all", "127.0.0.1", spec])
        others = {p for p in listening_on_loopback() if first <= p <= last}
    lines = result.stdout.decode().splitlines()
    count = last - first + 1
    opened = sorted(others | {open_port})
    closed = count - len(opened)
    assert lines[0] == f"Not shown: {closed} closed ports (--all lists them)"
    assert [line.split()[:2] for line in lines[2:-1]] == [[f"{p}/tcp", "open"] for p in opened]
    summary = f"127.0.0.1: {count} ports probed: {len(opened)} open, {closed} closed, 0 filtered"
    assert lines[-1] == summary
    assert len(everything.stdout.decode().splitlines()) == count + 2
