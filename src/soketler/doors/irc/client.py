"""The IRC door's state for one connection, beside the hub's session."""

from __future__ import annotations

from soketler.doors.irc.hubapi import HubSession
from soketler.doors.irc.server_info import ServerInfo
from soketler.protocols.irc.caps import CapNegotiation
from soketler.protocols.irc.registration import Registration


class IrcClient:
    __slots__ = (
        "caps",
        "closing",
        "host",
        "operator",
        "registered",
        "registration",
        "server",
        "session",
    )

    def __init__(self, server: ServerInfo, session: HubSession, host: str) -> None:
        self.server = server
        self.session = session
        self.host = host
        self.caps = CapNegotiation(server.name, server.caps)
        self.registration = Registration(server.name, self.caps, server.password)
        self.registered = False
        self.operator = False
        # Set when the door has decided to end the connection (QUIT, a wrong
        # password): the reason the hub is given once the replies are written.
        self.closing: str | None = None

    @property
    def nick(self) -> str:
        """The nick replies are addressed to: '*' until registered."""
        return self.session.nick if self.registered else "*"

    def has_cap(self, name: str) -> bool:
        return name in self.caps.enabled
