"""Server configuration: where to listen, through which doors, and the limits that
protect everyone.

Built once, in layers: the defaults here, then a TOML file (`--config`), then the
flags given on the command line (a flag not given changes nothing). The result is
checked as a whole (`problems`), whatever layer a value came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from soketler.core.archive import Retention

if TYPE_CHECKING:
    from soketler.security.operators import Operator

DEFAULT_PORT = 61000
DEFAULT_WEB_PORT = 8080  # what `soketler serve` serves the browser page on unless told
DEFAULT_SSH_PORT = 2222  # the usual choice for an SSH door; SSH is off unless a port is given
DEFAULT_IRC_PORT = 6667  # what `soketler serve` listens on for IRC unless told otherwise
# The TLS ports `soketler serve` opens when TLS is on (--tls, --tls-cert): the lines door's
# and IRC's (6697, as IANA registered "ircs-u").
DEFAULT_TLS_PORT = 61001
DEFAULT_IRC_TLS_PORT = 6697
LOG_LEVELS = ("debug", "info", "warning")
LOOPS = ("auto", "asyncio", "uvloop")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
WORKERS_NEED_REDIS = "--workers needs --redis: worker processes share rooms through Redis"


@dataclass(frozen=True, slots=True)
class Limits:
    """Every buffer and rate has a named limit (docs/protocol.md lists them)."""

    max_line: int = 4096  # bytes in one line, terminator excluded
    rate: float = 5.0  # lines per second a client may send on average (0: no limit)
    burst: int = 20  # lines a client may send at once before the rate applies
    # Lines waiting for the rate limit past which a client is cut ("Excess flood").
    # Fewer wait calmly: a paste is slowed down, not lost (reading stops meanwhile,
    # so at most what one read brought can wait).
    flood_lines: int = 300
    # Bytes the kernel has not taken from us for one client; above it for longer than
    # sendq_grace seconds, the client is not reading and is dropped (transport/backlog.py).
    sendq: int = 1 << 20
    sendq_grace: float = 10.0
    # Output waiting for all clients together past which the server stops reading
    # until it drains: TCP then slows the senders, and no reader is dropped.
    output_watermark: int = 32 << 20
    max_clients: int = 10_000
    max_per_address: int = 20  # 0: no limit
    nick_timeout: float = 60.0  # seconds to choose a nickname
    # Seconds without a byte from a client before it is asked whether it is still there
    # (IRC: a PING; TCP clients of doors that cannot be asked: the kernel's keepalive
    # probes), and seconds more for an answer before "Ping timeout": a dead peer must
    # not keep its nickname forever. 0: never.
    idle_timeout: float = 120.0
    ping_timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class Listener:
    """One way in: a door on TCP addresses and a port, or on a Unix socket."""

    door: str  # "lines" (telnet, nc, JSON lines), "irc", "web" (the page and its WebSocket), "ssh"
    hosts: tuple[str, ...] = ()  # empty: every address, IPv4 and IPv6
    port: int | None = None  # None: no TCP
    unix: str | None = None
    tls: bool = False  # speaks TLS (the server's certificate) before its door's protocol


@dataclass(frozen=True, slots=True)
class ServerConfig:
    hosts: tuple[str, ...] = ()  # empty: every address, IPv4 and IPv6
    port: int | None = DEFAULT_PORT  # the lines door's TCP port; None: no TCP
    unix: str | None = None  # the lines door on a Unix socket too
    limits: Limits = field(default_factory=Limits)
    close_words: bool = True
    server_name: str = ""  # shown in the welcome line; empty: this host's name
    db: str = ":memory:"  # history: an SQLite file, or ":memory:"
    replay: int = 20  # messages shown to someone joining a room; 0: none
    announce_limit: int = 1000  # joins/parts/quits announced in rooms up to this size
    retention: Retention = field(default_factory=Retention)
    # The browser door (HTTP: the page, /ws, /metrics): its port, 0 for none (`soketler
    # serve` starts from DEFAULT_WEB_PORT; a bare configuration, as in tests, has none);
    # its addresses (empty: those of `hosts`); the origins whose pages may open a
    # WebSocket (empty: a page of the same host and port).
    web_port: int = 0
    web_hosts: tuple[str, ...] = ()
    web_origins: tuple[str, ...] = ()
    # The SSH door (doors/ssh/): its port (None: off), its host key file (empty: made
    # once in the data folder), an authorized_keys file that alone decides who may log
    # in (empty: any key, and account passwords), and the seconds a connection has to
    # log in before it is cut.
    ssh_port: int | None = None
    ssh_host_key: str = ""
    ssh_allow_keys: str = ""
    ssh_login_timeout: float = 30.0
    # The IRC door's TCP port on the same addresses; 0: no IRC. (`soketler serve`
    # starts from DEFAULT_IRC_PORT; a bare configuration, as in tests, has none.)
    irc_port: int = 0
    network: str = ""  # the IRC network name (ISUPPORT NETWORK); empty: "soketler"
    motd: str = ""  # a file whose lines are the IRC message of the day; empty: none
    irc_password: str = ""  # the older name of `password`, from when only IRC asked for it
    # TLS (security/tls.py): on with `tls`, or with a certificate. Without `tls_cert`
    # the server makes a self-signed certificate once, in the data folder. Then the
    # lines door also listens on `tls_port` (None: not) and IRC on `irc_tls_port` (0:
    # not), the web door speaks HTTPS, and `plaintext = false` drops the plain TCP
    # listeners of the lines and IRC doors. `tls_client_ca`: client certificates signed
    # by these authorities are required. A handshake not done in
    # `tls_handshake_timeout` seconds is cut.
    tls: bool = False
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""
    tls_port: int | None = None
    irc_tls_port: int = 0
    tls_handshake_timeout: float = 10.0
    plaintext: bool = True
    # A password everyone must give before choosing a nickname (or instead, their
    # account's): the text itself, or a hash from `soketler user hash`. Empty: none.
    password: str = ""
    # Who may connect at all: address ranges (CIDR); the longest prefix decides, an
    # empty allow list lets in everyone not denied (security/access.py). Read again on
    # SIGHUP.
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    log_level: str = "info"  # what the server logs to stderr: debug, info, warning
    loop: str = "auto"  # the event loop: auto (uvloop when installed), asyncio, uvloop
    # Server operators (IRC's OPER): a TOML file's [operators.NAME] tables, checked.
    operators: tuple[Operator, ...] = ()
    # Cluster mode: the Redis (a server or a Redis Cluster) through which several
    # server processes and machines share rooms, nicknames and history; empty: this
    # process alone, history in `db`. Servers sharing a Redis share `redis_prefix`
    # (another prefix is another chat). `cluster_ttl`: seconds after which the names
    # and the presence of a node that died are free again.
    redis: str = ""
    redis_prefix: str = "soketler"
    cluster_ttl: float = 30.0
    # Server processes on this machine sharing the listening ports (SO_REUSEPORT),
    # coordinating through `redis`.
    workers: int = 1

    @property
    def tls_on(self) -> bool:
        """Whether the server speaks TLS (with its own certificate or a self-signed one)."""
        return self.tls or bool(self.tls_cert)

    @property
    def server_password(self) -> str:
        """The password everyone must give (`password`, or its older name)."""
        return self.password or self.irc_password

    @property
    def listeners(self) -> tuple[Listener, ...]:
        """Every listener entry, each a door on an address: a new door is a new entry."""
        found = []
        tls, plaintext = self.tls_on, self.plaintext or not self.tls_on
        if self.port is not None and plaintext:
            found.append(Listener("lines", self.hosts, self.port))
        if tls and self.tls_port is not None:
            found.append(Listener("lines", self.hosts, self.tls_port, tls=True))
        if self.unix:  # on this machine only: its file's permissions decide who comes
            found.append(Listener("lines", unix=self.unix))
        if self.irc_port and plaintext:
            found.append(Listener("irc", self.hosts, self.irc_port))
        if tls and self.irc_tls_port:
            found.append(Listener("irc", self.hosts, self.irc_tls_port, tls=True))
        if self.ssh_port is not None:
            found.append(Listener("ssh", self.hosts, self.ssh_port))
        if self.web_port:
            found.append(Listener("web", self.web_hosts or self.hosts, self.web_port, tls=tls))
        return tuple(found)

    def problems(self) -> list[str]:
        """What is wrong with this configuration, in words for the person who wrote it."""
        found = []
        limits = self.limits
        if self.port is not None and not 0 <= self.port <= 65535:
            found.append(f"invalid port {self.port}: use 0-65535")
        if not 0 <= self.web_port <= 65535:
            found.append(f"invalid web port {self.web_port}: use 1-65535, or 0 for none")
        elif self.web_port and self.web_port == self.port:
            found.append(f"the web port and the chat port are both {self.port}")
        if self.ssh_port is not None and not 0 <= self.ssh_port <= 65535:
            found.append(f"invalid ssh_port {self.ssh_port}: use 0-65535")
        if self.ssh_login_timeout <= 0:
            found.append("ssh_login_timeout must be more than 0")
        if (self.ssh_allow_keys or self.ssh_host_key) and self.ssh_port is None:
            found.append("ssh_allow_keys and ssh_host_key need ssh_port")
        if not 0 <= self.irc_port <= 65535:
            found.append(f"invalid IRC port {self.irc_port}: use 1-65535, or 0 for none")
        elif self.irc_port and self.irc_port == self.port:
            found.append(f"the IRC port and the chat port are both {self.port}")
        found += self._security_problems()
        if not self.listeners:
            found.append("nothing to listen on: give a port or a Unix socket")
        if limits.max_line < 16:
            found.append("max_line must be at least 16")
        if limits.burst < 1 or limits.rate < 0 or limits.flood_lines < 1:
            found.append("burst and flood_lines must be at least 1, rate at least 0")
        if limits.sendq < 1024 or limits.sendq_grace < 0:
            found.append("sendq must be at least 1024, sendq_grace at least 0")
        if limits.output_watermark < 65536:
            found.append("output_watermark must be at least 65536")
        if limits.idle_timeout < 0 or limits.ping_timeout < 0:
            found.append("idle_timeout and ping_timeout cannot be negative")
        if limits.max_clients < 1 or limits.max_per_address < 0 or limits.nick_timeout < 0:
            found.append("max_clients must be at least 1; max_per_address, nick_timeout 0 or more")
        if self.replay < 0 or self.retention.days < 0 or self.retention.messages < 0:
            found.append("replay, retain_days and retain_messages cannot be negative")
        if self.announce_limit < 0:
            found.append("announce_limit cannot be negative")
        if self.log_level not in LOG_LEVELS:
            found.append(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        if self.loop not in LOOPS:
            found.append(f"loop must be one of {', '.join(LOOPS)}")
        found += self._cluster_problems()
        return found

    def _cluster_problems(self) -> list[str]:
        found = []
        if self.redis and not self.redis.startswith(REDIS_SCHEMES):
            schemes = ", ".join(REDIS_SCHEMES)
            found.append(f"redis must be a URL ({schemes}): {self.redis}")
        if (
            not self.redis_prefix
            or len(self.redis_prefix) > 50
            or not all(c.isascii() and (c.isalnum() or c in "._:-") for c in self.redis_prefix)
        ):
            found.append("redis_prefix is 1-50 of A-Z a-z 0-9 . _ : -")
        if self.cluster_ttl < 3:
            found.append("cluster_ttl must be at least 3 seconds")
        if self.workers < 1:
            found.append("workers must be at least 1")
        elif self.workers > 1 and not self.redis:
            found.append(WORKERS_NEED_REDIS)
        return found

    def _security_problems(self) -> list[str]:
        found = []
        if self.tls_key and not self.tls_cert:
            found.append("tls_key needs tls_cert")
        if self.tls_client_ca and not self.tls_on:
            found.append("tls_client_ca needs TLS (tls or tls_cert)")
        if not self.plaintext and not self.tls_on:
            found.append("plaintext = false (--no-plaintext) needs TLS (--tls or --tls-cert)")
        if self.tls_handshake_timeout <= 0:
            found.append("tls_handshake_timeout must be more than 0")
        if self.tls_port is not None and not 0 <= self.tls_port <= 65535:
            found.append(f"invalid tls_port {self.tls_port}: use 0-65535")
        elif self.tls_on and self.tls_port and self.tls_port == self.port and self.plaintext:
            found.append(f"the TLS port and the chat port are both {self.port}")
        if not 0 <= self.irc_tls_port <= 65535:
            found.append(f"invalid irc_tls_port {self.irc_tls_port}: use 1-65535, or 0 for none")
        elif self.tls_on and self.irc_tls_port and self.irc_tls_port == self.irc_port:
            found.append(f"the IRC TLS port and the IRC port are both {self.irc_port}")
        # Imported here: `soketler --help` reads this module and must start fast.
        from soketler.security.access import AccessList, AccessListError

        try:
            AccessList(self.allow, self.deny)
        except AccessListError as exc:
            found.append(f"allow/deny: {exc}")
        return found


# Where each setting lives: a flag's or a file key's name -> (section, field). The
# top-level ones have no section; "limits" and "retention" are nested records.
SETTINGS: dict[str, tuple[str, str]] = {
    **{
        f.name: ("", f.name)
        for f in fields(ServerConfig)
        if f.name not in ("limits", "retention", "operators")
    },
    **{f.name: ("limits", f.name) for f in fields(Limits)},
    "retain_days": ("retention", "days"),
    "retain_messages": ("retention", "messages"),
}


# Settings that are lists of text (an environment variable gives them comma-separated).
LISTS = frozenset({"hosts", "web_hosts", "web_origins", "allow", "deny"})


class ConfigError(ValueError):
    """A configuration that cannot be used; the text says why, for people."""


def build(layers: Sequence[Mapping[str, Any]], base: ServerConfig | None = None) -> ServerConfig:
    """The defaults (or `base`), then each layer in turn: a layer gives settings by the
    names in SETTINGS (a TOML file's tables [limits] and [retention] may hold theirs);
    None means "not given". Raises ConfigError for a name that is no setting."""
    config = base or ServerConfig()
    for layer in layers:
        flat: dict[str, Any] = {}
        for name, value in layer.items():
            if name == "operators":
                # Imported here: `soketler --help` reads this module and must start fast.
                from soketler.security.operators import (
                    OperatorConfigError,
                    operators_from_config,
                )

                try:
                    flat[name] = tuple(operators_from_config(value))
                except OperatorConfigError as exc:
                    raise ConfigError(str(exc)) from None
                except AttributeError:
                    raise ConfigError("operators must be a table of [operators.NAME]") from None
            elif name in ("limits", "retention") and isinstance(value, Mapping):
                for inner, inner_value in value.items():
                    key = "retain_" + inner if name == "retention" else inner
                    if SETTINGS.get(key, ("", ""))[0] != name:
                        raise ConfigError(f"unknown setting {name}.{inner}")
                    flat[key] = inner_value
            elif name in SETTINGS:
                flat[name] = value
            else:
                raise ConfigError(f"unknown setting {name}")
        config = _apply(config, {k: v for k, v in flat.items() if v is not None})
    return config


def current(config: ServerConfig, name: str) -> Any:
    """The value a setting has in `config`."""
    if name == "operators":
        return config.operators
    section, attr = SETTINGS[name]
    return getattr(getattr(config, section) if section else config, attr)


def _checked(name: str, value: Any, current: Any) -> Any:
    """`value` as the kind of value the setting holds (a TOML file can say anything)."""
    if isinstance(current, bool) or name == "close_words":
        ok = isinstance(value, bool)
    elif isinstance(current, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(current, int) or name == "port" or name.endswith("_port"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif name == "operators":
        ok = isinstance(value, tuple)
    elif name in LISTS:
        ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"{name} cannot be {value!r}")
    return value


def _apply(config: ServerConfig, given: Mapping[str, Any]) -> ServerConfig:
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {"limits": {}, "retention": {}}
    for name, value in given.items():
        value = _checked(name, value, current(config, name))
        section, attr = SETTINGS.get(name, ("", name))
        if section:
            nested[section][attr] = value
        else:
            top[attr] = value
    if nested["limits"]:
        top["limits"] = replace(config.limits, **nested["limits"])
    if nested["retention"]:
        top["retention"] = replace(config.retention, **nested["retention"])
    return replace(config, **top)
