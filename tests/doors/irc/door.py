"""Driving the IRC door's handlers with lines of text, against the fake hub."""

from __future__ import annotations

from soketler.doors.irc.client import IrcClient
from soketler.doors.irc.commands import handle_events
from soketler.doors.irc.context import Context
from soketler.doors.irc.server_info import ServerInfo
from soketler.protocols.irc.message import Message
from soketler.protocols.irc.receiver import IrcReceiver
from tests.doors.irc.fakehub import FIXED, FakeHub, FakeSession

SERVER = "irc.test"


class Door:
    def __init__(
        self,
        *,
        password: str | None = None,
        motd: tuple[str, ...] = (),
        opers: dict[str, str] | None = None,
        accounts: dict[str, str] | None = None,
        private: bool = True,
    ) -> None:
        self.hub = FakeHub(opers, password=password, accounts=accounts, private=private)
        self.server = ServerInfo(SERVER, motd=motd, password=password, created=FIXED)

    def connect(self) -> Client:
        return Client(self)

    def user(self, nick: str, *caps: str) -> Client:
        """A registered client (with `caps` negotiated), its welcome taken."""
        client = Client(self)
        lines = [f"CAP REQ :{' '.join(caps)}"] if caps else []
        replies = client.send(*lines, f"NICK {nick}", f"USER {nick} 0 * :{nick} real", "CAP END")
        assert "001" in [m.command for m in replies], replies
        return client


class Client:
    def __init__(self, door: Door) -> None:
        self.door = door
        self.session: FakeSession = door.hub.open()
        self.state = IrcClient(door.server, self.session, self.session.host)
        self.receiver = IrcReceiver()

    def send(self, *lines: str) -> list[Message]:
        """Lines as the client types them; what the door answered directly."""
        return self.send_bytes("".join(line + "\r\n" for line in lines).encode())

    def send_bytes(self, data: bytes) -> list[Message]:
        self.receiver.receive_data(data)
        ctx = Context(self.door.hub, self.door.server, self.state)
        ctx.deliver = ctx.out.extend  # answers that come later: the fake hub answers at once
        handle_events(ctx, self.receiver.events_received())
        return ctx.out

    def lines(self, *lines: str) -> list[str]:
        return [m.to_line() for m in self.send(*lines)]


def commands(messages: list[Message]) -> list[str]:
    return [m.command for m in messages]
