"""Carrying out what a typed line asked for, the same way on a terminal and in a pipe."""

from __future__ import annotations

from collections.abc import Callable

from soketler.client.chat_client import ChatClient
from soketler.client.commands import (
    Action,
    Problem,
    QuitChat,
    Send,
    ShowHelp,
    SwitchRoom,
    help_text,
)
from soketler.client.errors import ConnectionLost
from soketler.client.events import ChatMessage, Disconnected, Event, Reconnected
from soketler.client.render import Fragments, Renderer, error_line, escape, info_line
from soketler.client.state import ChatState


async def perform(
    action: Action, client: ChatClient, state: ChatState, show: Callable[[Fragments], None]
) -> bool:
    """Does `action`; False when it was the request to leave."""
    match action:
        case Send(request=request):
            try:
                await client.submit(request)
            except ConnectionLost:
                show(error_line("Not connected: that line was not sent."))
        case SwitchRoom(room=room):
            # The client keeps it too, to come back to this room after a reconnect.
            client.make_current(room)
            show_locally(action, state, show)
        case QuitChat():
            return False
        case _:
            show_locally(action, state, show)
    return True


def show_locally(action: Action, state: ChatState, show: Callable[[Fragments], None]) -> None:
    """Does what a line asks that needs no server (switching the room typed into, the
    help, a mistake); a request or a quit does nothing here."""
    match action:
        case SwitchRoom(room=room):
            switched = state.switch(room)
            if switched is None:
                shown = escape(room)
                show(error_line(f"You are not in {shown}. Type /join {shown} first."))
            else:
                show(info_line(f"Now typing into {switched}."))
        case ShowHelp():
            show(info_line(help_text()))
        case Problem(text=text):
            show(error_line(text))


def showing(
    state: ChatState, renderer: Renderer, show: Callable[[Fragments], None]
) -> Callable[[Event], None]:
    """An `on_event` hook that keeps `state` and the screen in step with the connection.

    Updating and drawing at arrival, not when the stream is read, means a line is
    drawn against the rooms as they were when it arrived, and a line typed right
    after `--join #ops` already goes to #ops.
    """

    rejoining = False

    def on_event(event: Event) -> None:
        nonlocal rejoining
        if isinstance(event, Disconnected | Reconnected):
            rejoining = isinstance(event, Disconnected) and event.reconnecting
        elif rejoining and isinstance(event, ChatMessage) and event.history and state.seen(event):
            return  # the rejoin after a reconnect replays what is already on screen
        state.apply(event)
        fragments = renderer.fragments(event)
        if fragments is not None:
            show(fragments)

    return on_event
