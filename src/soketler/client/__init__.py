"""The chat client: `ChatClient` (asyncio), `SyncChatClient` (blocking), typed events.

    from soketler.client import ChatClient, ChatMessage

    async with ChatClient("localhost", 61000, nick="bot", rooms=["#dev"]) as chat:
        async for event in chat:
            if isinstance(event, ChatMessage) and event.text == "!ping":
                await chat.send(event.room, "pong")

docs/client.md describes the API; `soketler chat` is built on it.
"""

from soketler.client.backoff import Backoff
from soketler.client.chat_client import ChatClient
from soketler.client.errors import (
    ClientError,
    ConnectFailed,
    ConnectionLost,
    NickRejected,
    RequestFailed,
    RequestTimeout,
)
from soketler.client.events import (
    BadLine,
    Bye,
    ChatMessage,
    Disconnected,
    Error,
    Event,
    Greeting,
    Info,
    Joined,
    Members,
    NickChanged,
    Parted,
    Pong,
    Quit,
    Reconnected,
    Reconnecting,
    RoomInfo,
    RoomList,
    TopicChanged,
    Unknown,
    Welcome,
)
from soketler.client.sync_client import SyncChatClient

__all__ = [
    "Backoff",
    "BadLine",
    "Bye",
    "ChatClient",
    "ChatMessage",
    "ClientError",
    "ConnectFailed",
    "ConnectionLost",
    "Disconnected",
    "Error",
    "Event",
    "Greeting",
    "Info",
    "Joined",
    "Members",
    "NickChanged",
    "NickRejected",
    "Parted",
    "Pong",
    "Quit",
    "Reconnected",
    "Reconnecting",
    "RequestFailed",
    "RequestTimeout",
    "RoomInfo",
    "RoomList",
    "SyncChatClient",
    "TopicChanged",
    "Unknown",
    "Welcome",
]
