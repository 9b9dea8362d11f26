"""`soketler serve`: the chat server (arguments only).

Every option defaults to "not given" (None): the configuration is built from the
defaults, then `--config FILE`, then the options given, and checked as a whole
(core/config.py). The help shows each default from the same place.
"""

from __future__ import annotations

import argparse
from typing import Any

from soketler.core.config import (
    DEFAULT_IRC_PORT,
    DEFAULT_IRC_TLS_PORT,
    DEFAULT_PORT,
    DEFAULT_SSH_PORT,
    DEFAULT_TLS_PORT,
    DEFAULT_WEB_PORT,
    LOG_LEVELS,
    LOOPS,
    Limits,
    ServerConfig,
)

EXAMPLES = """\
examples:
  soketler serve                          all addresses, IPv4 and IPv6, port 61000 (IRC: 6667)
  soketler serve --host 127.0.0.1        this machine only
  soketler serve --port 7000 --unix /tmp/chat.sock
  soketler serve --unix /tmp/chat.sock   only the Unix socket, no TCP
  soketler serve --config soketler.toml  settings from a file (flags still win)
  soketler serve --irc-port 0 --web-port 0   no IRC, no browser page
  soketler serve --ssh-port 2222         also an SSH door: ssh -p 2222 ayse@localhost
  soketler serve --tls                   also TLS on 61001 (IRC: 6697), a self-signed certificate
  soketler serve --tls-cert full.pem --tls-key key.pem --no-plaintext   TLS only
  soketler serve --deny 203.0.113.0/24   keep a network out (kill -HUP reads lists again)
  soketler serve --print-config          the settings in effect (file, SOKETLER_*, flags)
  soketler serve --redis redis://127.0.0.1:6379 --workers 2   two processes, one port
  telnet localhost 61000                  then chat; /help lists the commands
  irssi -c localhost -p 6667 -n ayse      the same rooms from an IRC client
  http://localhost:8080                   the same rooms in a browser
"""

_LIMITS = Limits()
_SERVER = ServerConfig()


def _mib(size: int) -> str:
    return f"{size >> 20} MiB" if size % (1 << 20) == 0 else f"{size} bytes"


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="run the multi-user chat server",
        description="Run the chat server: the same rooms and nicknames for telnet/nc "
        "users, JSON-lines clients, IRC clients and ssh users (--ssh-port).",
        epilog=EXAMPLES,
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML file of settings, named like these options with _ for - "
        "(limits may be under [limits]); SOKETLER_<NAME> environment variables come "
        "next, and options given here win (default: $SOKETLER_CONFIG, or none)",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the configuration in effect as TOML, passwords hidden, and exit",
    )
    net = parser.add_argument_group("where to listen")
    net.add_argument(
        "--host",
        dest="hosts",
        action="append",
        metavar="ADDR",
        help="address to listen on; repeatable (default: all addresses, IPv4 and IPv6)",
    )
    net.add_argument(
        "--port",
        "-p",
        type=int,
        help=f"TCP port for telnet, nc and JSON lines (default {DEFAULT_PORT})",
    )
    net.add_argument(
        "--irc-port",
        type=int,
        metavar="PORT",
        help=f"TCP port for IRC clients, on the same addresses (default {DEFAULT_IRC_PORT}; "
        "0: no IRC)",
    )
    net.add_argument(
        "--unix",
        metavar="PATH",
        help="listen on this Unix socket; alone, only there (no TCP unless --port or --host; "
        "default: no Unix socket)",
    )
    web = parser.add_argument_group("the browser page (HTTP and WebSocket)")
    web.add_argument(
        "--web-port",
        type=int,
        metavar="PORT",
        help=f"TCP port of the page, its WebSocket /ws and /metrics (default {DEFAULT_WEB_PORT}; "
        "0: no web)",
    )
    web.add_argument(
        "--web-host",
        dest="web_hosts",
        action="append",
        metavar="ADDR",
        help="address for the web port; repeatable (default: those of --host)",
    )
    web.add_argument(
        "--web-origin",
        dest="web_origins",
        action="append",
        metavar="ORIGIN",
        help="a page origin (scheme://host[:port]) that may open the WebSocket; repeatable "
        "(default: pages of the same host and port)",
    )
    net.add_argument(
        "--loop",
        choices=LOOPS,
        help="event loop (default: uvloop when installed)",
    )
    tls = parser.add_argument_group(
        "TLS (kill -HUP reads the certificate again; open connections keep theirs)"
    )
    tls.add_argument(
        "--tls",
        action="store_const",
        const=True,
        help="also listen with TLS: the lines door on --tls-port, IRC on --irc-tls-port, "
        "and the web page over HTTPS; without --tls-cert, a self-signed certificate is made "
        "once in your user data folder and its fingerprint printed (default: off)",
    )
    tls.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="PEM certificate chain, leaf first (it may hold the key too); turns TLS on "
        "(default: none)",
    )
    tls.add_argument(
        "--tls-key", metavar="FILE", help="PEM private key of --tls-cert (default: in --tls-cert)"
    )
    tls.add_argument(
        "--tls-client-ca",
        metavar="FILE",
        help="require client certificates signed by these PEM authorities (default: none)",
    )
    tls.add_argument(
        "--tls-port",
        type=int,
        metavar="PORT",
        help=f"TLS port of the lines door (default {DEFAULT_TLS_PORT})",
    )
    tls.add_argument(
        "--irc-tls-port",
        type=int,
        metavar="PORT",
        help=f"TLS port for IRC clients (default {DEFAULT_IRC_TLS_PORT}; 0: none)",
    )
    tls.add_argument(
        "--no-plaintext",
        dest="plaintext",
        action="store_const",
        const=False,
        help="with TLS, do not listen on the plaintext ports (--port, --irc-port); "
        "a --unix socket stays",
    )
    tls.add_argument(
        "--tls-handshake-timeout",
        type=float,
        metavar="SECONDS",
        help=f"cut a TLS handshake not done by then (default {_SERVER.tls_handshake_timeout:g})",
    )
    access = parser.add_argument_group(
        "who may come in (kill -HUP reads the config file's lists again)"
    )
    access.add_argument(
        "--password",
        metavar="TEXT",
        help="a password everyone must give (IRC: PASS; plain: asked after the nickname; "
        "JSON: hello's password), or a hash from `soketler user hash`; an account's own "
        "password does too (default: none; better in the config file or SOKETLER_PASSWORD)",
    )
    access.add_argument(
        "--allow",
        action="append",
        metavar="CIDR",
        help="only addresses in these ranges may connect; repeatable (default: everyone)",
    )
    access.add_argument(
        "--deny",
        action="append",
        metavar="CIDR",
        help="addresses in these ranges may not connect; repeatable; the longest "
        "matching prefix of both lists decides (default: none)",
    )
    ssh = parser.add_argument_group("SSH door (off unless --ssh-port is given)")
    ssh.add_argument(
        "--ssh-port",
        type=int,
        metavar="PORT",
        help=f"also listen for ssh clients on PORT, {DEFAULT_SSH_PORT} as a rule (default: off); "
        "the SSH user name is the nickname, and the first key used for a nickname keeps it",
    )
    ssh.add_argument(
        "--ssh-host-key",
        metavar="FILE",
        help="the server's SSH host key (default: made once, then kept, in your user data folder)",
    )
    ssh.add_argument(
        "--ssh-allow-keys",
        metavar="FILE",
        help="an authorized_keys file: only the keys it lists may log in, and no passwords; "
        "read again when it changes (default: none, any key may log in)",
    )
    ssh.add_argument(
        "--ssh-login-timeout",
        type=float,
        metavar="SECONDS",
        help="time an SSH connection has to log in before it is cut "
        f"(default {_SERVER.ssh_login_timeout:g})",
    )
    chat = parser.add_argument_group("chat")
    chat.add_argument(
        "--no-close-words",
        dest="close_words",
        action="store_const",
        const=False,
        help="do not end a session on a line that is only bye/close/quit/q/kapat/exit",
    )
    chat.add_argument(
        "--server-name",
        metavar="NAME",
        help="name shown in the welcome line and IRC replies (default: host name)",
    )
    irc = parser.add_argument_group(
        "IRC", "operators (OPER) are [operators.NAME] tables of the --config file"
    )
    irc.add_argument("--network", metavar="NAME", help="IRC network name (default soketler)")
    irc.add_argument(
        "--motd",
        metavar="FILE",
        help="a text file shown to IRC clients as the message of the day (default: none)",
    )
    irc.add_argument(
        "--irc-password",
        metavar="TEXT",
        help="the older name of --password (default: none)",
    )
    chat.add_argument(
        "--announce-limit",
        type=int,
        metavar="N",
        help="announce joins, parts and quits only in rooms of up to N people "
        f"(default {_SERVER.announce_limit}; 0: always)",
    )
    history = parser.add_argument_group("history")
    history.add_argument(
        "--db",
        metavar="PATH",
        help="SQLite file for history (default: history.sqlite3 in your user data folder); "
        "':memory:' keeps history only while the server runs",
    )
    history.add_argument(
        "--replay",
        type=int,
        metavar="N",
        help=f"messages shown on join (default {_SERVER.replay}; 0: none)",
    )
    history.add_argument(
        "--retain-days", type=float, metavar="DAYS", help="delete older messages (default 0: keep)"
    )
    history.add_argument(
        "--retain-messages",
        type=int,
        metavar="N",
        help="keep the newest N per room and private conversation (default 0: no limit)",
    )
    cluster = parser.add_argument_group(
        "cluster (several processes and machines sharing rooms through Redis)"
    )
    cluster.add_argument(
        "--redis",
        metavar="URL",
        help="cluster mode: share rooms, nicknames and history with every server using this "
        "Redis (redis://HOST:PORT, a Redis Cluster too); history lives there, not in --db "
        "(default: none, this process alone)",
    )
    cluster.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run N server processes sharing the listening ports (needs --redis; default 1)",
    )
    cluster.add_argument(
        "--redis-prefix",
        metavar="NAME",
        help=f"the names of this chat's keys in Redis (default {_SERVER.redis_prefix})",
    )
    cluster.add_argument(
        "--cluster-ttl",
        type=float,
        metavar="SECONDS",
        help="how soon the nicknames of a server that died are free again "
        f"(default {_SERVER.cluster_ttl:g})",
    )
    limits = parser.add_argument_group("limits (0 turns a limit off where noted)")
    limits.add_argument(
        "--max-line",
        type=int,
        metavar="BYTES",
        help=f"longest line a client may send (default {_LIMITS.max_line})",
    )
    limits.add_argument(
        "--rate",
        type=float,
        metavar="LINES",
        help=f"lines per second a client may send (default {_LIMITS.rate:g}; 0: off)",
    )
    limits.add_argument(
        "--burst",
        type=int,
        metavar="LINES",
        help=f"lines a client may send at once before the rate applies (default {_LIMITS.burst})",
    )
    limits.add_argument(
        "--flood-lines",
        type=int,
        metavar="LINES",
        help="lines waiting for the rate past which 'Excess flood' disconnects "
        f"(default {_LIMITS.flood_lines}; fewer are just slowed down)",
    )
    limits.add_argument(
        "--sendq",
        type=int,
        metavar="BYTES",
        help="unsent bytes a client may have before it counts as not reading "
        f"(default {_mib(_LIMITS.sendq)}; eight times it drops the client at once)",
    )
    limits.add_argument(
        "--sendq-grace",
        type=float,
        metavar="SECONDS",
        help="how long a client may stay above its SendQ before it is dropped "
        f"(default {_LIMITS.sendq_grace:g})",
    )
    limits.add_argument(
        "--output-watermark",
        type=int,
        metavar="BYTES",
        help="output waiting for all clients past which the server stops reading until "
        f"it drains (default {_mib(_LIMITS.output_watermark)})",
    )
    limits.add_argument(
        "--max-clients",
        type=int,
        metavar="N",
        help=f"connections in all (default {_LIMITS.max_clients})",
    )
    limits.add_argument(
        "--max-per-address",
        type=int,
        metavar="N",
        help=f"connections per address (default {_LIMITS.max_per_address}; 0: off)",
    )
    limits.add_argument(
        "--nick-timeout",
        type=float,
        metavar="SECONDS",
        help=f"time to choose a nickname (default {_LIMITS.nick_timeout:g}; 0: off)",
    )
    limits.add_argument(
        "--idle-timeout",
        type=float,
        metavar="SECONDS",
        help="silence after which a client is asked whether it is there (IRC: PING; "
        f"others: TCP keepalive) (default {_LIMITS.idle_timeout:g}; 0: never)",
    )
    limits.add_argument(
        "--ping-timeout",
        type=float,
        metavar="SECONDS",
        help="time to answer before 'Ping timeout' ends the connection "
        f"(default {_LIMITS.ping_timeout:g})",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        help=f"what the server logs to stderr (default {_SERVER.log_level})",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from soketler.transport.serve import run_from_args

    return run_from_args(args)
