"""The IRC door's entry: how a connection starts, how each message it sends is
handled, and how an idle one is asked whether it is still there.

Per connection: an `IrcReceiver` (bytes to messages), an `IrcClient` kept as the
session's door state (registration, capabilities), and for each message a `Context`
that the command table answers into. The answers are written through the hub
(`Hub.send_bytes`), behind everything the session is waiting for, so a PONG never
overtakes a message said before the PING.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from soketler.core.config import ServerConfig
from soketler.core.hub import Hub
from soketler.core.session import NO_ECHO, Peer, Session
from soketler.doors import Door, logins
from soketler.doors.irc import sasl
from soketler.doors.irc.adapter import HubAdapter
from soketler.doors.irc.client import IrcClient
from soketler.doors.irc.commands import handle_events
from soketler.doors.irc.context import Context
from soketler.doors.irc.server_info import DEFAULT_NETWORK, ServerInfo
from soketler.protocols.events import Codec
from soketler.protocols.irc.codec import codec_for
from soketler.protocols.irc.message import Message
from soketler.protocols.irc.receiver import InputTooLong, IrcReceiver, Received
from soketler.transport.pump import Pump

log = logging.getLogger("soketler.server")
NAME = "irc"
MAX_MOTD_LINES = 100  # of the --motd file: a reply, not a document


class IrcInput(IrcReceiver):
    """The receiving side as the transport sees it: the codec follows the client's
    capabilities (the door sets it), and nothing is negotiated below IRC."""

    __slots__ = ()

    @property
    def codec(self) -> Codec | None:
        return None

    def data_to_send(self) -> bytes:
        return b""


def read_motd(path: str) -> tuple[str, ...]:
    """The message of the day: the file's lines, or none when there is no file."""
    if not path:
        return ()
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        # Checked when the server starts; a file gone since then is no MOTD (422).
        log.warning("cannot read the MOTD file %s: %s", path, exc.strerror)
        return ()
    return tuple(line.rstrip() for line in text.splitlines()[:MAX_MOTD_LINES])


@functools.lru_cache(maxsize=8)
def server_info(config: ServerConfig, name: str) -> ServerInfo:
    """What the door says about this server (one per configuration)."""
    return ServerInfo(
        name,
        network=config.network or DEFAULT_NETWORK,
        motd=read_motd(config.motd),
        password=config.server_password or None,
    )


def open_session(
    hub: Hub, peer: Peer, address: str = "", config: ServerConfig | None = None
) -> Session:
    """A client connected: it says nothing until it registers (NICK, USER, CAP)."""
    info = server_info(config or ServerConfig(), hub.server_name)
    session = hub.open(peer, address, NAME, codec_for(info.name, ()))
    session.set_flag(NO_ECHO, True)  # until it asks for echo-message
    client = IrcClient(info, session, session.host)
    session.door_state = client
    # SASL is offered where a password may cross: TLS, or this machine.
    session.secure = isinstance(peer, Pump) and peer.secure
    if logins.has_accounts(hub) and logins.private_link(session):
        client.caps.available = {**client.caps.available, sasl.CAP: sasl.MECHANISMS}
    return session


def _write(hub: Hub, session: Session, messages: list[Message]) -> None:
    if messages and not session.closed:
        hub.send_bytes(session, b"".join(message.encode_safely() for message in messages))


def handle(hub: Hub, session: Session, event: object) -> None:
    """One message (or a line too long) from a client."""
    client = session.door_state
    if session.closed or not isinstance(client, IrcClient):
        return
    if not isinstance(event, Received | InputTooLong):
        return

    def deliver(messages: list[Message]) -> None:
        # An answer that came later (a password check) may end the connection too.
        _write(hub, session, messages)
        if client.closing is not None and not session.closed:
            hub.close(session, client.closing, tell=False)

    ctx = Context(HubAdapter(hub), client.server, client, deliver)
    handle_events(ctx, (event,))
    _write(hub, session, ctx.out)
    if client.closing is not None:
        # The ERROR line is already in the session's queue.
        hub.close(session, client.closing, tell=False)


def new_receiver(config: ServerConfig) -> IrcInput:
    return IrcInput()


def probe(hub: Hub, session: Session) -> None:
    """Asks an idle client whether it is there; any line it sends answers."""
    hub.send_bytes(session, Message("PING", (hub.server_name,), trailing=True).encode())


def refusal_line(text: str) -> bytes:
    """A connection refused before it has a session (server full, too many from one
    address): IRC's way to say why."""
    return Message("ERROR", (text,), trailing=True).encode()


DOOR = Door(NAME, open_session, handle, new_receiver, probe=probe, refusal_line=refusal_line)
