"""The IRC door's state for one connection, beside the hub's session."""

from __future__ import annotations

from soketler.doors.irc.hubapi import HubSession
from soketler.doors.irc.server_info import ServerInfo
from soketler.protocols.irc.caps import CapNegotiation
from soketler.protocols.irc.registration import Registration


class IrcClient:
    __slots__ = (
        "caps",
        "checking",
        "closing",
        "host",
        "operator",
        "pass_tried",
        "password_ok",
        "registered",
        "registration",
        "sasl",
        "server",
        "session",
    )

    def __init__(self, server: ServerInfo, session: HubSession, host: str) -> None:
        self.server = server
        self.session = session
        self.host = host
        self.caps = CapNegotiation(server.name, server.caps)
        # The password is the door's to check (slowly, off the loop): not this object's.
        self.registration = Registration(server.name, self.caps)
        self.registered = False
        self.operator = False
        self.pass_tried = False  # PASS has been checked (once per connection)
        self.password_ok = False  # gave the server password
        self.checking = False  # a password check is under way; registration waits
        self.sasl: list[str] | None = None  # AUTHENTICATE PLAIN under way: its chunks
        # Set when the door has decided to end the connection (QUIT, a wrong
        # password): the reason the hub is given once the replies are written.
        self.closing: str | None = None

    @property
    def nick(self) -> str:
        """The nick replies are addressed to: '*' until registered."""
        return self.session.nick if self.registered else "*"

    def has_cap(self, name: str) -> bool:
        return name in self.caps.enabled
