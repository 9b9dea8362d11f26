"""Where cluster state lives in Redis.

Every key of a room (its stream, who is in it on each node) carries the room's hash
tag `{r:<room key>}`, and every key of a private conversation the tag of the pair, so
in a Redis Cluster a room lives on one shard (a multi-key command or script over its
keys is allowed) and rooms spread over the shards. A nickname claim has the nickname's
tag, a node's own keys the node's tag. A few small keys (the list of nodes, topics, the
stream register) have no tag and live wherever the cluster puts them.

Names inside a tag are escaped: a `}` in a room name would end the tag early, and two
rooms would share a slot for no reason (harmless, but not what was meant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PREFIX = "soketler"
_NODE_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_PREFIX = re.compile(r"[A-Za-z0-9._:-]{1,50}")


def _escape(name: str) -> str:
    # Percent-escaping only the three characters that matter keeps keys readable in
    # redis-cli for every other name.
    return name.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")


def check_node_id(node: str) -> str:
    if not _NODE_ID.fullmatch(node):
        raise ValueError(f"a node id is 1-100 of A-Z a-z 0-9 . _ : - (got {node!r})")
    return node


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """Key names under one prefix; servers sharing a Redis share the prefix."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"a key prefix is 1-50 of A-Z a-z 0-9 . _ : - (got {self.prefix!r})")

    # --- streams (history and delivery) ---------------------------------------------

    def room_stream(self, room_key: str) -> str:
        return f"{self.prefix}:{{r:{_escape(room_key)}}}:events"

    def private_stream(self, key_a: str, key_b: str) -> str:
        # Sorted, so both people name the same stream. A space cannot occur in a
        # nickname, so it separates the two unambiguously.
        low, high = sorted((key_a, key_b))
        return f"{self.prefix}:{{p:{_escape(low)} {_escape(high)}}}:events"

    def room_records(self, room_key: str) -> str:
        """A hash: nickname key -> member record, everyone in the room on every node,
        changed in the same step as the room's stream (`scripts.PUBLISH`)."""
        return f"{self.prefix}:{{r:{_escape(room_key)}}}:members"

    def room_state(self, room_key: str) -> str:
        """A hash of the room's settings and topic, changed like `room_records`."""
        return f"{self.prefix}:{{r:{_escape(room_key)}}}:state"

    # --- the directory: who is connected where, and the rooms' counts ----------------

    @property
    def directory_stream(self) -> str:
        return f"{self.prefix}:{{dir}}:events"

    @property
    def directory_users(self) -> str:
        """A hash: nickname key -> user record (with the node it is connected to)."""
        return f"{self.prefix}:{{dir}}:users"

    @property
    def directory_counts(self) -> str:
        """A hash: "room key|node" -> the room's members on that node."""
        return f"{self.prefix}:{{dir}}:counts"

    @property
    def directory_rooms(self) -> str:
        """A hash: room key -> [name, topic, secret] for the room list."""
        return f"{self.prefix}:{{dir}}:rooms"

    def inbox(self, node: str) -> str:
        """A stream of what other nodes ask of this one for its users."""
        return f"{self.prefix}:{{node:{check_node_id(node)}}}:inbox"

    @property
    def streams(self) -> str:
        """A set of every stream ever written, for retention and for `load`."""
        return f"{self.prefix}:streams"

    @property
    def topics(self) -> str:
        """A hash: room key -> the room's topic (JSON)."""
        return f"{self.prefix}:topics"

    # --- nicknames --------------------------------------------------------------------

    def nick_claim(self, nick_key: str) -> str:
        """A string: the id of the node whose user holds the nickname (with a TTL)."""
        return f"{self.prefix}:{{n:{_escape(nick_key)}}}:claim"

    # --- nodes and presence ----------------------------------------------------------

    @property
    def nodes(self) -> str:
        """A set of node ids that have announced themselves (dead ones linger until swept)."""
        return f"{self.prefix}:nodes"

    def node_alive(self, node: str) -> str:
        """A string with a TTL, refreshed by the node's heartbeat: gone, the node is dead."""
        return f"{self.prefix}:{{node:{check_node_id(node)}}}:alive"

    def node_rooms(self, node: str) -> str:
        """A hash: room key -> {name, count} of the node's local members (with a TTL)."""
        return f"{self.prefix}:{{node:{check_node_id(node)}}}:rooms"

    def node_users(self, node: str) -> str:
        """A hash: nickname key -> the user's public record (with a TTL)."""
        return f"{self.prefix}:{{node:{check_node_id(node)}}}:users"

    def room_nodes(self, room_key: str) -> str:
        """A set of the nodes with members in the room."""
        return f"{self.prefix}:{{r:{_escape(room_key)}}}:nodes"

    def room_members(self, room_key: str, node: str) -> str:
        """A hash: nickname key -> member record, the room's members on one node (TTL)."""
        return f"{self.prefix}:{{r:{_escape(room_key)}}}:on:{check_node_id(node)}"
