"""The SSH door: `ssh -p 2222 ayse@host` joins the same rooms as everyone else.

Like every door, three parts:
- Its wire format is the JSON-lines flavour, spoken inside the server. Each SSH
  session has a screen (`screen.py`: `terminal.py` with a PTY, `piped.py` without)
  made of the terminal client's pieces (`soketler chat`: its commands, state and
  rendering); it hands typed lines to the session's pump as JSON requests and reads
  the hub's JSON events back, as `soketler chat` does over TCP. So the rate limit,
  the SendQ and the line limit apply as to every client.
- Its policy is the lines door's (everyone starts in #lobby with its last messages,
  the same commands), plus a rule of its own: the SSH user name is the nickname, and a
  nickname claimed by a key, or registered as an account, is refused to the others
  (`identity.py`).
- Its listener (`listener.py`, `server.py`: asyncssh) is opened by the server like any
  listener entry (`--ssh-port`).

asyncssh is imported only when an SSH listener opens (it takes a third of a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soketler.core.config import Listener, ServerConfig
from soketler.core.hub import Hub
from soketler.core.session import Peer, Session
from soketler.doors import Door, Listening
from soketler.doors.lines import commands
from soketler.doors.ssh.pump import SshPump
from soketler.protocols import codes
from soketler.protocols.connection import ServerConnection
from soketler.protocols.events import ClientEvent, Error, Request
from soketler.protocols.jsonlines import JSON

if TYPE_CHECKING:
    from soketler.transport.server import ChatServer

NAME = "ssh"
# Requests that take a nickname, and the field that names it.
_NICK_REQUESTS = frozenset({"hello", "nick"})


def open_session(hub: Hub, peer: Peer, address: str = "") -> Session:
    """No greeting: the session's screen registers the SSH user name at once and shows
    the welcome that answers it."""
    return hub.open(peer, address, NAME, JSON)


def handle(hub: Hub, session: Session, event: ClientEvent) -> None:
    """One request, by the lines door's table, once the nickname rule has passed."""
    if session.closed:
        return
    if isinstance(event, Request) and event.command in _NICK_REQUESTS:
        refusal = _nick_refusal(session, event)
        if refusal is not None:
            hub.send(session, refusal)
            return
    commands.dispatch(hub, session, event)


def _nick_refusal(session: Session, request: Request) -> Error | None:
    peer = session.peer
    nick = (request.fields or {}).get("nick")
    if not isinstance(peer, SshPump) or peer.login is None or not isinstance(nick, str):
        return None  # the table's own checks answer a missing or malformed nickname
    problem = peer.guard.problem(peer.login, nick)
    if problem is None:
        return None
    # While registering, the person is asked to choose again, as for a taken nickname.
    prompt = not session.registered
    return Error(codes.NICK_TAKEN, problem, request.id, nick, prompt=prompt)


def new_receiver(config: ServerConfig) -> ServerConnection:
    # The screen sends only JSON lines: no close words, no telnet.
    return ServerConnection(config.limits.max_line, frozenset())


async def listen(server: ChatServer, listener: Listener) -> Listening:
    from soketler.doors.ssh.listener import listen as listen_ssh

    return await listen_ssh(server, listener, DOOR)


DOOR = Door(NAME, open_session, handle, new_receiver, listen=listen)
