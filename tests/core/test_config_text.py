"""Settings from SOKETLER_* environment variables, between the file and the flags, and
the effective configuration printed as TOML with every password hidden."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from soketler.cli import build_parser
from soketler.core.config import (
    SETTINGS,
    ConfigError,
    Listener,
    ServerConfig,
    build,
    current,
)
from soketler.core.configtext import HIDDEN, environment_layer, render, variable
from soketler.security.operators import operators_from_config
from soketler.security.passwords import ScryptCost, hash_password
from soketler.transport.serve import configured

CHEAP = ScryptCost(log_n=10)


def args(*words: str) -> object:
    return build_parser().parse_args(["serve", *words])


def test_every_setting_has_its_variable_read_as_its_kind() -> None:
    base = ServerConfig()
    environ = {
        "SOKETLER_PORT": "7000",
        "SOKETLER_TLS": "yes",
        "SOKETLER_PLAINTEXT": "false",
        "SOKETLER_RATE": "2.5",
        "SOKETLER_DENY": "10.0.0.0/8, 192.0.2.0/24",
        "SOKETLER_SERVER_NAME": "kahve",
        "SOKETLER_RETAIN_DAYS": "30",
        "SOKETLER_NOT_A_SETTING": "ignored: another program's",
    }
    layer = environment_layer(environ, base)
    assert layer == {
        "port": 7000,
        "tls": True,
        "plaintext": False,
        "rate": 2.5,
        "deny": ["10.0.0.0/8", "192.0.2.0/24"],
        "server_name": "kahve",
        "retain_days": 30.0,
    }
    config = build([layer], base)
    assert (config.port, config.limits.rate, config.deny) == (
        7000,
        2.5,
        ("10.0.0.0/8", "192.0.2.0/24"),
    )
    assert all(variable(name) == "SOKETLER_" + name.upper() for name in SETTINGS)
    with pytest.raises(ConfigError, match="SOKETLER_MAX_CLIENTS cannot be 'many'"):
        environment_layer({"SOKETLER_MAX_CLIENTS": "many"}, base)
    with pytest.raises(ConfigError, match="SOKETLER_TLS cannot be 'maybe'"):
        environment_layer({"SOKETLER_TLS": "maybe"}, base)


def test_the_environment_comes_between_the_file_and_the_flags(tmp_path: Path) -> None:
    file = tmp_path / "soketler.toml"
    file.write_text('server_name = "from-file"\nreplay = 5\nport = 7000\n[limits]\nburst = 3\n')
    environ = {"SOKETLER_REPLAY": "7", "SOKETLER_PORT": "7100", "SOKETLER_CONFIG": str(file)}
    config, sources = configured(args("--port", "7200"), environ)  # type: ignore[arg-type]
    assert (config.server_name, config.replay, config.port) == ("from-file", 7, 7200)
    assert config.limits.burst == 3
    assert sources["server_name"] == "file" and sources["burst"] == "file"
    assert sources["replay"] == "environment" and sources["port"] == "flag"
    assert "rate" not in sources


def test_irc_port_zero_means_no_irc_at_all_unless_its_tls_port_is_given() -> None:
    config, _ = configured(args("--tls", "--irc-port", "0"), {})  # type: ignore[arg-type]
    assert all(entry.door != "irc" for entry in config.listeners)
    config, _ = configured(args("--tls", "--irc-port", "0", "--irc-tls-port", "6697"), {})  # type: ignore[arg-type]
    assert [entry for entry in config.listeners if entry.door == "irc"] == [
        Listener("irc", (), 6697, tls=True)
    ]


def test_tls_listeners_and_no_plaintext() -> None:
    config = ServerConfig(tls=True, tls_port=61001, irc_port=6667, irc_tls_port=6697, web_port=8080)
    assert [(e.door, e.port, e.tls) for e in config.listeners] == [
        ("lines", 61000, False),
        ("lines", 61001, True),
        ("irc", 6667, False),
        ("irc", 6697, True),
        ("web", 8080, True),
    ]
    tls_only = replace(config, plaintext=False, unix="/tmp/s.sock")
    assert [(e.door, e.port, e.tls) for e in tls_only.listeners] == [
        ("lines", 61001, True),
        ("lines", None, False),  # the Unix socket stays: this machine only
        ("irc", 6697, True),
        ("web", 8080, True),
    ]
    problems = " ".join(
        ServerConfig(plaintext=False, tls_key="k.pem", allow=("10.0.0.1/8",)).problems()
    )
    assert "needs TLS" in problems and "tls_key needs tls_cert" in problems
    assert "did you mean 10.0.0.0/8" in problems


def test_print_config_hides_passwords_and_reads_back(tmp_path: Path) -> None:
    hashed = hash_password("operator secret", CHEAP)
    config = replace(
        ServerConfig(),
        password="server secret",
        irc_password="",
        deny=("203.0.113.0/24",),
        tls_cert="/etc/ssl/chat.pem",
        operators=tuple(
            operators_from_config({"root": {"password": hashed, "hosts": ["10.0.0.0/8"]}})
        ),
    )
    text = render(config, {"password": "flag", "deny": "file"})
    assert "server secret" not in text and hashed not in text
    assert f'password = "{HIDDEN}"  # flag' in text
    assert 'irc_password = ""  # default' in text  # empty: nothing to hide
    assert 'deny = ["203.0.113.0/24"]  # file' in text
    assert "# ssh_port = (none)  # default" in text
    read = tomllib.loads(text)
    assert read["operators"]["root"] == {"password": HIDDEN, "hosts": ["10.0.0.0/8"]}
    # With the secrets put back, the printed file is the same configuration.
    read["password"] = "server secret"
    del read["operators"]
    again = build([read])
    for name in SETTINGS:
        assert current(again, name) == current(config, name), name
