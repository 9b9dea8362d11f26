"""The netcat-style tools: connect, listen, resolve, ports, probe (arguments only).

Option letters follow nc/ncat wherever the meaning is the same.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from soketler.commands.parser import short_flags

EXIT_CODES = """\
exit codes:
  0 ok   1 no (e.g. no open port)   2 bad arguments or invalid port   3 unknown host
  4 connection refused   5 unreachable   6 timed out   7 address in use
  8 permission denied (ports below 1024 need root)   10 connection reset
  12 TLS: certificate refused (untrusted, expired, wrong name or fingerprint), not
     loadable, or the handshake failed   130 Ctrl-C
"""

CONNECT_USAGE = """\
soketler connect [options] HOST PORT
       soketler connect [options] -U PATH"""

LISTEN_USAGE = """\
soketler listen [options] [[ADDR] PORT]
       soketler listen [options] -U PATH"""

CONNECT_EXAMPLES = """\
examples:
  soketler connect localhost 12345                type lines, see the replies
  soketler connect 127.0.0.1 http                 a service name for the port
  soketler connect -nv -p 5555 127.0.0.1 12345    no DNS; from local port 5555
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | soketler connect example.org 80
  soketler connect -C mail.example.org 25         send CRLF line endings (SMTP, HTTP)
  soketler connect -u 127.0.0.1 5353 -q 1         UDP; quit 1 s after stdin ends
  soketler connect -U /tmp/chat.sock              a Unix stream socket
  soketler connect --hex localhost 12345 < /dev/null   hex dump of what arrives
  soketler listen -p 9000 > copy.bin & soketler connect localhost 9000 < file.bin
  soketler connect --tls example.org 443          TLS, the certificate and name verified
  soketler connect --tls-fingerprint AB:CD:... localhost 9000   a self-signed server, pinned
"""

LISTEN_EXAMPLES = """\
examples:
  soketler listen                                 port 12345, IPv4 and IPv6, one client
  soketler listen 9000                            port 9000 (as nc -l 9000; -l is optional)
  soketler listen 127.0.0.1 9000                  this address only (as nc -l 127.0.0.1 9000)
  soketler listen -p 9000 -k --greet 'Thank you for connecting'
  soketler listen -k --echo -v                    an echo service for many clients
  soketler listen -u -p 5353 -v                   print each UDP datagram and its source
  soketler listen -U /tmp/demo.sock               a Unix stream socket
  soketler listen -s 127.0.0.1 -p 0 -v            this machine only, any free port
  soketler listen --tls -p 9000                   TLS with a self-signed certificate
                                                  (made once; its fingerprint is printed)
  soketler listen -k --tls --tls-cert site.pem --tls-key site.key   SIGHUP reloads them
"""

RESOLVE_EXAMPLES = """\
examples:
  soketler resolve localhost                      every IPv4 and IPv6 address
  soketler resolve -6 example.org                 IPv6 only
  soketler resolve -r 127.0.0.1                   reverse lookup
  soketler resolve                                this host's name and addresses
  soketler resolve --json localhost
"""

PORTS_EXAMPLES = """\
examples:
  soketler ports                                  the whole table
  soketler ports 443                              what runs on a port
  soketler ports 53/udp
  soketler ports ssh                              search names and descriptions
  soketler ports --json mail
"""

PROBE_EXAMPLES = """\
examples:
  soketler probe localhost 22,80,443
  soketler probe 192.0.2.10 1-1024 -c 200 -w 0.5 --open
  soketler probe --json ::1 8000-8010
states: open (handshake done), closed (refused), filtered (no answer in time)
"""


# nc options with no counterpart here, and what to do instead (shown with the error).
NC_ONLY = {
    "-z": "scanning for open ports is `soketler probe`: did you mean `{probe}`?",
    "-e": "soketler runs no program for the peer (nc -e/-c); pipe one: "
    "`program | soketler connect HOST PORT`",
    "-c": "soketler runs no program for the peer (nc -e/-c); pipe one: "
    "`program | soketler connect HOST PORT`",
    "-x": "soketler does not go through proxies (nc -x/-X)",
    "-X": "soketler does not go through proxies (nc -x/-X)",
    "-t": "telnet negotiation is not answered (nc -t); the chat server removes it itself",
    "-r": "soketler picks no random ports (nc -r); `soketler probe` checks a range",
}
ELSEWHERE = {
    "connect": {
        "-l": "listening is `soketler listen`: did you mean `soketler listen PORT`?",
        "-k": "-k (keep listening) belongs to `soketler listen`",
    },
    "listen": {},
}


def _parser(
    sub: Any, name: str, help: str, description: str, epilog: str, usage: str | None = None
) -> Any:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog + "\n" + EXIT_CODES,
        usage=usage,
    )
    return parser


def _positionals(parser: argparse.ArgumentParser, words: Sequence[str]) -> list[str]:
    """The words that are not options nor option values (good enough for a hint)."""
    found: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word.startswith("-") and len(word) > 1:
            action = parser._option_string_actions.get(word[:2] if word[1] != "-" else word)
            # "-w 5" takes the next word; "-w5" and "--loop=x" carry their value.
            skip = action is not None and action.nargs != 0 and len(word) == 2
        else:
            found.append(word)
    return found


def _hinter(name: str, parser: argparse.ArgumentParser) -> Callable[[Sequence[str]], list[str]]:
    """Advice for nc options that mean something else here, or nothing."""

    def hints(words: Sequence[str]) -> list[str]:
        given = words[1:] if words and words[0] == name else words
        places = _positionals(parser, given)
        probe = "soketler probe " + (" ".join(places[:2]) if places else "HOST PORTS")
        table = {**NC_ONLY, **ELSEWHERE.get(name, {})}
        found = [table[flag] for flag in dict.fromkeys(short_flags(given)) if flag in table]
        return list(dict.fromkeys(hint.format(probe=probe) for hint in found))

    return hints


def _family(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 only")
    group.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 only")


def _stream_options(parser: argparse.ArgumentParser) -> None:
    """Options `connect` and `listen` share, with nc's letters."""
    parser.add_argument("-u", dest="udp", action="store_true", help="UDP instead of TCP")
    parser.add_argument(
        "-U",
        dest="unix",
        metavar="PATH",
        help="a Unix stream socket at PATH (default: TCP, or UDP with -u)",
    )
    _family(parser)
    parser.add_argument(
        "-n",
        dest="numeric",
        action="store_true",
        help="numeric addresses only: look up no names (as nc -n)",
    )
    parser.add_argument(
        "-N",
        dest="shutdown_on_eof",
        action="store_true",
        help="half-close the connection when stdin ends (always done; accepted as nc's -N)",
    )
    parser.add_argument(
        "-w",
        dest="wait",
        type=float,
        metavar="SECONDS",
        help="connect timeout, and idle timeout: quit (exit 6) when nothing moves that long "
        "(default: no timeout)",
    )
    parser.add_argument("-C", dest="crlf", action="store_true", help="send CRLF line endings")
    parser.add_argument("-d", dest="no_stdin", action="store_true", help="do not read stdin")
    parser.add_argument("--hex", action="store_true", help="hex dump of what is received")
    parser.add_argument("-v", dest="verbose", action="store_true", help="say what happens")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bytes, rate and time left on stderr (default: on when stderr is a terminal "
        "and stdin a file of 1 MiB or more)",
    )
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="event loop (default: uvloop when installed)",
    )


def _tls_connect_options(parser: argparse.ArgumentParser) -> None:
    tls = parser.add_argument_group(
        "TLS (any of these turns TLS on; the server's certificate and name are verified)"
    )
    tls.add_argument("--tls", action="store_true", help="speak TLS")
    trust = tls.add_mutually_exclusive_group()
    trust.add_argument(
        "--tls-fingerprint",
        metavar="SHA256",
        help="accept only the certificate with this SHA-256 fingerprint (self-signed "
        "servers; default: the certificate is verified against the system's authorities)",
    )
    trust.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="trust the authorities in FILE (PEM), not the system's (default: the system's)",
    )
    trust.add_argument(
        "--insecure",
        action="store_true",
        help="check no certificate: encrypted, but to whoever answers",
    )
    tls.add_argument(
        "--tls-servername",
        metavar="NAME",
        help="name to ask for (SNI) and to verify (default: HOST; localhost with -U)",
    )
    tls.add_argument(
        "--tls-cert", metavar="FILE", help="client certificate (PEM; default: none is offered)"
    )
    tls.add_argument("--tls-key", metavar="FILE", help="its key (default: in --tls-cert)")


def _tls_listen_options(parser: argparse.ArgumentParser) -> None:
    tls = parser.add_argument_group(
        "TLS (any of these turns TLS on; SIGHUP reloads the certificate for new clients)"
    )
    tls.add_argument(
        "--tls",
        action="store_true",
        help="speak TLS; without --tls-cert a self-signed certificate is made once and kept "
        "in the data folder; its SHA-256 fingerprint is printed",
    )
    tls.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="certificate chain (PEM), leaf first (default: the self-signed one)",
    )
    tls.add_argument("--tls-key", metavar="FILE", help="its key (default: in --tls-cert)")
    tls.add_argument(
        "--tls-client-ca",
        metavar="FILE",
        help="require a client certificate signed by an authority in FILE (PEM; "
        "default: clients need none)",
    )


def register(sub: Any) -> None:
    connect = _parser(
        sub,
        "connect",
        "nc-style client: stdin to a socket, the socket to stdout",
        "Connect to HOST PORT (or a Unix socket) and copy stdin to it and it to stdout. "
        "At the end of stdin the connection is half-closed and output goes on until "
        "the peer closes.",
        CONNECT_EXAMPLES,
        CONNECT_USAGE,
    )
    connect.add_argument("host", nargs="?", help="name or address (not with -U)")
    connect.add_argument(
        "port", nargs="?", help="port number 1-65535 or a service name (http, ssh, ...)"
    )
    connect.add_argument(
        "-p",
        dest="source_port",
        metavar="PORT",
        help="local port to connect from, as nc -p (default: any)",
    )
    connect.add_argument(
        "-s",
        dest="source",
        metavar="ADDR",
        help="local address to connect from, as nc -s (default: the system chooses)",
    )
    _stream_options(connect)
    connect.add_argument(
        "-q",
        dest="quit",
        type=float,
        metavar="SECONDS",
        help="quit SECONDS after stdin ends (default: wait for the peer to close)",
    )
    _tls_connect_options(connect)
    connect.set_defaults(handler=_run_connect)
    connect.hinter = _hinter("connect", connect)

    listen = _parser(
        sub,
        "listen",
        "nc -l style server: one client (or many with -k) to stdin/stdout",
        "Listen on PORT (all addresses, IPv4 and IPv6) and pipe the first client to "
        "stdin/stdout, as `nc -l` does. With -k, serve many clients at once: what they "
        "send goes to stdout, stdin goes to all of them. --echo makes it an echo "
        "service (stdin and stdout unused).",
        LISTEN_EXAMPLES,
        LISTEN_USAGE,
    )
    listen.add_argument(
        "where",
        nargs="*",
        metavar="[ADDR] PORT",
        help="port to listen on (as nc -l PORT), or an address and a port (as -s ADDR -p PORT)",
    )
    listen.add_argument(
        "-p",
        dest="port",
        help="port, or a service name (default 12345; 0: any free port)",
    )
    listen.add_argument(
        "-l",
        dest="listen",
        action="store_true",
        help="accepted as in nc -l; listening is what this command does",
    )
    listen.add_argument(
        "-s", dest="source", metavar="ADDR", help="listen on this address only (default: all)"
    )
    listen.add_argument(
        "-k", dest="keep_open", action="store_true", help="keep listening; many clients at once"
    )
    listen.add_argument(
        "--greet",
        metavar="TEXT",
        help="send TEXT and a newline to each client first (default: send nothing first)",
    )
    listen.add_argument("--echo", action="store_true", help="send each client its bytes back")
    _stream_options(listen)
    _tls_listen_options(listen)
    listen.set_defaults(handler=_run_listen)
    listen.hinter = _hinter("listen", listen)

    resolve = _parser(
        sub,
        "resolve",
        "addresses of a name, a name of an address",
        "Print every address (IPv4 and IPv6) of NAME with its canonical name; with -r, "
        "the name of an address; with neither, this host's name and addresses.",
        RESOLVE_EXAMPLES,
    )
    resolve.add_argument("name", nargs="?", metavar="NAME")
    resolve.add_argument(
        "-r",
        dest="reverse",
        metavar="ADDRESS",
        help="reverse lookup: the name of ADDRESS (default: the addresses of NAME)",
    )
    _family(resolve)
    resolve.add_argument("--json", action="store_true", help="machine-readable output")
    resolve.set_defaults(handler=_run_resolve)

    ports = _parser(
        sub,
        "ports",
        "the well-known ports table, searchable",
        "Show well-known ports (built in, merged with /etc/services), found by number "
        "(80, 53/udp) or by a word in the name or description.",
        PORTS_EXAMPLES,
    )
    ports.add_argument("query", nargs="?", metavar="QUERY")
    ports.add_argument("--json", action="store_true", help="machine-readable output")
    ports.set_defaults(handler=_run_ports)

    probe = _parser(
        sub,
        "probe",
        "which TCP ports of a host accept connections",
        "Try a TCP connection to each port in PORTS (like 22,80,8000-8010), many at "
        "once. Exit 0 when at least one port is open, 1 when none is.",
        PROBE_EXAMPLES,
    )
    probe.add_argument("host", metavar="HOST")
    probe.add_argument("ports", metavar="PORTS", help="e.g. 22,80,8000-8010")
    _family(probe)
    probe.add_argument(
        "-w", dest="wait", type=float, default=1.0, metavar="SECONDS", help="per port (default 1)"
    )
    probe.add_argument(
        "-c",
        "--concurrency",
        type=int,
        default=100,
        metavar="N",
        help="checks at once (default 100)",
    )
    probe.add_argument("--open", action="store_true", help="list open ports only")
    probe.add_argument(
        "--all",
        action="store_true",
        help="list closed ports too when probing more than 25 (by default they are counted)",
    )
    probe.add_argument("--json", action="store_true", help="machine-readable output")
    probe.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ports done so far on stderr (default: on when stderr is a terminal and "
        "there are 100 ports or more)",
    )
    probe.add_argument(
        "--loop", choices=("auto", "asyncio", "uvloop"), default="auto", help="event loop"
    )
    probe.set_defaults(handler=_run_probe)


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    """A handler that imports the tools (and asyncio) only when the command runs."""

    def handler(args: argparse.Namespace) -> int:
        from soketler.tools import run

        code: int = getattr(run, name)(args)
        return code

    return handler


_run_connect = _lazy("run_connect")
_run_listen = _lazy("run_listen")
_run_resolve = _lazy("run_resolve")
_run_ports = _lazy("run_ports")
_run_probe = _lazy("run_probe")
