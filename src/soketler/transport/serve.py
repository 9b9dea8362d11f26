"""`soketler serve`: configuration from the command line, signals, start-up errors."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import logging
import os
import signal
import socket
import sys

from soketler import __version__, exitcodes, loops
from soketler.core.archive import Retention
from soketler.core.config import DEFAULT_PORT, Limits, ServerConfig
from soketler.store.base import StoreError
from soketler.transport.server import ChatServer, UnixPathInUse

log = logging.getLogger("soketler.server")


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    limits = Limits(
        max_line=args.max_line,
        rate=args.rate,
        burst=args.burst,
        flood_lines=args.flood_lines,
        sendq=args.sendq,
        max_clients=args.max_clients,
        max_per_address=args.max_per_address,
        nick_timeout=args.nick_timeout,
    )
    return ServerConfig(
        hosts=tuple(args.host or ()),
        port=DEFAULT_PORT if args.port is None else args.port,
        unix=args.unix,
        limits=limits,
        close_words=not args.no_close_words,
        server_name=args.server_name or "",
        db=args.db or default_db(),
        replay=args.replay,
        announce_limit=args.announce_limit,
        retention=Retention(days=args.retain_days, messages=args.retain_messages),
    )


def default_db() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("soketler"), "history.sqlite3")


def listens_on_tcp(args: argparse.Namespace) -> bool:
    """`--unix PATH` alone is a private socket: TCP only when --host or --port asks."""
    return not args.unix or args.host is not None or args.port is not None


def _check(args: argparse.Namespace) -> str | None:
    if args.port is not None and not 0 <= args.port <= 65535:
        return f"invalid port {args.port}: use 0-65535"
    if args.max_line < 16:
        return "--max-line must be at least 16"
    if args.burst < 1 or args.rate < 0 or args.flood_lines < 1:
        return "--burst and --flood-lines must be at least 1, --rate at least 0"
    if args.sendq < 1024 or args.max_clients < 1 or args.max_per_address < 0:
        return "--sendq must be at least 1024, --max-clients at least 1"
    if args.replay < 0 or args.retain_days < 0 or args.retain_messages < 0:
        return "--replay, --retain-days and --retain-messages cannot be negative"
    if args.announce_limit < 0:
        return "--announce-limit cannot be negative"
    return None


def run_from_args(args: argparse.Namespace) -> int:
    problem = _check(args)
    if problem:
        print(f"soketler serve: {problem}", file=sys.stderr)
        return exitcodes.USAGE
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    config = config_from_args(args)
    tcp = listens_on_tcp(args)
    try:
        return loops.run(lambda: serve(config, tcp=tcp), args.loop)
    except loops.LoopUnavailable as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.USAGE


# The history writer thread needs the interpreter lock for moments between its calls
# into SQLite; while the loop is busy writing to sockets it would wait the default 5 ms
# for each, and a commit of a burst took as long as writing a room of 1,000.
SWITCH_INTERVAL = 0.0005


async def serve(config: ServerConfig, *, tcp: bool = True) -> int:
    sys.setswitchinterval(SWITCH_INTERVAL)
    server = ChatServer(config, tcp=tcp)
    where = ", ".join(config.hosts) or "all addresses"
    try:
        await server.start()
    except socket.gaierror as exc:
        print(f"soketler serve: cannot resolve {where}: {exc.strerror}", file=sys.stderr)
        return exitcodes.UNKNOWN_HOST
    except StoreError as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.STORE
    except UnixPathInUse as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.ADDRESS_IN_USE
    except OSError as exc:
        return _start_error(exc, config, where if tcp else None)
    # Everything made so far (modules, functions, the store's state) lives as long as
    # the process: out of the collector's sight, a full collection walks only what
    # clients brought, and a pause in a busy room is that much shorter.
    gc.collect()
    gc.freeze()
    loop = asyncio.get_running_loop()
    log.info("soketler %s chat server on %s", __version__, loops.loop_name(loop))
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Only now say where we listen: whoever waits for this line may signal us at once.
    for address in server.addresses:
        print(f"listening on {address}", flush=True)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("shutting down")
    await server.shutdown()
    return exitcodes.OK


def _start_error(exc: OSError, config: ServerConfig, where: str | None) -> int:
    """One line for a listener that would not open (`where` None: the Unix socket only)."""
    target = f"{where} port {config.port}" if where is not None else str(config.unix)
    if exc.errno == errno.EADDRINUSE:
        print(f"soketler serve: address already in use: {target}", file=sys.stderr)
        return exitcodes.ADDRESS_IN_USE
    if exc.errno == errno.EACCES:
        low = where is not None and 0 < config.port < 1024
        hint = " (ports below 1024 need root)" if low else ""
        print(f"soketler serve: permission denied: {target}{hint}", file=sys.stderr)
        return exitcodes.PERMISSION_DENIED
    if exc.errno == errno.EADDRNOTAVAIL:
        print(f"soketler serve: not an address of this machine: {where}", file=sys.stderr)
        return exitcodes.UNREACHABLE
    print(f"soketler serve: cannot listen on {target}: {exc.strerror or exc}", file=sys.stderr)
    return exitcodes.FAILURE
