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
import tomllib
from dataclasses import replace
from typing import Any

from soketler import __version__, exitcodes, loops
from soketler.core.bus import BusError
from soketler.core.config import (
    DEFAULT_IRC_PORT,
    DEFAULT_WEB_PORT,
    SETTINGS,
    ConfigError,
    ServerConfig,
    build,
)
from soketler.doors import DoorSetupError
from soketler.store.base import StoreError
from soketler.transport.server import ChatServer, ListenFailed, UnixPathInUse

log = logging.getLogger("soketler.server")


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """Defaults, then the --config file, then the options given. Raises ConfigError."""
    layers: list[dict[str, Any]] = []
    if args.config:
        try:
            with open(args.config, "rb") as file:
                layers.append(tomllib.load(file))
        except OSError as exc:
            raise ConfigError(f"cannot read {args.config}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{args.config} is not valid TOML: {exc}") from exc
    given = vars(args)
    layers.append({name: given[name] for name in SETTINGS if name in given})
    base = ServerConfig(db=default_db(), irc_port=DEFAULT_IRC_PORT, web_port=DEFAULT_WEB_PORT)
    config = build(layers, base)
    chosen = _given(layers)
    if config.unix and not any("port" in layer or "hosts" in layer for layer in chosen):
        # Someone asking for a private socket alone must not get a public one too.
        config = replace(config, port=None)
        if not any("irc_port" in layer for layer in chosen):
            config = replace(config, irc_port=0)
        if not any("web_port" in layer for layer in chosen):
            config = replace(config, web_port=0)
    return config


def _given(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in layer.items() if v is not None} for layer in layers]


def default_db() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("soketler"), "history.sqlite3")


def run_from_args(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    problems = config.problems() + door_problems(config)
    if config.motd and not os.access(config.motd, os.R_OK):
        problems.append(f"cannot read the MOTD file {config.motd}")
    if problems:
        print(f"soketler serve: {'; '.join(problems)}", file=sys.stderr)
        return exitcodes.USAGE
    worker = worker_index()
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s "
        + ("" if worker is None else f"[worker {worker}] ")
        + "%(message)s",
        stream=sys.stderr,
    )
    if config.workers > 1 and worker is None:
        from soketler.transport.workers import Supervisor

        return Supervisor(config, _serve_argv()).run()
    if worker is not None and worker > 0:
        # A Unix socket cannot be shared (no SO_REUSEPORT for it): the first worker has it.
        config = replace(config, unix=None)
    try:
        return loops.run(lambda: serve(config, worker=worker is not None), args.loop)
    except loops.LoopUnavailable as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.USAGE


def worker_index() -> int | None:
    """Which worker of `--workers` this process is (None: not one)."""
    from soketler.transport.workers import WORKER_ENV

    text = os.environ.get(WORKER_ENV, "")
    return int(text) if text.isdigit() else None


def _serve_argv() -> list[str]:
    """The options given after `serve`, to give each worker again."""
    argv = sys.argv[1:]
    return argv[argv.index("serve") + 1 :] if "serve" in argv else argv


def door_problems(config: ServerConfig) -> list[str]:
    """What is wrong with the settings of a door, which the core does not know."""
    from soketler.doors.web.origin import allowed_origins

    try:
        allowed_origins(config.web_origins)
    except ValueError as exc:
        return [f"web_origins: {exc}"]
    return []


# The history writer thread needs the interpreter lock for moments between its calls
# into SQLite; while the loop is busy writing to sockets it would wait the default 5 ms
# for each, and a commit of a burst took as long as writing a room of 1,000.
SWITCH_INTERVAL = 0.0005


async def serve(config: ServerConfig, *, worker: bool = False) -> int:
    sys.setswitchinterval(SWITCH_INTERVAL)
    server = ChatServer(config)
    where = ", ".join(config.hosts) or "all addresses"
    try:
        await server.start()
    except socket.gaierror as exc:
        print(f"soketler serve: cannot resolve {where}: {exc.strerror}", file=sys.stderr)
        return exitcodes.UNKNOWN_HOST
    except StoreError as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.STORE
    except BusError as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.UNREACHABLE
    except DoorSetupError as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    except UnixPathInUse as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.ADDRESS_IN_USE
    except OSError as exc:
        return _start_error(exc, config, where)
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
    if worker:
        # The supervisor passes SIGHUP on to its workers; it must not end one.
        loop.add_signal_handler(signal.SIGHUP, log.info, "SIGHUP: nothing to reload")
    # Only now say where we listen: whoever waits for this line may signal us at once.
    for door, address in server.addresses:
        print(f"listening on {address}" + ("" if door == "lines" else f" ({door})"), flush=True)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, *((signal.SIGHUP,) if worker else ())):
            loop.remove_signal_handler(signum)
    log.info("shutting down")
    await server.shutdown()
    return exitcodes.OK


def _start_error(exc: OSError, config: ServerConfig, where: str) -> int:
    port = config.port
    if isinstance(exc, ListenFailed):  # the listener that failed to open
        listener = exc.listener
        port = listener.port
        where = ", ".join(listener.hosts) or "all addresses"  # (--web-host: elsewhere)
        if listener.door != "lines":
            where = f"{where} ({listener.door})"
    target = f"{where} port {port}" if port is not None else str(config.unix)
    if exc.errno == errno.EADDRINUSE:
        print(f"soketler serve: address already in use: {target}", file=sys.stderr)
        return exitcodes.ADDRESS_IN_USE
    if exc.errno == errno.EACCES:
        hint = " (ports below 1024 need root)" if 0 < (port or 0) < 1024 else ""
        print(f"soketler serve: permission denied: {target}{hint}", file=sys.stderr)
        return exitcodes.PERMISSION_DENIED
    if exc.errno == errno.EADDRNOTAVAIL:
        print(f"soketler serve: not an address of this machine: {where}", file=sys.stderr)
        return exitcodes.UNREACHABLE
    print(f"soketler serve: cannot listen on {target}: {exc.strerror or exc}", file=sys.stderr)
    return exitcodes.FAILURE
