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
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from soketler import __version__, exitcodes, loops
from soketler.core import configtext
from soketler.core.bus import BusError
from soketler.core.config import (
    DEFAULT_IRC_PORT,
    DEFAULT_IRC_TLS_PORT,
    DEFAULT_TLS_PORT,
    DEFAULT_WEB_PORT,
    SETTINGS,
    ConfigError,
    ServerConfig,
    build,
)
from soketler.doors import DoorSetupError
from soketler.security.fingerprints import format_fingerprint
from soketler.security.tls import TlsError
from soketler.store.base import StoreError
from soketler.transport.server import ChatServer, ListenFailed, UnixPathInUse

log = logging.getLogger("soketler.server")


def config_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> ServerConfig:
    """Defaults, then the --config file, then SOKETLER_* variables, then the options
    given. Raises ConfigError."""
    return configured(args, environ)[0]


def configured(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> tuple[ServerConfig, dict[str, str]]:
    """The configuration, and where each setting given came from (for --print-config)."""
    environ = os.environ if environ is None else environ
    base = ServerConfig(
        db=default_db(),
        irc_port=DEFAULT_IRC_PORT,
        web_port=DEFAULT_WEB_PORT,
        tls_port=DEFAULT_TLS_PORT,
        irc_tls_port=DEFAULT_IRC_TLS_PORT,
    )
    named: list[tuple[str, dict[str, Any]]] = []
    path = args.config or environ.get(configtext.CONFIG_VARIABLE)
    if path:
        named.append((configtext.FILE, read_file(path)))
    named.append((configtext.ENVIRONMENT, configtext.environment_layer(environ, base)))
    given = vars(args)
    named.append((configtext.FLAG, {name: given[name] for name in SETTINGS if name in given}))
    layers = [layer for _, layer in named]
    config = build(layers, base)
    chosen = _given(layers)
    if config.irc_port == 0 and not any("irc_tls_port" in layer for layer in chosen):
        config = replace(config, irc_tls_port=0)  # "--irc-port 0: no IRC" means none at all
    if config.unix and not any("port" in layer or "hosts" in layer for layer in chosen):
        # Someone asking for a private socket alone must not get a public one too.
        config = replace(config, port=None)
        off: dict[str, Any] = {"irc_port": 0, "web_port": 0, "tls_port": None, "irc_tls_port": 0}
        for name, value in off.items():
            if not any(name in layer for layer in chosen):
                config = replace(config, **{name: value})
    sources: dict[str, str] = {}
    for source, layer in named:
        for name, value in _flat(layer).items():
            if value is not None:
                sources[name] = source
    return config, sources


def read_file(path: str) -> dict[str, Any]:
    """A TOML configuration file. Raises ConfigError."""
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def _flat(layer: Mapping[str, Any]) -> dict[str, Any]:
    """A layer's settings by name ([limits] and [retention] tables opened)."""
    flat: dict[str, Any] = {}
    for name, value in layer.items():
        if name in ("limits", "retention") and isinstance(value, Mapping):
            for inner, inner_value in value.items():
                flat["retain_" + inner if name == "retention" else inner] = inner_value
        else:
            flat[name] = value
    return flat


def _given(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in _flat(layer).items() if v is not None} for layer in layers]


def default_db() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("soketler"), "history.sqlite3")


def run_from_args(args: argparse.Namespace) -> int:
    try:
        config, sources = configured(args)
    except ConfigError as exc:
        print(f"soketler serve: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    problems = config.problems() + door_problems(config)
    if config.motd and not os.access(config.motd, os.R_OK):
        problems.append(f"cannot read the MOTD file {config.motd}")
    if problems:
        print(f"soketler serve: {'; '.join(problems)}", file=sys.stderr)
        return exitcodes.USAGE
    if getattr(args, "print_config", False):
        print(configtext.render(config, sources), end="")
        return exitcodes.OK
    worker = worker_index()
    logging.basicConfig(
        level=config.log_level.upper(),
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

    def reread() -> ServerConfig:
        """SIGHUP: the file and the environment again (the flags have not changed)."""
        again = config_from_args(args)
        return again if worker is None or worker == 0 else replace(again, unix=None)

    try:
        return loops.run(lambda: serve(config, reread), config.loop)
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


async def serve(config: ServerConfig, reread: Callable[[], ServerConfig] | None = None) -> int:
    """Runs the server until SIGTERM or SIGINT; SIGHUP reads the configuration again
    (`reread`) for what may change while clients stay connected (ChatServer.reload)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    server = ChatServer(config)
    where = ", ".join(config.hosts) or "all addresses"
    try:
        await server.start()
    except TlsError as exc:
        print(f"soketler serve: {exc.message}", file=sys.stderr)
        return exitcodes.TLS
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
    reloading: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        task = loop.create_task(_reload(server, reread))
        reloading.add(task)
        task.add_done_callback(reloading.discard)

    loop.add_signal_handler(signal.SIGHUP, hangup)
    if server.self_signed is not None:
        made = "made a" if server.self_signed.created else "using the"
        print(
            f"TLS: {made} self-signed certificate {server.self_signed.cert_path}\n"
            f"TLS: SHA256 fingerprint {server.self_signed.fingerprint_text}\n"
            f"TLS: clients: soketler chat --tls --tls-fingerprint "
            f"{server.self_signed.fingerprint_text} HOST",
            flush=True,
        )
    elif server.tls is not None:
        print(f"TLS: certificate SHA256 {format_fingerprint(server.tls.fingerprint)}", flush=True)
    # Only now say where we listen: whoever waits for this line may signal us at once.
    for door, address, tls in server.listening:
        print(f"listening on {address}{_listener_note(door, tls)}", flush=True)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
        for task in list(reloading):
            task.cancel()
    log.info("shutting down")
    await server.shutdown()
    return exitcodes.OK


def _listener_note(door: str, tls: bool) -> str:
    """What follows an address in "listening on ...": the door unless it is the lines
    door, and TLS ("(TLS)", "(irc, TLS)", "(web, HTTPS)")."""
    words = [] if door == "lines" else [door]
    if tls:
        words.append("HTTPS" if door == "web" else "TLS")
    return f" ({', '.join(words)})" if words else ""


async def _reload(server: ChatServer, reread: Callable[[], ServerConfig] | None) -> None:
    """SIGHUP: the configuration file and the environment again; a configuration that
    cannot be used changes nothing (the server goes on as it was)."""
    log.info("SIGHUP: reading the configuration again")
    try:
        config = reread() if reread is not None else server.config
    except ConfigError as exc:
        log.error("SIGHUP: %s; nothing changed", exc)
        return
    problems = config.problems()
    if problems:
        log.error("SIGHUP: %s; nothing changed", "; ".join(problems))
        return
    for done in await server.reload(config):
        log.info("SIGHUP: %s", done)


# The option that moves each listener (door, TLS), for the hint when its port is taken.
PORT_OPTIONS = {
    ("lines", False): "--port",
    ("lines", True): "--tls-port",
    ("irc", False): "--irc-port",
    ("irc", True): "--irc-tls-port",
    ("web", False): "--web-port",
    ("web", True): "--web-port",
    ("ssh", False): "--ssh-port",
}


def _start_error(exc: OSError, config: ServerConfig, where: str) -> int:
    port = config.port
    hint = ""
    if isinstance(exc, ListenFailed):  # the listener that failed to open
        listener = exc.listener
        port = listener.port
        where = ", ".join(listener.hosts) or "all addresses"  # (--web-host: elsewhere)
        if listener.door != "lines":
            where = f"{where} ({listener.door})"
            # Another server on this machine (a second node of a cluster, say) has the
            # door's default port: say how to choose another.
            option = PORT_OPTIONS.get((listener.door, listener.tls))
            if option is not None:
                hint = f"; {option} PORT chooses another, {option} 0 none"
    target = f"{where} port {port}" if port is not None else str(config.unix)
    if exc.errno == errno.EADDRINUSE:
        print(f"soketler serve: address already in use: {target}{hint}", file=sys.stderr)
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
