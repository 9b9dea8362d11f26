"""The message bus of cluster mode, as the hub sees it: neutral, no Redis in sight.

In cluster mode every room and private conversation is a stream shared by all nodes
(server processes). A node publishes an event and delivers nothing itself: it delivers
what the bus brings back from the stream, so every node delivers a stream's events in
the stream's order, and a message's id is the stream's. Besides the rooms' and
conversations' streams there are two of the bus's own:

- the directory (`DIRECTORY`), which every node reads from the moment it starts: who
  is connected on which node, and how many members each room has on each node, so that
  a nickname, WHOIS, `/msg` and the room list are answered from memory on any node;
- each node's inbox (`inbox(node)`): what another node needs this one to do for one of
  its users (read a private conversation, hand over an invitation, end a session).

An event may change records that the bus keeps beside its stream (`Effect`): who is in
a room with which status, the room's settings, the directory's records. Those changes
are made in the same step as the event is added, so a node that reads the records
(`Bus.snapshot`) and then the stream from the position it was given misses nothing and
sees nothing twice. The records are plain strings; their layout is here (`record`,
`MemberRecord`), because the hub writes them and reads them back.

Stream names are the hub's own: a room's key ("#lobby"), a private conversation's two
nickname keys ("ayse bora"), `DIRECTORY`, and `inbox(node)`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from soketler.errors import SoketlerError

DIRECTORY = "@directory"
_INBOX = "!"

# What effects act on: records beside a room's stream, and beside the directory's.
MEMBERS = "members"  # a room's members: nickname key -> MemberRecord
STATE = "state"  # a room's settings and topic: field -> value (see `state_field`)
USERS = "users"  # the directory's users: nickname key -> UserRecord
COUNTS = "counts"  # the directory's room counts: "room key|node" -> count
ROOMS = "rooms"  # the directory's room descriptions: room key -> [name, topic, secret]

# Effects (`Effect.op`), each carried out in the step that adds the event:
SET = "set"  # args (field, value)
DELETE = "delete"  # args (field,)
# args (nickname key, member record): a member joins; the first member of an empty
# room is its operator, and the event says so (`Entry.meta[STATUS]`).
JOIN = "join"
STATUS_OF = "status"  # args (nickname key, status): a member's status changes
RENAME = "rename"  # args (old key, new key, new nickname): a member's record moves
# args (field, node): add the event only if that record is there and is the node's
# (an event made on behalf of a node that is gone, by whichever node notices first).
REQUIRE = "require"
# args (node,): every record of a node (the fifth place of a record) is removed.
DROP_NODE = "drop-node"

# Meta fields of an entry: not part of the event, read by the hub.
TOKEN = "_x"  # the operation that published it (one quit or rename may be many entries)
STATUS = "status"  # a joiner's status, decided with the join


class BusError(SoketlerError):
    """The bus cannot be used (Redis unreachable at start); the text says why."""


class Busy(BusError):
    """Too many events are waiting for the bus: the sender must wait."""


def inbox(node: str) -> str:
    return _INBOX + node


def is_inbox(stream: str) -> bool:
    return stream.startswith(_INBOX)


def is_private(stream: str) -> bool:
    return " " in stream


def node_of_token(token: str) -> str:
    """The node that made an operation, from its token ("node:n")."""
    return token.rpartition(":")[0]


@dataclass(frozen=True, slots=True)
class Effect:
    op: str
    target: str  # MEMBERS, STATE (of the stream's room), USERS, COUNTS, ROOMS
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Entry:
    """One event read from a stream."""

    id: int  # its cursor: the order of the stream (and a message's id)
    event: object
    token: str = ""  # TOKEN: the operation that published it
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Records of a stream, read in one step with the stream's position: reading the
    stream after `position` gives every change since."""

    position: str  # opaque: give it to `Bus.follow`
    records: Mapping[str, Mapping[str, str]]  # by target (MEMBERS, STATE, ...)


# --- records ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A room member as every node may know it. The node is fifth: the bus's scripts
    find it there (REQUIRE, DROP_NODE)."""

    nick: str
    user: str
    host: str
    status: str
    node: str

    def encode(self) -> str:
        return record(self.nick, self.user, self.host, self.status, self.node)

    @classmethod
    def decode(cls, text: str) -> MemberRecord:
        nick, user, host, status, node = json.loads(text)[:5]
        return cls(str(nick), str(user), str(host), str(status), str(node))


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A connected user, in the directory. The node is fifth, as in a member record."""

    nick: str
    user: str
    host: str
    realname: str
    node: str
    signon: float
    flags: int
    away: str | None

    def encode(self) -> str:
        away = self.away or ""
        fields = [self.nick, self.user, self.host, self.realname, self.node, self.signon]
        return json.dumps([*fields, self.flags, away], ensure_ascii=False)

    @classmethod
    def decode(cls, text: str) -> UserRecord:
        nick, user, host, realname, node, signon, flags, away = json.loads(text)[:8]
        return cls(
            str(nick),
            str(user),
            str(host),
            str(realname),
            str(node),
            float(signon),
            int(flags),
            str(away) or None,
        )


def record(*values: str) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def count_field(room_key: str, node: str) -> str:
    # A node id holds no "|" (keys.check_node_id), so the node is what follows the last.
    return f"{room_key}|{node}"


# --- events that only travel between nodes --------------------------------------------
# (Each is a frozen dataclass of plain fields, so the bus can carry it as it carries
# the events people see.)


@dataclass(frozen=True, slots=True)
class UserArrived:
    """A user registered on a node, or its details changed (flags): the whole record."""

    nick: str
    user: str
    host: str
    realname: str
    node: str
    signon: float
    flags: int = 0
    away: str | None = None


@dataclass(frozen=True, slots=True)
class NodeLeft:
    """A node stopped, or was found dead: everyone it served is gone."""

    node: str
    reason: str


@dataclass(frozen=True, slots=True)
class RoomCounted:
    """How many members a room has on one node now (0: none)."""

    room_key: str
    name: str
    node: str
    count: int


@dataclass(frozen=True, slots=True)
class RoomDescribed:
    """What the room list shows of a room: its name, topic and whether it is secret."""

    room_key: str
    name: str
    topic: str
    secret: bool = False


@dataclass(frozen=True, slots=True)
class Follow:
    """For an inbox: a user of this node is spoken to in a private conversation; read
    its stream from `cursor` on."""

    stream: str
    cursor: int


@dataclass(frozen=True, slots=True)
class Killed:
    """For an inbox: a server operator ended the session of a user of this node."""

    nick: str
    reason: str
    time: datetime


class BusUser(Protocol):
    """What the bus calls back, on the event loop."""

    def on_entries(self, stream: str, entries: Sequence[Entry]) -> None:
        """Entries of one stream, in the stream's order, after the position followed."""

    def on_bus_state(self, healthy: bool) -> None:
        """False: the bus cannot be reached (events wait); True: it can again."""

    def on_nick_lost(self, nick_key: str) -> None:
        """A nickname this node held lapsed while the bus was away, and another node
        has it now."""


Done = Callable[[str | None], None]  # a publish: the position, or None when refused


class Bus(Protocol):
    node: str  # this node's id, unique for the life of the process

    @property
    def healthy(self) -> bool: ...

    @property
    def queued(self) -> int:
        """Events waiting to be published."""

    def attach(self, user: BusUser) -> None: ...

    def publish(
        self,
        stream: str,
        event: object,
        token: str,
        *,
        meta: Mapping[str, str] | None = None,
        effects: Sequence[Effect] = (),
        done: Callable[[int | None], None] | None = None,
    ) -> None:
        """Adds an event to a stream (after this node's earlier events to it). `done`
        gets its cursor, or None when a REQUIRE effect left it out or it failed.
        Raises Busy when too many events wait."""

    def follow(self, stream: str, after: str | None = None) -> None:
        """Reads a stream from after `after` (a snapshot's position, or `before`), or
        from its next entry when None."""

    def unfollow(self, stream: str) -> None: ...

    def following(self, stream: str) -> bool: ...

    def before(self, cursor: int) -> str:
        """The position just before a cursor: following from it starts at it."""

    def snapshot(
        self, stream: str, targets: Sequence[str], done: Callable[[Snapshot | None], None]
    ) -> None:
        """The records of `targets` beside `stream`, with the stream's position; None
        when the bus could not be reached (try again later)."""

    def claim(self, nick_key: str, done: Callable[[bool | None], None]) -> None:
        """Claims a nickname for this node: True, False (another node has it), or None
        (the bus could not be reached)."""

    def release(self, nick_key: str) -> None: ...

    def release_for(self, node: str, nick_keys: list[str], done: Callable[[], None]) -> None:
        """Frees names that another node (found dead) still holds; then `done`."""

    def live_nodes(self, done: Callable[[frozenset[str] | None], None]) -> None: ...

    def now_cursor(self) -> int:
        """The smallest cursor a stream could give from now on."""
