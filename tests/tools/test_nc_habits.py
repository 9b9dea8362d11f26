"""What nc users type: it works where the meaning is the same, and explains itself otherwise."""

from __future__ import annotations

import subprocess

import pytest

from soketler import exitcodes
from soketler.tools.portspec import PortSpecError, parse_port, parse_ports
from tests.tools.support import free_port, run_tool, running


def test_listen_port_as_an_argument_and_connect_with_nc_flags() -> None:
    """`listen -lv ADDR PORT` as nc -l takes it; `connect -nvN -p SRC` with a source port."""
    port, source = free_port(), free_port()
    with running(["listen", "-lv", "127.0.0.1", str(port)], stdin=subprocess.DEVNULL) as server:
        assert server.listening_port() == port
        client = run_tool(
            ["connect", "-nvN", "-p", str(source), "127.0.0.1", str(port)],
            input=b"from nc habits\n",
        )
        assert client.returncode == 0, client.stderr
        assert f"connected to 127.0.0.1 port {port}".encode() in client.stderr
        server.stderr.wait_for(rf"connection from 127\.0\.0\.1 port {source}\b")
        code, out = server.finish()
        assert (code, out) == (0, b"from nc habits\n")


def test_listen_takes_a_lone_port_and_combined_flags() -> None:
    port = free_port()
    with running(["listen", "-lk", "-s", "127.0.0.1", "-v", str(port), "--echo"]) as server:
        assert server.listening_port() == port
        client = run_tool(["connect", "-q", "2", "127.0.0.1", str(port)], input=b"echo me\n")
        assert client.stdout == b"echo me\n", client.stderr


@pytest.mark.parametrize(
    ("args", "usage", "hint"),
    [
        (
            ["connect", "-z", "127.0.0.1", "80"],
            "connect",
            "did you mean `soketler probe 127.0.0.1 80`?",
        ),
        (["connect", "-zv", "127.0.0.1", "20-30"], "connect", "`soketler probe 127.0.0.1 20-30`"),
        (["connect", "-vz", "127.0.0.1", "80"], "connect", "`soketler probe 127.0.0.1 80`"),
        (["connect", "-l", "5555"], "connect", "did you mean `soketler listen PORT`?"),
        (["connect", "-e", "/bin/sh", "h", "1"], "connect", "soketler runs no program"),
        (["listen", "-lz"], "listen", "soketler probe"),
        (["listen", "--bogus"], "listen", None),
        (["serve", "--bogus"], "serve", None),
        (["chat", "-x"], "chat", None),
    ],
)
def test_a_mistake_prints_the_subcommands_usage_and_a_hint(
    args: list[str], usage: str, hint: str | None
) -> None:
    done = run_tool(args)
    err = done.stderr.decode()
    assert done.returncode == exitcodes.USAGE
    assert err.startswith(f"usage: soketler {usage} "), err
    assert "COMMAND ..." not in err  # not the top-level usage
    assert "Traceback" not in err
    if hint is not None:
        assert hint in err
    error = next(line for line in err.splitlines() if ": error: " in line)
    assert error.startswith(f"soketler {usage}: error: unrecognized arguments: -")


def test_the_vz_case_names_the_unknown_letter() -> None:
    err = run_tool(["connect", "-vz", "127.0.0.1", "80"]).stderr.decode()
    assert "unrecognized arguments: -z (in -vz)" in err


def test_connect_p_is_the_source_port_and_its_value_is_quoted() -> None:
    done = run_tool(["connect", "-p", "5555", "127.0.0.1"])
    err = done.stderr.decode()
    assert done.returncode == exitcodes.USAGE
    assert "-p 5555 is the local port to connect from" in err and "'1'" not in err
    done = run_tool(["connect", "-p", "99999", "127.0.0.1", "1"])
    assert done.returncode == exitcodes.USAGE
    assert "-p (local port): invalid port: 99999" in done.stderr.decode()


def test_connect_takes_a_service_name_for_the_port() -> None:
    # Whether or not something answers on port 80 here, the name is the port.
    done = run_tool(["connect", "-v", "-q", "0", "-w", "2", "127.0.0.1", "http"])
    err = done.stderr.decode()
    assert "127.0.0.1 port 80" in err and "invalid port" not in err, err
    done = run_tool(["connect", "127.0.0.1", "no-such-service-name"])
    assert done.returncode == exitcodes.USAGE
    assert "or a service name" in done.stderr.decode()


def test_n_looks_up_no_names() -> None:
    done = run_tool(["connect", "-n", "localhost", "1"])
    assert done.returncode == exitcodes.UNKNOWN_HOST
    assert done.stderr.decode().strip() == (
        "soketler connect: not a numeric address: localhost (-n looks up no names)"
    )
    # Numbers only for ports too: a service name is a lookup.
    done = run_tool(["connect", "-n", "127.0.0.1", "http"])
    assert done.returncode == exitcodes.USAGE


def test_listen_arguments_that_disagree_are_refused() -> None:
    done = run_tool(["listen", "-p", "5", "6"])
    assert done.returncode == exitcodes.USAGE
    assert done.stderr.decode().strip() == "soketler listen: -p 5 and 6 disagree: give one"


def test_service_names_in_port_specs() -> None:
    assert parse_port("http", protocol="tcp") == 80
    assert parse_port("WWW", protocol="tcp") == 80  # an alias, any case
    assert parse_port("domain", protocol="udp") == 53
    assert parse_ports("ssh,http,ftp-data,8000-8001", protocol="tcp") == [20, 22, 80, 8000, 8001]
    with pytest.raises(PortSpecError):
        parse_port("http")  # the Python API takes names only when told the protocol
    with pytest.raises(PortSpecError):
        parse_ports("ssh-http", protocol="tcp")
