"""The tools' subcommands: argparse namespaces in, exit codes out.

Everything a command can fail with becomes one line on stderr and a documented exit
code (see `soketler.exitcodes`); a traceback here would be a bug.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from soketler import exitcodes, loops
from soketler.tools import endpoints, hub, meter, prober, resolver, udp, wellknown
from soketler.tools.duplex import pipe
from soketler.tools.errors import ToolError, from_os_error
from soketler.tools.portspec import parse_port, parse_ports

if TYPE_CHECKING:
    from soketler.security.tls import ClientTls, ReloadableServerContext
    from soketler.tools.duplex import PipeResult
    from soketler.tools.tlschannel import TlsChannel

STDIN, STDOUT = 0, 1
T = TypeVar("T")


def make_log(verbose: bool) -> Callable[[str], None]:
    def log(message: str) -> None:
        if verbose:
            print(f"soketler: {message}", file=sys.stderr, flush=True)

    return log


def _fail(command: str, message: str) -> None:
    print(f"soketler {command}: {message}", file=sys.stderr, flush=True)


def _guarded(command: str, work: Callable[[], int]) -> int:
    try:
        return work()
    except ToolError as exc:
        _fail(command, exc.message)
        return exc.exit_code
    except loops.LoopUnavailable as exc:
        _fail(command, str(exc))
        return exitcodes.USAGE
    except OSError as exc:  # anything the specific handlers did not foresee, still one line
        _fail(command, from_os_error(exc, "-", None, command).message)
        return exitcodes.FAILURE


def _run_async(
    command: str, args: argparse.Namespace, main: Callable[[], Coroutine[Any, Any, int]]
) -> int:
    return _guarded(command, lambda: loops.run(main, args.loop))


def _family(args: argparse.Namespace) -> int:
    if getattr(args, "ipv4", False):
        return socket.AF_INET
    if getattr(args, "ipv6", False):
        return socket.AF_INET6
    return socket.AF_UNSPEC


def _stdin(args: argparse.Namespace) -> int | None:
    if args.no_stdin:
        return None
    try:
        os.fstat(STDIN)
    except OSError:
        return None  # started with stdin closed: nothing to send
    return STDIN


def _check_seconds(name: str, value: float | None) -> None:
    if value is not None and not value >= 0:
        raise ToolError(f"invalid {name}: {value:g} (expected seconds >= 0)", exitcodes.USAGE)


# connect ---------------------------------------------------------------------------


def run_connect(args: argparse.Namespace) -> int:
    return _run_async("connect", args, lambda: _connect(args))


def _protocol(args: argparse.Namespace) -> str | None:
    """The protocol whose service names a port may be given as; None with -n (numbers)."""
    if args.numeric:
        return None
    return "udp" if args.udp else "tcp"


def _connect_target(args: argparse.Namespace) -> tuple[str, int | None]:
    if args.unix:
        if args.host is not None:
            raise ToolError("-U takes the socket path; give no HOST PORT with it", exitcodes.USAGE)
        if args.udp:
            raise ToolError("-u and -U together are not supported", exitcodes.USAGE)
        return args.unix, None
    if args.host is None or args.port is None:
        if args.source_port is not None:
            # `-p 5555 HOST` in nc is the port to come *from*; say so, with its value.
            raise ToolError(
                f"need HOST and PORT: -p {args.source_port} is the local port to connect "
                f"from (as in nc); the port to connect to goes after HOST",
                exitcodes.USAGE,
            )
        raise ToolError("need HOST and PORT (or -U PATH)", exitcodes.USAGE)
    return args.host, parse_port(args.port, allow_zero=False, protocol=_protocol(args))


def _source_port(args: argparse.Namespace) -> int:
    if args.source_port is None:
        return 0
    try:
        return parse_port(args.source_port, protocol=_protocol(args))
    except ToolError as exc:
        raise ToolError(f"-p (local port): {exc.message}", exc.exit_code) from None


async def _connect(args: argparse.Namespace) -> int:

    log = make_log(args.verbose)
    _check_seconds("-w", args.wait)
    _check_seconds("-q", args.quit)
    host, port = _connect_target(args)
    source_port = _source_port(args)
    tls = None
    if _tls_wanted(args):
        from soketler.tools import tlsoptions

        # Before connecting: a bad option or file should not cost the peer a connection.
        tls = tlsoptions.client_settings(args)
    flush_stdout()
    if port is None:
        if args.source is not None or source_port:
            raise ToolError("-s and -p do not apply to a Unix socket (-U)", exitcodes.USAGE)
        sock = await endpoints.connect_unix(host, attempt_timeout=args.wait)
        peer = host
    else:
        sock = await endpoints.connect(
            host,
            port,
            family=_family(args),
            udp=args.udp,
            attempt_timeout=args.wait,
            numeric=args.numeric,
            source=args.source,
            source_port=source_port,
        )
        peer = endpoints.show(sock.getpeername())
    with sock:
        kind = "udp" if args.udp else "unix" if port is None else "tcp"
        log(f"connected to {peer} ({kind})")
        if tls is None:
            result = await _pipe_stdio(args, sock, peer)
        else:
            result = await _tls_connect(args, sock, tls, host if port is not None else None, peer)
    log(f"{result.ending}: sent {result.sent} bytes, received {result.received} bytes")
    return exitcodes.OK


Report = Callable[[int, int], None]


async def _metered(
    args: argparse.Namespace,
    stdin: int | None,
    transfer: Callable[[Report | None], Awaitable[PipeResult]],
) -> PipeResult:
    """Runs a transfer with `--progress` on stderr when asked, or when a person watches
    a big file go (see `meter.wanted`)."""
    total = meter.file_size(stdin)
    shown = meter.wanted(args.progress, total is not None and total >= meter.BIG_TRANSFER)
    progress = meter.TransferMeter(total) if shown else None
    try:
        result = await transfer(progress.update if progress is not None else None)
    except BaseException:
        if progress is not None:
            progress.finish()  # the line ends before the error is said
        raise
    if progress is not None:
        progress.finish(result.sent, result.received)
    return result


async def _pipe_stdio(args: argparse.Namespace, sock: socket.socket, peer: str) -> PipeResult:
    """stdin/stdout through `sock` with the options connect and listen share."""

    stdin = _stdin(args)
    return await _metered(
        args,
        stdin,
        lambda report: pipe(
            sock,
            stdin,
            STDOUT,
            crlf=args.crlf,
            hex_dump=args.hex,
            idle_timeout=args.wait,
            quit_after_eof=getattr(args, "quit", None),
            peer=peer,
            on_progress=report,
            progress_every=meter.EVERY,
        ),
    )


_TLS_OPTIONS = (
    "tls",
    "insecure",
    "tls_fingerprint",
    "tls_ca",
    "tls_servername",
    "tls_cert",
    "tls_key",
    "tls_client_ca",
)


def _tls_wanted(args: argparse.Namespace) -> bool:
    # Any TLS option turns TLS on; without one the TLS modules (and cryptography, for
    # the self-signed certificate) are not even imported.
    return any(getattr(args, name, None) not in (None, False) for name in _TLS_OPTIONS)


async def _tls_connect(
    args: argparse.Namespace, sock: socket.socket, tls: ClientTls, host: str | None, peer: str
) -> PipeResult:
    from soketler.security.tls import describe_session
    from soketler.tools import tlsoptions
    from soketler.tools.tlspipe import tls_pipe

    # A Unix socket has no host name to verify; a certificate for localhost is the norm.
    channel = await tlsoptions.client_handshake(sock, tls, host or "localhost", peer, args.wait)
    make_log(args.verbose)(f"TLS: {describe_session(channel.tls)}")
    stdin = _stdin(args)
    return await _metered(
        args,
        stdin,
        lambda report: tls_pipe(
            channel,
            stdin,
            STDOUT,
            crlf=args.crlf,
            hex_dump=args.hex,
            idle_timeout=args.wait,
            quit_after_eof=args.quit,
            peer=peer,
            on_progress=report,
            progress_every=meter.EVERY,
        ),
    )


def flush_stdout() -> None:
    # We write to descriptor 1 directly; anything Python buffered must go first.
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()


# listen ----------------------------------------------------------------------------


def run_listen(args: argparse.Namespace) -> int:
    return _run_async("listen", args, lambda: _listen(args))


def _greeting(args: argparse.Namespace) -> bytes | None:
    if args.greet is None:
        return None
    greet: str = args.greet
    text = greet if greet.endswith("\n") else greet + "\n"
    if args.crlf:
        text = text.removesuffix("\n").removesuffix("\r") + "\r\n"
    return text.encode("utf-8")


DEFAULT_LISTEN_PORT = "12345"


def _listen_where(args: argparse.Namespace) -> tuple[str | None, str]:
    """(address or None for all, port text) from `[[ADDR] PORT]`, -s and -p, as nc takes
    them; the same thing said twice differently is an error, not a guess."""
    where: list[str] = args.where or []
    if len(where) > 2:
        raise ToolError(
            f"too many arguments: {' '.join(where)} (expected [[ADDR] PORT])", exitcodes.USAGE
        )
    address = where[0] if len(where) == 2 else None
    port = where[-1] if where else None
    for option, given, named in (("-s", args.source, address), ("-p", args.port, port)):
        if given is not None and named is not None and given != named:
            raise ToolError(f"{option} {given} and {named} disagree: give one", exitcodes.USAGE)
    return args.source or address, args.port or port or DEFAULT_LISTEN_PORT


async def _open_listener(args: argparse.Namespace) -> socket.socket:
    if args.unix:
        if args.source is not None or args.where:
            raise ToolError(
                "-U takes the socket path; give no address or port with it", exitcodes.USAGE
            )
        return endpoints.unix_listener(args.unix, udp=args.udp)
    host, port_text = _listen_where(args)
    port = parse_port(port_text, protocol=_protocol(args))
    return await endpoints.listener(
        host, port, family=_family(args), udp=args.udp, numeric=args.numeric
    )


async def _listen(args: argparse.Namespace) -> int:

    log = make_log(args.verbose)
    _check_seconds("-w", args.wait)
    if args.progress and (args.udp or args.keep_open or args.echo):
        raise ToolError(
            "--progress follows one transfer: not with -k, --echo or -u", exitcodes.USAGE
        )
    tls = None
    if _tls_wanted(args):
        from soketler.tools import tlsoptions

        tls = tlsoptions.server_settings(args)
    listening = await _open_listener(args)
    socket_file = endpoints.socket_file_id(args.unix) if args.unix else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        # SIGTERM is how service managers and test harnesses ask us to finish.
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        if tls is not None:
            # As web servers do: a renewed certificate is taken without a restart.
            loop.add_signal_handler(signal.SIGHUP, tlsoptions.reload, tls)
    flush_stdout()
    try:
        with listening:
            log(f"listening on {endpoints.describe_listener(listening)}")
            if args.udp:
                await udp.serve_udp(
                    listening,
                    stdin=_stdin(args),
                    stdout=STDOUT,
                    echo=args.echo,
                    hex_dump=args.hex,
                    crlf=args.crlf,
                    log=log,
                    stop=stop,
                )
            elif args.keep_open or args.echo:
                clients = hub.Hub(
                    greeting=_greeting(args),
                    echo=args.echo,
                    hex_dump=args.hex,
                    keep_open=args.keep_open,
                    log=log,
                    tls=tls.context if tls is not None else None,
                )
                await hub.serve(
                    listening, clients, stdin=_stdin(args), stdout=STDOUT, crlf=args.crlf, stop=stop
                )
            elif tls is not None:
                await _serve_one_tls(args, listening, stop, log, tls)
            else:
                await _serve_one(args, listening, stop, log)
    finally:
        if args.unix:
            endpoints.remove_unix_socket(args.unix, socket_file)
    return exitcodes.OK


async def _serve_one(
    args: argparse.Namespace,
    listening: socket.socket,
    stop: asyncio.Event,
    log: Callable[[str], None],
) -> None:
    """`nc -l`: accept one client, stop listening, pipe stdin/stdout through it."""

    loop = asyncio.get_running_loop()
    listening.setblocking(False)
    accepted = await _unless_stopped(loop.sock_accept(listening), stop)
    if accepted is None:
        return
    sock, address = accepted
    listening.close()  # the port is free again as soon as the one client is in
    with sock:
        peer = endpoints.show(address) if args.unix is None else args.unix
        log(f"connection from {peer}")
        greeting = _greeting(args)
        if greeting:
            await loop.sock_sendall(sock, greeting)
        result = await _unless_stopped(_pipe_stdio(args, sock, peer), stop)
        if result is not None:
            log(f"{result.ending}: sent {result.sent} bytes, received {result.received} bytes")


# Handshakes under way at once while `listen --tls` waits for its one client. One that
# never finishes must not keep the real client out, so they run side by side; past
# this many, newcomers are closed at once (a flood, not a client).
MAX_HANDSHAKES = 64


async def _serve_one_tls(
    args: argparse.Namespace,
    listening: socket.socket,
    stop: asyncio.Event,
    log: Callable[[str], None],
    tls: ReloadableServerContext,
) -> None:
    """`listen --tls` without -k: the first client whose handshake succeeds is served."""
    from soketler.tools import tlsoptions
    from soketler.tools.tlspipe import tls_pipe

    loop = asyncio.get_running_loop()
    listening.setblocking(False)
    chosen: asyncio.Future[tuple[TlsChannel, str]] = loop.create_future()
    handshakes: set[asyncio.Task[None]] = set()

    async def handshake(sock: socket.socket, peer: str) -> None:
        try:
            channel = await tlsoptions.server_handshake(sock, tls, peer)
        except ToolError as exc:
            log(exc.message)
            await tlsoptions.hang_up_gently(sock)
            return
        if chosen.done():
            sock.close()
        else:
            chosen.set_result((channel, peer))

    async def accept() -> None:
        while True:  # until cancelled once a client is chosen or we are stopped
            sock, address = await loop.sock_accept(listening)
            peer = endpoints.show(address) if args.unix is None else args.unix
            if len(handshakes) >= MAX_HANDSHAKES:
                sock.close()
                continue
            log(f"connection from {peer}")
            task = asyncio.create_task(handshake(sock, peer))
            handshakes.add(task)
            task.add_done_callback(handshakes.discard)

    accepting = asyncio.create_task(accept())
    try:
        found = await _unless_stopped(chosen, stop)
    finally:
        for task in (accepting, *handshakes):
            task.cancel()
        await asyncio.gather(accepting, *handshakes, return_exceptions=True)
    if found is None:
        return
    listening.close()  # the port is free again as soon as the one client is in
    channel, peer = found
    with channel.sock:
        log(f"TLS with {peer}: {_session(channel)}")
        greeting = _greeting(args)
        if greeting:
            await channel.send(greeting)
        stdin = _stdin(args)
        result = await _unless_stopped(
            _metered(
                args,
                stdin,
                lambda report: tls_pipe(
                    channel,
                    stdin,
                    STDOUT,
                    crlf=args.crlf,
                    hex_dump=args.hex,
                    idle_timeout=args.wait,
                    peer=peer,
                    on_progress=report,
                    progress_every=meter.EVERY,
                ),
            ),
            stop,
        )
        if result is not None:
            log(f"{result.ending}: sent {result.sent} bytes, received {result.received} bytes")


def _session(channel: TlsChannel) -> str:
    from soketler.security.tls import describe_session

    return describe_session(channel.tls)


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The result of `work`, or None when `stop` is set first (`work` is cancelled)."""
    doing = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([doing, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not doing.done():
            doing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await doing
    return None if doing.cancelled() else doing.result()


# resolve ---------------------------------------------------------------------------


def run_resolve(args: argparse.Namespace) -> int:
    return _guarded("resolve", lambda: _resolve(args))


def _print_pairs(pairs: list[tuple[str, str]]) -> None:
    width = max((len(key) for key, _ in pairs), default=0)
    for key, value in pairs:
        print(f"{key:<{width}}  {value}")


def _resolve(args: argparse.Namespace) -> int:

    answer: Any
    if args.reverse is not None:
        if args.name is not None:
            raise ToolError("give either NAME or -r ADDRESS, not both", exitcodes.USAGE)
        answer = resolver.reverse(args.reverse)
        pairs = [("address", answer.address), ("name", answer.name)]
        pairs += [("alias", alias) for alias in answer.aliases]
    elif args.name is None:
        answer = resolver.this_host()
        pairs = [("hostname", answer.hostname), ("fqdn", answer.fqdn)]
        pairs += [("address", address) for address in answer.addresses]
    else:
        answer = resolver.resolve(args.name, _family(args))
        pairs = [("name", answer.name), ("canonical", answer.canonical)]
        pairs += [("address", address) for address in answer.addresses]
    if args.json:
        print(json.dumps(asdict(answer)))
    else:
        _print_pairs(pairs)
    return exitcodes.OK


# ports -----------------------------------------------------------------------------


def run_ports(args: argparse.Namespace) -> int:
    return _guarded("ports", lambda: _ports(args))


def _ports(args: argparse.Namespace) -> int:

    entries = wellknown.lookup(args.query)
    if args.json:
        print(json.dumps([asdict(entry) for entry in entries]))
    else:
        if entries:
            print(f"{'PORT':<7}{'PROTO':<7}{'NAME':<18}DESCRIPTION")
        for entry in entries:
            about = entry.description
            if entry.aliases:
                about = f"{about} (also: {', '.join(entry.aliases)})".lstrip()
            print(f"{entry.port:<7}{entry.protocol:<7}{entry.name:<18}{about}".rstrip())
    if not entries:
        _fail("ports", f"no well-known port matches {args.query!r}")
        return exitcodes.FAILURE
    return exitcodes.OK


# probe -----------------------------------------------------------------------------

LIST_EVERY_PORT_UP_TO = 25  # more ports than this: closed ones are only counted
STATES = ("open", "closed", "filtered")


def run_probe(args: argparse.Namespace) -> int:
    return _run_async("probe", args, lambda: _probe(args))


class _ProbeProgress:
    """`probed 512 of 1024 ports (50%), 3 open` on stderr as results come in."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.open = 0
        self.meter = meter.Meter()

    def add(self, state: prober.PortState) -> None:
        self.done += 1
        self.open += state.state == "open"
        if self.meter.due():
            self.meter.draw(self._line())

    def finish(self) -> None:
        self.meter.finish(self._line())

    def _line(self) -> str:
        return meter.probe_line(self.done, self.total, self.open, self.meter.elapsed)


async def _probe(args: argparse.Namespace) -> int:

    _check_seconds("-w", args.wait)
    ports = parse_ports(args.ports, protocol="tcp")
    progress = (
        _ProbeProgress(len(ports))
        if meter.wanted(args.progress, len(ports) >= meter.MANY_PORTS)
        else None
    )
    try:
        address, states = await prober.probe(
            args.host,
            ports,
            concurrency=args.concurrency,
            connect_timeout=args.wait,
            family=_family(args),
            on_result=progress.add if progress is not None else None,
        )
    finally:
        if progress is not None:
            progress.finish()
    services = wellknown.names()
    shown = [s for s in states if s.state == "open"] if args.open else states
    hidden = 0
    if not args.json and not args.all and not args.open and len(states) > LIST_EVERY_PORT_UP_TO:
        # A range is a search for what answers: like nmap, leave out the closed ports.
        shown = [s for s in states if s.state != "closed"]
        hidden = len(states) - len(shown)
    if args.json:
        print(
            json.dumps(
                {
                    "host": args.host,
                    "address": address,
                    "ports": [
                        {"port": s.port, "state": s.state, "service": services.get(s.port)}
                        for s in shown
                    ],
                }
            )
        )
    else:
        if hidden:
            print(f"Not shown: {hidden} closed ports (--all lists them)")
        if shown:
            print(f"{'PORT':<10}{'STATE':<10}SERVICE")
        for s in shown:
            print(f"{f'{s.port}/tcp':<10}{s.state:<10}{services.get(s.port, '')}".rstrip())
        counts = {state: sum(s.state == state for s in states) for state in STATES}
        summary = ", ".join(f"{n} {state}" for state, n in counts.items())
        print(f"{address}: {len(states)} ports probed: {summary}")
    return exitcodes.OK if any(s.state == "open" for s in states) else exitcodes.FAILURE
