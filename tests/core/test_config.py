"""One configuration: defaults, then a TOML file, then the flags given; checked whole."""

from __future__ import annotations

import pytest

from soketler.core.config import ConfigError, Limits, Listener, ServerConfig, build


def test_layers_apply_in_order_and_none_means_not_given() -> None:
    file = {"port": 7000, "replay": 5, "limits": {"rate": 2, "sendq": 4096}}
    flags = {"port": 7001, "replay": None, "max_line": 512, "retain_days": 3.5}
    config = build([file, flags])
    assert config.port == 7001  # the flag wins
    assert config.replay == 5  # not given as a flag: the file's
    assert config.limits == Limits(rate=2.0, sendq=4096, max_line=512)
    assert config.retention.days == 3.5
    assert config.problems() == []


def test_unknown_settings_and_wrong_kinds_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="unknown setting colour"):
        build([{"colour": "blue"}])
    with pytest.raises(ConfigError, match=r"unknown setting limits\.speed"):
        build([{"limits": {"speed": 1}}])
    with pytest.raises(ConfigError, match="max_line cannot be 'long'"):
        build([{"limits": {"max_line": "long"}}])
    with pytest.raises(ConfigError, match="close_words cannot be 1"):
        build([{"close_words": 1}])
    with pytest.raises(ConfigError, match="hosts cannot be"):
        build([{"hosts": "127.0.0.1"}])


def test_problems_are_found_on_the_whole_configuration() -> None:
    bad = build([{"port": 70000, "limits": {"max_line": 3, "sendq": 10}}])
    problems = " ".join(bad.problems())
    assert "invalid port 70000" in problems and "max_line" in problems and "sendq" in problems
    assert "nothing to listen on" in " ".join(ServerConfig(port=None).problems())


def test_listeners_are_entries_of_a_door_on_an_address() -> None:
    config = ServerConfig(hosts=("127.0.0.1",), port=0, unix="/tmp/x.sock")
    assert config.listeners == (
        Listener("lines", ("127.0.0.1",), 0),
        Listener("lines", unix="/tmp/x.sock"),
    )
    assert ServerConfig(port=None, unix="/tmp/x.sock").listeners == (
        Listener("lines", unix="/tmp/x.sock"),
    )


def test_the_web_door_is_an_entry_on_its_own_port_and_addresses() -> None:
    config = ServerConfig(hosts=("127.0.0.1", "::1"), port=0, web_port=8080)
    assert config.listeners[-1] == Listener("web", ("127.0.0.1", "::1"), 8080)
    elsewhere = build([{"web_port": 9000, "web_hosts": ["0.0.0.0"]}], config)
    assert elsewhere.listeners[-1] == Listener("web", ("0.0.0.0",), 9000)
    assert all(entry.door != "web" for entry in ServerConfig(port=0).listeners)  # 0: none
    assert ServerConfig(port=None, web_port=8080).problems() == []  # the web door alone
    assert "invalid web port 70000" in " ".join(ServerConfig(web_port=70000).problems())
    same = ServerConfig(port=8080, web_port=8080).problems()
    assert same == ["the web port and the chat port are both 8080"]
    with pytest.raises(ConfigError, match="web_origins cannot be"):
        build([{"web_origins": "https://chat.example.org"}])


def test_the_ssh_door_is_an_entry_when_it_has_a_port() -> None:
    assert not any(entry.door == "ssh" for entry in ServerConfig().listeners)
    config = build([{"ssh_port": 2222, "hosts": ["127.0.0.1"]}, {"ssh_login_timeout": 5}])
    assert config.listeners[-1] == Listener("ssh", ("127.0.0.1",), 2222)
    assert config.ssh_login_timeout == 5.0
    assert config.problems() == []
    with pytest.raises(ConfigError, match="ssh_port cannot be '2222'"):
        build([{"ssh_port": "2222"}])
    problems = " ".join(build([{"ssh_port": 70000, "ssh_login_timeout": 0}]).problems())
    assert "invalid ssh_port 70000" in problems and "ssh_login_timeout" in problems
    alone = " ".join(build([{"ssh_allow_keys": "keys"}]).problems())
    assert "ssh_allow_keys and ssh_host_key need ssh_port" in alone


def test_the_irc_door_is_an_entry_and_its_settings_are_keys() -> None:
    from soketler.security.passwords import MIN_LOG_N, ScryptCost, hash_password

    hashed = hash_password("operpassword", ScryptCost(MIN_LOG_N))
    file = {
        "irc_port": 6668,
        "network": "kahve",
        "irc_password": "sesame",
        "operators": {"alice": {"password": hashed, "hosts": ["127.0.0.0/8"]}},
    }
    config = build([file, {"irc_port": None}], ServerConfig(hosts=("127.0.0.1",), port=0))
    assert config.listeners == (
        Listener("lines", ("127.0.0.1",), 0),
        Listener("irc", ("127.0.0.1",), 6668),
    )
    assert (config.network, config.irc_password) == ("kahve", "sesame")
    [alice] = config.operators
    assert alice.name == "alice" and alice.password_hash == hashed
    assert config.problems() == []
    assert ServerConfig().irc_port == 0  # a bare configuration has no IRC door
    clash = build([{"port": 6667, "irc_port": 6667}])
    assert "both 6667" in " ".join(clash.problems())
    assert "invalid IRC port" in " ".join(build([{"irc_port": 70000}]).problems())
    with pytest.raises(ConfigError, match="must be a hash"):
        build([{"operators": {"bob": {"password": "plain text"}}}])


def test_cluster_settings_are_keys_and_are_checked() -> None:
    config = build([{"redis": "redis://127.0.0.1:6379", "workers": 4, "cluster_ttl": 10}])
    assert (config.redis, config.workers, config.cluster_ttl) == ("redis://127.0.0.1:6379", 4, 10.0)
    assert config.problems() == []
    assert ServerConfig(workers=2).problems() == [
        "--workers needs --redis: worker processes share rooms through Redis"
    ]
    wrong = ServerConfig(
        redis="localhost:6379", redis_prefix="has space", cluster_ttl=1, workers=0
    ).problems()
    assert wrong == [
        "redis must be a URL (redis://, rediss://, unix://): localhost:6379",
        "redis_prefix is 1-50 of A-Z a-z 0-9 . _ : -",
        "cluster_ttl must be at least 3 seconds",
        "workers must be at least 1",
    ]
    with pytest.raises(ConfigError):
        build([{"workers": "two"}])
