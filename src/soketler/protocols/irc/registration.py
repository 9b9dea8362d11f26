"""Connection registration: PASS, NICK, USER and CAP until the client may be welcomed.

RFC 2812 section 3.1 as the Modern document clarifies it: the client sends NICK and
USER (PASS first when the server wants one) in any order; a client that sent CAP LS or
CAP REQ is not registered before CAP END, however early NICK and USER came.

This object only collects and checks what the client said. Whether the nickname is
free is the hub's business: when `outcome()` is `Ready`, the door asks the hub, and
if the hub says no it sends the numeric and calls `refuse_nick()`, so the next NICK
tries again.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from soketler.errors import LocalProtocolError
from soketler.protocols.irc import numerics, texts
from soketler.protocols.irc.caps import CapNegotiation
from soketler.protocols.irc.message import Message

USERLEN = 18
REALNAME_LEN = 100
DEFAULT_USERNAME = "user"
REGISTRATION_COMMANDS = frozenset({"PASS", "NICK", "USER", "CAP"})

# Characters that would break the nick!user@host form or a mask match.
_NOT_IN_USERNAME = frozenset("@!*?,:#$")


@dataclass(frozen=True, slots=True)
class Ready:
    nick: str
    user: str
    realname: str


@dataclass(frozen=True, slots=True)
class BadPassword:
    """The server wants a password and the client gave none or a wrong one."""


def clean_username(raw: str) -> str:
    """The USER name as it may appear in nick!user@host."""
    kept = "".join(
        c for c in raw if c.isprintable() and not c.isspace() and c not in _NOT_IN_USERNAME
    )
    return kept[:USERLEN] or DEFAULT_USERNAME


class Registration:
    __slots__ = ("_password", "caps", "nick", "password_given", "realname", "server", "user")

    def __init__(self, server: str, caps: CapNegotiation, password: str | None = None) -> None:
        self.server = server
        self.caps = caps
        self._password = password
        self.nick: str | None = None
        self.user: str | None = None
        self.realname = ""
        self.password_given: str | None = None

    def receive(self, message: Message) -> list[Message]:
        """Take one of PASS, NICK, USER or CAP; return what to answer."""
        command, params = message.command, message.params
        if command == "CAP":
            return self.caps.handle(params, "*", registered=False).replies
        if command == "PASS":
            if not params:
                return [self._error(numerics.ERR_NEEDMOREPARAMS, "PASS", texts.NEED_MORE_PARAMS)]
            self.password_given = params[0]
        elif command == "NICK":
            if not params or not params[0]:
                return [self._error(numerics.ERR_NONICKNAMEGIVEN, texts.NO_NICKNAME_GIVEN)]
            self.nick = params[0]
        elif command == "USER":
            # USER <username> <mode> <unused> :<realname>; "the minimum length of
            # <username> is 1" and an empty realname is refused the same way.
            if len(params) < 4 or not params[0] or not params[3]:
                return [self._error(numerics.ERR_NEEDMOREPARAMS, "USER", texts.NEED_MORE_PARAMS)]
            self.user = clean_username(params[0])
            self.realname = params[3][:REALNAME_LEN]
        else:
            raise LocalProtocolError(f"{command} is not a registration command")
        return []

    def outcome(self) -> Ready | BadPassword | None:
        """What registration has come to; None while something is missing."""
        if self.nick is None or self.user is None or self.caps.negotiating:
            return None
        if self._password is not None and not (
            self.password_given is not None
            and hmac.compare_digest(self.password_given.encode(), self._password.encode())
        ):
            return BadPassword()
        return Ready(self.nick, self.user, self.realname)

    def refuse_nick(self) -> None:
        """The hub refused the nickname; wait for another NICK."""
        self.nick = None

    def _error(self, numeric: str, *params: str) -> Message:
        return Message(numeric, ("*", *params), self.server, trailing=True)
