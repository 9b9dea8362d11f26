"""Opening sockets the way nc does: connecting out and listening in.

Connecting tries each address the name resolves to, in the resolver's order, and
reports the last failure. Listening with no address binds one IPv6 socket with
IPV6_V6ONLY off, which takes IPv4 clients too (as `::ffff:a.b.c.d`), and falls
back to IPv4 alone on a host without IPv6.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import stat
from typing import Any

from soketler import exitcodes
from soketler.tools.errors import ToolError, from_os_error, unknown_host, where

LISTEN_BACKLOG = 128


def show(sockaddr: Any) -> str:
    """`127.0.0.1 port 5555` for an IP address (IPv4-mapped IPv6 shown as IPv4)."""
    if isinstance(sockaddr, tuple):
        host, port = sockaddr[0], sockaddr[1]
        if isinstance(host, str) and host.startswith("::ffff:") and "." in host:
            host = host.removeprefix("::ffff:")
        return f"{host} port {port}"
    if isinstance(sockaddr, bytes):
        sockaddr = sockaddr.decode(errors="replace")
    return str(sockaddr) or "a Unix socket client"


async def addresses(
    host: str, port: int | None, family: int, kind: int, flags: int = 0
) -> list[tuple[Any, ...]]:
    """getaddrinfo without blocking the loop; failures become UNKNOWN_HOST errors."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.getaddrinfo(host, port, family=family, type=kind, flags=flags)
    except (socket.gaierror, UnicodeError) as exc:
        if flags & socket.AI_NUMERICHOST:
            raise ToolError(
                f"not a numeric address: {host} (-n looks up no names)", exitcodes.UNKNOWN_HOST
            ) from None
        raise unknown_host(host, exc) from None


async def connect(
    host: str,
    port: int,
    *,
    family: int = socket.AF_UNSPEC,
    udp: bool = False,
    attempt_timeout: float | None = None,
    numeric: bool = False,
    source: str | None = None,
    source_port: int = 0,
) -> socket.socket:
    """A connected TCP (or UDP) socket to `host`, trying each of its addresses.

    `attempt_timeout` bounds each address's attempt, as `nc -w` does. `numeric`: `host`
    must be an address, no name is looked up (`nc -n`). `source`, `source_port`: the
    local address and port to connect from (`nc -s`, `nc -p`).
    """
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    flags = socket.AI_NUMERICHOST if numeric else 0
    infos = await addresses(host, port, family, kind, flags)
    failure: BaseException | None = None
    for af, socktype, proto, _, sockaddr in infos:
        sock = socket.socket(af, socktype, proto)
        try:
            if source is not None or source_port:
                await _bind_source(sock, af, kind, source, source_port, flags)
            sock.setblocking(False)
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(sock, sockaddr), attempt_timeout
            )
        except (OSError, TimeoutError, ToolError) as exc:
            sock.close()
            failure = exc
            continue
        except BaseException:
            sock.close()
            raise
        if not udp:
            # Lines typed by a person should leave at once, not wait for an ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    if failure is None:
        raise ToolError(f"unknown host: {host} (no usable address)", exitcodes.UNKNOWN_HOST)
    raise from_os_error(failure, host, port, "connect")


async def _bind_source(
    sock: socket.socket, family: int, kind: int, source: str | None, port: int, flags: int
) -> None:
    """Binds `sock` to the local address and port a connection should come from."""
    if source is None:
        local: Any = ("::", port, 0, 0) if family == socket.AF_INET6 else ("0.0.0.0", port)
    else:
        infos = await addresses(source, port, family, kind, flags | socket.AI_PASSIVE)
        local = infos[0][4]
    # nc does the same: a source port used a moment ago may still be in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(local)
    except OSError as exc:
        raise from_os_error(exc, str(local[0]), port, "bind") from None


async def connect_unix(path: str, *, attempt_timeout: float | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, path), attempt_timeout)
    except (OSError, TimeoutError) as exc:
        sock.close()
        raise from_os_error(exc, path, None, "connect") from None
    except BaseException:
        sock.close()
        raise
    return sock


async def listener(
    host: str | None,
    port: int,
    *,
    family: int = socket.AF_UNSPEC,
    udp: bool = False,
    numeric: bool = False,
) -> socket.socket:
    """A bound (and, for TCP, listening) socket; `host=None` means every address.

    `numeric`: `host` must be an address; no name is looked up (`nc -n`)."""
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    if host is None:
        candidates = _wildcards(family, kind, port)
    else:
        flags = socket.AI_PASSIVE | (socket.AI_NUMERICHOST if numeric else 0)
        infos = await addresses(host, port, family, kind, flags)
        candidates = [(info[0], info[4], True) for info in infos[:1]]
    failure: OSError | None = None
    for af, sockaddr, v6only in candidates:
        try:
            sock = socket.socket(af, kind)
        except OSError as exc:  # this address family is not built into the kernel
            failure = exc
            continue
        try:
            if af == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
            if not udp:
                # A restarted listener should not wait out TIME_WAIT; a port somebody
                # is still listening on stays refused all the same.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            if not udp:
                sock.listen(LISTEN_BACKLOG)
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EAFNOSUPPORT:
                failure = exc
                continue
            raise from_os_error(exc, sockaddr[0] or host or "*", port, "listen") from None
        return sock
    assert failure is not None
    raise from_os_error(failure, host or "*", port, "listen")


def _wildcards(family: int, kind: int, port: int) -> list[tuple[int, Any, bool]]:
    if family == socket.AF_INET:
        return [(socket.AF_INET, ("0.0.0.0", port), False)]
    if family == socket.AF_INET6:
        return [(socket.AF_INET6, ("::", port), True)]
    both: list[tuple[int, Any, bool]] = []
    if socket.has_ipv6:
        both.append((socket.AF_INET6, ("::", port), False))
    both.append((socket.AF_INET, ("0.0.0.0", port), False))
    return both


def unix_listener(path: str, *, udp: bool = False) -> socket.socket:
    """A Unix socket listening at `path`, replacing a stale socket file left there.

    Only a socket file that nobody answers on is removed: a live server's socket
    means "address in use", and any other kind of file is never touched.
    """
    _clear_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    try:
        sock.bind(path)
        if not udp:
            sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        raise from_os_error(exc, path, None, "listen") from None
    return sock


def _clear_stale_socket(path: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise from_os_error(exc, path, None, "listen") from None
    if not stat.S_ISSOCK(mode):
        raise ToolError(
            f"address in use: {path} exists and is not a socket (not removing it)",
            exitcodes.ADDRESS_IN_USE,
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        pass  # nobody listens: the file is left over from a server that died
    except OSError as exc:
        if exc.errno != errno.EPROTOTYPE:  # a datagram socket's file: probe cannot tell
            raise from_os_error(exc, path, None, "listen") from None
    else:
        raise ToolError(
            f"address in use: a server is listening on {path}", exitcodes.ADDRESS_IN_USE
        )
    finally:
        probe.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def socket_file_id(path: str) -> tuple[int, int] | None:
    """Identifies the file at `path`, so that we later remove only the one we made."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def remove_unix_socket(path: str, made: tuple[int, int] | None) -> None:
    """Removes our socket file unless somebody has replaced it meanwhile."""
    if made is not None and socket_file_id(path) == made:
        with contextlib.suppress(OSError):
            os.unlink(path)


def describe_listener(sock: socket.socket) -> str:
    name = sock.getsockname()
    if sock.family == socket.AF_UNIX:
        return show(name)
    return where(name[0], name[1])
