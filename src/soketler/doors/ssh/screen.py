"""What one SSH session shows and sends: the terminal client, inside the server.

A screen reads the hub's events as `soketler chat` reads them (the JSON-lines codec,
`ChatState`, `Renderer`) and turns typed lines into requests with the client's own
command parser; the requests go to the session's pump as JSON lines, in order. Lines
wait in the screen, not in the pump: the pump takes one while its rate limit allows
(`pause`/`resume`, from the pump's wire), so a paste is slowed down, never cut for
flooding. `terminal.py` draws on a PTY with prompt_toolkit; `piped.py` serves
sessions without one (`ssh -T host < file`, `ssh host 'a line'`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import tzinfo
from typing import TYPE_CHECKING

from soketler import exitcodes
from soketler.client.actions import show_locally, showing
from soketler.client.codec import ClientProtocol, encode
from soketler.client.commands import Action, QuitChat, Send
from soketler.client.events import Error, Event, Welcome
from soketler.client.render import Fragments, Renderer
from soketler.client.requests import ClientRequest, Leave, Register
from soketler.client.state import ChatState
from soketler.protocols import codes

if TYPE_CHECKING:
    from soketler.doors.ssh.pump import SshPump

# Errors that answer a nickname we asked for while registering.
NICK_REFUSALS = frozenset({codes.NICK_TAKEN, codes.NICK_INVALID})


class SshScreen:
    """The state, rendering and typed lines of one session; subclasses draw and read."""

    def __init__(self, pump: SshPump, tz: tzinfo | None = None) -> None:
        self.pump = pump
        self.protocol = ClientProtocol()
        self.state = ChatState()
        self.renderer = Renderer(self.state, tz)
        self._draw = showing(self.state, self.renderer, self.show)
        self.registered = False  # the hub welcomed us
        self.outbox: deque[bytes] = deque()  # requests the pump has not taken yet
        self.taking = True  # the pump takes lines (not waiting for its rate limit)
        self.closing = False  # the hub has ended the session
        self.gone = False  # the channel is closed
        self.status = exitcodes.OK  # the SSH exit status
        self._feeding = False

    # --- from the hub (through the pump's wire) ------------------------------------

    def receive(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            self.on_event(event)

    def on_event(self, event: Event) -> None:
        if isinstance(event, Welcome):
            self.registered = True
        self._draw(event)
        if isinstance(event, Error) and not self.registered and event.code in NICK_REFUSALS:
            self.nick_refused()

    def show(self, fragments: Fragments) -> None:
        raise NotImplementedError

    def nick_refused(self) -> None:
        """The nickname asked for was refused (taken, invalid, or another key's)."""

    # --- to the hub ----------------------------------------------------------------

    def start(self, nick: str) -> None:
        """Asks for the SSH user name as nickname, before anything typed."""
        self.send(Register(nick))

    def send(self, request: ClientRequest) -> None:
        self.outbox.append(encode(request))
        self._feed()

    def act(self, action: Action | None) -> None:
        """Does what a typed line asks."""
        match action:
            case Send(request=request):
                self.send(request)
            case QuitChat(reason=reason):
                self.leave(reason)
            case None:
                pass
            case _:
                show_locally(action, self.state, self.show)

    def leave(self, reason: str | None = None) -> None:
        """Quits, after the lines typed before (the goodbye then ends the session)."""
        self.state.leaving = True
        self.send(Leave(reason))

    def _feed(self) -> None:
        """Gives the pump lines while it takes them. One at a time: the pump may stop
        taking (its rate limit) after any of them."""
        if self._feeding:
            return  # already under way, further up this call stack
        self._feeding = True
        try:
            while self.outbox and self.taking and not self.closing:
                self.pump.feed(self.outbox.popleft())
        finally:
            self._feeding = False
        self.fed()

    def fed(self) -> None:
        """The outbox got shorter (or the pump stopped taking): room for more input."""

    # The pump's wire says when its rate limit lets lines through.
    def pause(self) -> None:
        self.taking = False

    def resume(self) -> None:
        self.taking = True
        # Not from inside the pump's own call: it is in the middle of its bookkeeping.
        asyncio.get_running_loop().call_soon(self._feed)

    # --- the end -------------------------------------------------------------------

    def finish(self) -> None:
        """The hub has said goodbye: end the screen, then the channel."""
        raise NotImplementedError

    def lost(self) -> None:
        """The channel is gone (the client left or the connection broke)."""
        self.closing = self.gone = True
