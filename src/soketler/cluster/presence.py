"""Who is where across the cluster: for /who, /rooms, IRC NAMES, WHO, LIST and WHOIS.

Each node writes only its own part, and keeps the truth of that part in memory:
- per room it has members in, a hash of its members there (`keys.room_members`), and
  its id in the room's set of nodes (`keys.room_nodes`);
- a hash of its rooms with their local member counts (`keys.node_rooms`), a hash of
  its users (`keys.node_users`), and a key that says it is alive (`keys.node_alive`).

Everything a node writes has a TTL that its heartbeat renews, so what a dead node wrote
disappears by itself; readers also drop a dead node from the shared sets as they meet
it (safe, because a node id is never used again once its process is gone). Writes are
made in the order of the calls. One that fails (Redis away) marks the state dirty, and
the next heartbeat that reaches Redis writes the node's whole part again, which is also
how a Redis that restarted empty is refilled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import cast

from soketler.cluster.connect import FAILED, AsyncClient, ClusterError, Shards
from soketler.cluster.keys import KeyLayout, check_node_id

log = logging.getLogger("soketler.cluster")

PRESENCE_TTL_MS = 30_000  # a dead node's members vanish after this


@dataclass(frozen=True, slots=True)
class Member:
    """What other nodes may show of a user."""

    nick: str
    user: str = ""
    host: str = ""
    status: str = ""  # "@", "+" or ""
    away: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            [self.nick, self.user, self.host, self.status, self.away], ensure_ascii=False
        )

    @classmethod
    def from_json(cls, text: str) -> Member:
        nick, user, host, status, away = json.loads(text)
        return cls(nick, user, host, status, away)


@dataclass(frozen=True, slots=True)
class RoomCount:
    key: str
    name: str
    members: int


@dataclass(slots=True)
class _Room:
    name: str
    members: dict[str, Member]  # by nickname key


class Presence:
    def __init__(
        self,
        client: AsyncClient,
        node: str,
        layout: KeyLayout | None = None,
        *,
        ttl_ms: int = PRESENCE_TTL_MS,
    ) -> None:
        self.node = check_node_id(node)
        self.layout = layout or KeyLayout()
        self.ttl_ms = ttl_ms
        self._shards = Shards(client)
        self._rooms: dict[str, _Room] = {}
        self._users: dict[str, Member] = {}
        self._lock = asyncio.Lock()  # writes reach Redis in the order they were made
        self._dirty = True  # nothing written yet
        self._written = False
        self._heartbeat: asyncio.Task[None] | None = None

    # --- this node's part ------------------------------------------------------------

    async def _write(self, what: str, commands: list[tuple[str, tuple[object, ...]]]) -> None:
        async with self._lock:
            if self._dirty:
                return  # the next heartbeat writes everything, this included
            try:
                results = await self._shards.run(commands)
            except (*FAILED, ClusterError) as exc:
                self._mark_dirty(what, exc)
                return
            failed = next((r for r in results if isinstance(r, Exception)), None)
            if failed is not None:
                self._mark_dirty(what, failed)

    def _mark_dirty(self, what: str, why: BaseException) -> None:
        log.warning("cannot record %s in Redis (%s); rewriting presence later", what, why)
        self._dirty = True

    def _room_count(self, room_key: str) -> tuple[str, tuple[object, ...]]:
        key = self.layout.node_rooms(self.node)
        room = self._rooms.get(room_key)
        if room is None:
            return key, ("HDEL", key, room_key)
        count = json.dumps([room.name, len(room.members)], ensure_ascii=False)
        return key, ("HSET", key, room_key, count)

    async def join(self, room_key: str, room: str, nick_key: str, member: Member) -> None:
        here = self._rooms.setdefault(room_key, _Room(room, {}))
        here.members[nick_key] = member
        members, nodes = (
            self.layout.room_members(room_key, self.node),
            self.layout.room_nodes(room_key),
        )
        ttl, node_rooms = self.ttl_ms, self.layout.node_rooms(self.node)
        await self._write(
            f"a join to {room}",
            [
                (members, ("HSET", members, nick_key, member.to_json())),
                (members, ("PEXPIRE", members, ttl)),
                (nodes, ("SADD", nodes, self.node)),
                *self._keep_shared(nodes),
                self._room_count(room_key),
                (node_rooms, ("PEXPIRE", node_rooms, ttl)),
            ],
        )

    async def part(self, room_key: str, nick_key: str) -> None:
        here = self._rooms.get(room_key)
        if here is None or here.members.pop(nick_key, None) is None:
            return
        members = self.layout.room_members(room_key, self.node)
        commands: list[tuple[str, tuple[object, ...]]] = [(members, ("HDEL", members, nick_key))]
        if not here.members:
            del self._rooms[room_key]
            nodes = self.layout.room_nodes(room_key)
            commands += [(members, ("DEL", members)), (nodes, ("SREM", nodes, self.node))]
        commands.append(self._room_count(room_key))
        await self._write(f"a part from {here.name}", commands)

    async def update(self, nick_key: str, member: Member) -> None:
        """A member's record changed (away, status): in every room and as a user."""
        commands: list[tuple[str, tuple[object, ...]]] = []
        for room_key, room in self._rooms.items():
            if nick_key in room.members:
                room.members[nick_key] = member
                key = self.layout.room_members(room_key, self.node)
                commands.append((key, ("HSET", key, nick_key, member.to_json())))
        if nick_key in self._users:
            self._users[nick_key] = member
            key = self.layout.node_users(self.node)
            commands.append((key, ("HSET", key, nick_key, member.to_json())))
        if commands:
            await self._write(f"a change of {member.nick}", commands)

    async def rename(self, old_key: str, new_key: str, member: Member) -> None:
        commands: list[tuple[str, tuple[object, ...]]] = []
        for room_key, room in self._rooms.items():
            if room.members.pop(old_key, None) is not None:
                room.members[new_key] = member
                key = self.layout.room_members(room_key, self.node)
                commands += [
                    (key, ("HDEL", key, old_key)),
                    (key, ("HSET", key, new_key, member.to_json())),
                ]
        if self._users.pop(old_key, None) is not None:
            self._users[new_key] = member
            key = self.layout.node_users(self.node)
            commands += [
                (key, ("HDEL", key, old_key)),
                (key, ("HSET", key, new_key, member.to_json())),
            ]
        if commands:
            await self._write(f"the rename to {member.nick}", commands)

    async def register(self, nick_key: str, member: Member) -> None:
        """A user of this node (for WHOIS from any node)."""
        self._users[nick_key] = member
        key = self.layout.node_users(self.node)
        record = (key, ("HSET", key, nick_key, member.to_json()))
        await self._write(f"user {member.nick}", [record, (key, ("PEXPIRE", key, self.ttl_ms))])

    async def unregister(self, nick_key: str) -> None:
        if self._users.pop(nick_key, None) is None:
            return
        key = self.layout.node_users(self.node)
        await self._write("a user leaving", [(key, ("HDEL", key, nick_key))])

    # --- the whole cluster -------------------------------------------------------------

    async def members(self, room_key: str) -> list[Member]:
        """Everyone in the room, on every live node."""
        nodes_key = self.layout.room_nodes(room_key)
        nodes = sorted(cast(set[str], await self._shards.client.smembers(nodes_key)))
        keys = [self.layout.room_members(room_key, node) for node in nodes]
        found = await self._shards.run([(key, ("HGETALL", key)) for key in keys])
        members: list[Member] = []
        empty = []
        for node, result in zip(nodes, found, strict=True):
            if isinstance(result, Exception):
                raise result
            if not result:
                empty.append(node)
            for text in cast(dict[str, str], result).values():
                members.append(Member.from_json(text))
        for node in await self._dead(empty):
            await self._shards.client.srem(nodes_key, node)
        return members

    async def rooms(self) -> list[RoomCount]:
        """Every room with members anywhere, with its count across the cluster."""
        nodes = sorted(cast(set[str], await self._shards.client.smembers(self.layout.nodes)))
        keys = [self.layout.node_rooms(node) for node in nodes]
        found = await self._shards.run([(key, ("HGETALL", key)) for key in keys])
        counts: dict[str, RoomCount] = {}
        empty = []
        for node, result in zip(nodes, found, strict=True):
            if isinstance(result, Exception):
                raise result
            if not result:
                empty.append(node)
            for room_key, text in cast(dict[str, str], result).items():
                name, count = json.loads(text)
                before = counts.get(room_key)
                total = count + (before.members if before else 0)
                counts[room_key] = RoomCount(room_key, name, total)
        for node in await self._dead(empty):
            await self._shards.client.srem(self.layout.nodes, node)
        return sorted(counts.values(), key=lambda room: room.key)

    async def lookup(self, node: str, nick_key: str) -> Member | None:
        """The record of a user of `node` (found from its nickname claim)."""
        text = await self._shards.client.hget(self.layout.node_users(node), nick_key)
        return None if text is None else Member.from_json(str(text))

    async def live_nodes(self) -> list[str]:
        nodes = sorted(cast(set[str], await self._shards.client.smembers(self.layout.nodes)))
        dead = set(await self._dead(nodes))
        return [node for node in nodes if node not in dead]

    async def _dead(self, nodes: list[str]) -> list[str]:
        if not nodes:
            return []
        alive = await self._shards.run(
            [(self.layout.node_alive(n), ("EXISTS", self.layout.node_alive(n))) for n in nodes]
        )
        return [node for node, exists in zip(nodes, alive, strict=True) if exists == 0]

    # --- staying alive -----------------------------------------------------------------

    def _keep_shared(self, key: str) -> list[tuple[str, tuple[object, ...]]]:
        """Keeps a key that several nodes share for at least our TTL, never shortening
        what another node set (NX: a key with no TTL yet; GT: only ever later)."""
        return [
            (key, ("PEXPIRE", key, self.ttl_ms, "NX")),
            (key, ("PEXPIRE", key, self.ttl_ms, "GT")),
        ]

    def _expiring(self) -> list[tuple[str, tuple[object, ...]]]:
        """The PEXPIRE of every key this node must keep alive."""
        keys = [self.layout.room_members(room, self.node) for room in self._rooms]
        if self._rooms:
            keys.append(self.layout.node_rooms(self.node))
        if self._users:
            keys.append(self.layout.node_users(self.node))
        return [(key, ("PEXPIRE", key, self.ttl_ms)) for key in keys]

    async def heartbeat(self) -> None:
        """Renews every TTL; rewrites everything if a key is missing or a write failed.
        Raises the Redis error if Redis cannot be reached."""
        async with self._lock:
            if not self._dirty and await self._renew():
                return
            # A key gone (Redis restarted empty, or was away longer than the TTL), or
            # a write that failed: write this node's whole part again.
            await self._resync()

    async def _renew(self) -> bool:
        """Whether every key this node keeps was still there (and is renewed)."""
        alive = self.layout.node_alive(self.node)
        expiring = self._expiring()
        renew = [
            *expiring,
            (alive, ("SET", alive, "1", "PX", self.ttl_ms)),
            (self.layout.nodes, ("SADD", self.layout.nodes, self.node)),
        ]
        for room in self._rooms:
            nodes = self.layout.room_nodes(room)
            renew += self._keep_shared(nodes)
        results = await self._shards.run(renew)
        failed = next((r for r in results if isinstance(r, Exception)), None)
        if failed is not None:
            raise failed
        return all(results[: len(expiring)])

    async def _resync(self) -> None:
        node_rooms = self.layout.node_rooms(self.node)
        before = cast(list[str], await self._shards.client.hkeys(node_rooms))
        commands: list[tuple[str, tuple[object, ...]]] = []
        for room_key in before:
            if room_key not in self._rooms:  # left while Redis was away
                members = self.layout.room_members(room_key, self.node)
                nodes = self.layout.room_nodes(room_key)
                commands += [(members, ("DEL", members)), (nodes, ("SREM", nodes, self.node))]
        for room_key, room in self._rooms.items():
            members = self.layout.room_members(room_key, self.node)
            nodes = self.layout.room_nodes(room_key)
            fresh = members + ":new"  # same hash tag: RENAME replaces it in one step
            fields = [v for k, m in room.members.items() for v in (k, m.to_json())]
            commands += [
                (fresh, ("DEL", fresh)),
                (fresh, ("HSET", fresh, *fields)),
                (fresh, ("RENAME", fresh, members)),
                (nodes, ("SADD", nodes, self.node)),
                *self._keep_shared(nodes),
            ]
        counts = {
            key: json.dumps([room.name, len(room.members)], ensure_ascii=False)
            for key, room in self._rooms.items()
        }
        commands += self._replace_hash(node_rooms, counts)
        commands += self._replace_hash(
            self.layout.node_users(self.node),
            {k: m.to_json() for k, m in self._users.items()},
        )
        alive = self.layout.node_alive(self.node)
        commands += [
            (alive, ("SET", alive, "1", "PX", self.ttl_ms)),
            (self.layout.nodes, ("SADD", self.layout.nodes, self.node)),
            *self._expiring(),
        ]
        results = await self._shards.run(commands)
        failed = next((r for r in results if isinstance(r, Exception)), None)
        if failed is not None:
            raise failed
        if self._written:
            log.warning("presence written to Redis again")
        self._dirty = False
        self._written = True

    def _replace_hash(
        self, key: str, fields: dict[str, str]
    ) -> list[tuple[str, tuple[object, ...]]]:
        if not fields:
            return [(key, ("DEL", key))]
        fresh = key + ":new"
        flat = [v for pair in fields.items() for v in pair]
        return [
            (fresh, ("DEL", fresh)),
            (fresh, ("HSET", fresh, *flat)),
            (fresh, ("RENAME", fresh, key)),
        ]

    def start(self, interval: float | None = None) -> None:
        """Heartbeats every `interval` seconds (a third of the TTL by default); the
        first at once, which writes this node's part."""
        if self._heartbeat is None:
            every = interval if interval is not None else self.ttl_ms / 3000
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat(every))

    async def _beat(self, every: float) -> None:
        while True:
            try:
                await self.heartbeat()
            except (*FAILED, ClusterError) as exc:
                log.warning("presence heartbeat failed (%s); retrying", exc)
                self._dirty = True
            await asyncio.sleep(every)

    async def close(self) -> None:
        """Stops the heartbeat and removes this node's part (best effort)."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        commands: list[tuple[str, tuple[object, ...]]] = []
        for room_key in self._rooms:
            members = self.layout.room_members(room_key, self.node)
            nodes = self.layout.room_nodes(room_key)
            commands += [(members, ("DEL", members)), (nodes, ("SREM", nodes, self.node))]
        for key in (
            self.layout.node_rooms(self.node),
            self.layout.node_users(self.node),
            self.layout.node_alive(self.node),
        ):
            commands.append((key, ("DEL", key)))
        commands.append((self.layout.nodes, ("SREM", self.layout.nodes, self.node)))
        with contextlib.suppress(*FAILED, ClusterError):
            await self._shards.run(commands)
        self._rooms.clear()
        self._users.clear()
        await self._shards.aclose()
