"""What can go wrong for a chat client, one exception each, with the CLI's exit code.

`str(error)` is the one line to show a person; `exit_code` is what `soketler chat`
exits with (see `soketler.exitcodes` and `soketler chat --help`).
"""

from __future__ import annotations

from soketler import exitcodes
from soketler.errors import SoketlerError


class ClientError(SoketlerError):
    """Root of the chat client's exceptions."""

    exit_code = exitcodes.FAILURE


class ConnectFailed(ClientError):
    """No connection: refused, no such host, unreachable, timed out, or turned away."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class TlsFailed(ConnectFailed):
    """TLS: the server's certificate was refused, or the handshake failed.

    Never retried by reconnecting: a certificate that changes while we are away is
    what an impostor's looks like, and a person must decide.
    """

    def __init__(self, message: str, exit_code: int = exitcodes.TLS) -> None:
        super().__init__(message, exit_code)


class NickRejected(ClientError):
    """The server refused the nickname; `code` is its error code, the message its reason."""

    exit_code = exitcodes.PROTOCOL

    def __init__(self, nick: str, code: str, reason: str) -> None:
        super().__init__(f"nickname {nick!r} rejected: {reason}")
        self.nick = nick
        self.code = code
        self.reason = reason


class ConnectionLost(ClientError):
    """The connection is gone (or not there yet); the request was not sent."""

    exit_code = exitcodes.RESET


class RequestFailed(ClientError):
    """The server answered a request with an error."""

    exit_code = exitcodes.PROTOCOL

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class RequestTimeout(ClientError, TimeoutError):
    """The server did not answer a request in time."""

    exit_code = exitcodes.TIMEOUT
