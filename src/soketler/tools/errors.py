"""One clear line and one exit code for every way a network tool can fail.

The command-line tools never show a traceback: each failure is turned into a
`ToolError` carrying the line to print and the documented exit code (see
`soketler.exitcodes`). The Python API raises the same exception, so scripts can
catch one type and still tell the cases apart by `exit_code`.
"""

from __future__ import annotations

import errno
import socket

from soketler import exitcodes
from soketler.errors import SoketlerError


class ToolError(SoketlerError):
    """A network tool failed; `str(error)` is the one line to show a person."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def where(host: str, port: int | None) -> str:
    """`host port N` as nc prints it, or just the path for a Unix socket."""
    return host if port is None else f"{host} port {port}"


# getaddrinfo's "no such name" family of answers; all of them mean the same to a person.
_UNKNOWN_HOST_CODES = frozenset(
    code
    for code in (
        getattr(socket, "EAI_NONAME", None),
        getattr(socket, "EAI_NODATA", None),
        getattr(socket, "EAI_FAIL", None),
        getattr(socket, "EAI_AGAIN", None),
        getattr(socket, "EAI_ADDRFAMILY", None),
    )
    if code is not None
)


def unknown_host(host: str, exc: BaseException | None = None) -> ToolError:
    """For a failed name lookup: a gaierror, or the UnicodeError Python raises for a
    name that breaks DNS rules (a label over 63 bytes) before asking anyone."""
    if isinstance(exc, UnicodeError):
        return ToolError(f"unknown host: {host} (not a valid name)", exitcodes.UNKNOWN_HOST)
    if isinstance(exc, socket.gaierror) and exc.errno not in _UNKNOWN_HOST_CODES:
        return ToolError(f"cannot resolve {host}: {exc.strerror}", exitcodes.UNKNOWN_HOST)
    return ToolError(f"unknown host: {host}", exitcodes.UNKNOWN_HOST)


def from_os_error(exc: BaseException, host: str, port: int | None, action: str) -> ToolError:
    """Maps what the kernel said while `action`-ing `host`/`port` to a ToolError.

    `action` is "connect", "listen", "send" or "receive": the same errno reads
    differently depending on it (EACCES on bind is a privileged port, on connect a
    firewall).
    """
    target = where(host, port)
    if isinstance(exc, ToolError):
        return exc
    if isinstance(exc, socket.gaierror):
        return unknown_host(host, exc)
    if isinstance(exc, TimeoutError):
        return ToolError(f"timed out: {action} {target}", exitcodes.TIMEOUT)
    if not isinstance(exc, OSError):
        return ToolError(f"{action} {target}: {exc}", exitcodes.FAILURE)
    code = exc.errno
    if code == errno.ECONNREFUSED:
        return ToolError(f"connection refused: {target}", exitcodes.REFUSED)
    if code == errno.ENOENT and port is None:
        return ToolError(f"no Unix socket at {host}", exitcodes.REFUSED)
    if code in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.ENETDOWN):
        return ToolError(f"unreachable: {target} ({exc.strerror})", exitcodes.UNREACHABLE)
    if code == errno.ETIMEDOUT:
        return ToolError(f"timed out: {action} {target}", exitcodes.TIMEOUT)
    if code == errno.EADDRINUSE:
        return ToolError(f"address in use: {target}", exitcodes.ADDRESS_IN_USE)
    if code == errno.EADDRNOTAVAIL:
        return ToolError(
            f"address not available on this machine: {target}", exitcodes.ADDRESS_IN_USE
        )
    if code in (errno.EACCES, errno.EPERM):
        if action == "listen" and port is not None and 0 < port < 1024:
            return ToolError(
                f"permission denied: {target} (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                exitcodes.PERMISSION_DENIED,
            )
        return ToolError(f"permission denied: {action} {target}", exitcodes.PERMISSION_DENIED)
    if code in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
        return ToolError(f"connection reset by peer: {target}", exitcodes.RESET)
    reason = exc.strerror or str(exc)
    return ToolError(f"{action} {target}: {reason}", exitcodes.FAILURE)
