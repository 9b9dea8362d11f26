"""An SSH client of the chat: the pump every door's clients have (rate limit, SendQ,
line limit), over an SSH connection instead of a socket.

The pump is made when the TCP connection is accepted, so a connection that has not
logged in yet counts against `--max-clients` and `--max-per-address` like any other;
its session begins when the SSH session channel starts, after login.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from soketler.transport.pump import Pump, Wire

if TYPE_CHECKING:
    from soketler.doors import Door
    from soketler.doors.ssh.identity import Login, NickGuard
    from soketler.transport.server import ChatServer


class Connection(Protocol):
    """What the wire needs of an SSH connection (asyncssh's has it)."""

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


class Channel(Protocol):
    """What the wire needs of an SSH session channel (asyncssh's has it)."""

    def get_write_buffer_size(self) -> int: ...


class Screen(Protocol):
    """The session's screen (doors/ssh/screen.py), as the wire sees it."""

    def receive(self, data: bytes) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def finish(self) -> None: ...


class SshWire:
    """The pump's `Wire` over one SSH connection. Until its session starts it holds only
    the connection (to cut it); then the hub's bytes go to the session's screen, and
    what the channel has not sent yet is what counts against the SendQ."""

    __slots__ = ("_closing", "channel", "connection", "screen")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.channel: Channel | None = None
        self.screen: Screen | None = None
        self._closing = False

    def attach(self, channel: Channel, screen: Screen) -> None:
        self.channel = channel
        self.screen = screen

    def write(self, data: bytes) -> None:
        if self.screen is not None and not self._closing:
            self.screen.receive(data)

    def get_write_buffer_size(self) -> int:
        return 0 if self.channel is None else self.channel.get_write_buffer_size()

    def is_closing(self) -> bool:
        return self._closing

    # The pump stops reading while a client's lines wait for the rate limit: here the
    # screen stops handing it lines (they wait in the screen, in order).
    def pause_reading(self) -> None:
        if self.screen is not None:
            self.screen.pause()

    def resume_reading(self) -> None:
        if self.screen is not None:
            self.screen.resume()

    def close(self) -> None:
        """After the goodbye: the screen ends (a terminal is left tidy, the exit status
        sent), then the channel and the connection."""
        if self._closing:
            return
        self._closing = True
        if self.screen is not None:
            self.screen.finish()
        else:
            self.connection.close()

    def abort(self) -> None:
        self._closing = True
        self.connection.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.connection.get_extra_info(name, default)


class SshPump(Pump):
    """A pump that knows how its client logged in (for the door's nickname rule)."""

    __slots__ = ("guard", "login")

    def __init__(self, server: ChatServer, door: Door, guard: NickGuard) -> None:
        super().__init__(server, door)
        self.guard = guard
        self.login: Login | None = None

    @property
    def secure(self) -> bool:
        return True  # SSH is encrypted

    def refuse(self, transport: Wire, refusal: str) -> None:
        # Nothing can be said before the SSH handshake: the connection is cut at once,
        # which costs less than a handshake (refusals come in floods).
        transport.abort()
