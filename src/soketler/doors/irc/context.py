"""The response buffer a handler answers into, with the hub and the client at hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from soketler.doors.irc.client import IrcClient
from soketler.doors.irc.hubapi import IrcHub
from soketler.doors.irc.server_info import ServerInfo
from soketler.protocols.irc import texts
from soketler.protocols.irc.message import Message


@dataclass(slots=True)
class Context:
    hub: IrcHub
    server: ServerInfo
    client: IrcClient
    # Where answers that come later (after a slow check) are sent, in the connection's
    # order; the door sets it.
    deliver: Callable[[list[Message]], None] = field(default=lambda messages: None)
    out: list[Message] = field(default_factory=list)
    invalid_utf8: bool = False  # the message being handled was not valid UTF-8

    def later(self) -> Context:
        """A buffer for an answer that comes later (send it with `deliver`)."""
        return Context(self.hub, self.server, self.client, self.deliver)

    def numeric(self, code: str, *params: str, text: bool = True) -> None:
        """A numeric reply from the server to this client; `text`: the last is prose."""
        self.out.append(Message(code, (self.client.nick, *params), self.server.name, trailing=text))

    def send(self, command: str, *params: str, source: str | None = None) -> None:
        self.out.append(Message(command, params, source or self.server.name, trailing=True))

    def fail(self, command: str, code: str, *context: str) -> None:
        """An IRCv3 standard reply: FAIL <command> <code> [<context>...] :<description>."""
        self.out.append(Message("FAIL", (command, code, *context), self.server.name, trailing=True))

    def close(self, reason: str) -> None:
        """End the connection: ERROR is the last line the client gets (RFC 2812 3.1.7)."""
        text = texts.CLOSING_LINK.format(host=self.client.host, reason=reason)
        self.out.append(Message("ERROR", (text,), trailing=True))
        self.client.closing = reason

    @property
    def own_source(self) -> str:
        session = self.client.session
        return f"{session.nick}!{session.user}@{session.host}"
