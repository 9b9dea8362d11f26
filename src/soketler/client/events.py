"""The events a `ChatClient` yields: what the server said, and what happened to the link.

The server's events are the same frozen dataclasses the server encodes
(`soketler.protocols.events`), so both ends agree on one definition of each. The
client adds a few of its own: lines that were not protocol, and the connection
coming and going.
"""

from __future__ import annotations

from dataclasses import dataclass

from soketler.protocols.events import (
    Bye,
    ChatMessage,
    Error,
    HistoryEnd,
    Info,
    Joined,
    Members,
    NickChanged,
    Parted,
    Pong,
    Quit,
    RequestId,
    RoomInfo,
    RoomList,
    ServerEvent,
    TopicChanged,
    Welcome,
)

__all__ = [
    "BadLine",
    "Bye",
    "ChatMessage",
    "Disconnected",
    "Error",
    "Event",
    "Greeting",
    "HistoryEnd",
    "Info",
    "Joined",
    "Members",
    "NickChanged",
    "Parted",
    "Pong",
    "Quit",
    "Reconnected",
    "Reconnecting",
    "RequestId",
    "RoomInfo",
    "RoomList",
    "ServerEvent",
    "TopicChanged",
    "Unknown",
    "Welcome",
]


@dataclass(frozen=True, slots=True)
class Greeting:
    """A plain-text line the server sent before the JSON `hello` reply."""

    text: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """A JSON object of a type this client does not know.

    Newer servers may add types without raising the protocol version; old clients
    are meant to ignore them, so this is not an error.
    """

    type: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line from the server that broke the protocol; it was dropped."""

    reason: str
    line: str = ""


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection is gone. `reconnecting`: the client is trying to get it back."""

    reason: str
    reconnecting: bool


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """The next attempt to reconnect is `delay` seconds away (`ChatClient.retry_now`
    makes it at once); `attempt` counts from 1."""

    delay: float
    attempt: int


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The connection is back, registered as `nick`, in `rooms` again."""

    nick: str
    rooms: tuple[str, ...]


LocalEvent = Greeting | Unknown | BadLine | Disconnected | Reconnecting | Reconnected
Event = ServerEvent | LocalEvent
