"""Nicknames unique across the cluster: a claim is a Redis key with a TTL.

Claiming is `SET key node NX PX ttl`: of two nodes claiming one name at once, exactly
one succeeds. A heartbeat renews every claim this node holds before it expires, so the
names of a node that dies (or is cut off from Redis) are free again after the TTL. A
claim is released, and renewed, only by the node that holds it (`scripts`): after a long
outage another node may hold the name, and must not lose it to us.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from soketler.cluster.connect import FAILED, AsyncClient, ClusterError, Shards
from soketler.cluster.keys import KeyLayout, check_node_id
from soketler.cluster.scripts import REFRESH_CLAIM, RELEASE_CLAIM

log = logging.getLogger("soketler.cluster")

CLAIM_TTL_MS = 30_000  # a dead node's names are free again after this


class NickClaims:
    def __init__(
        self,
        client: AsyncClient,
        node: str,
        layout: KeyLayout | None = None,
        *,
        ttl_ms: int = CLAIM_TTL_MS,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        """`on_lost(nick_key)`: a name this node held was taken by another node while
        the claim could not be renewed (the user must be renamed)."""
        self.node = check_node_id(node)
        self.layout = layout or KeyLayout()
        self.ttl_ms = ttl_ms
        self.on_lost = on_lost
        self._shards = Shards(client)
        self._held: set[str] = set()
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def held(self) -> frozenset[str]:
        return frozenset(self._held)

    async def claim(self, nick_key: str) -> bool:
        """Whether the name is now this node's (False: another node's user has it)."""
        if nick_key in self._held:
            return True
        key = self.layout.nick_claim(nick_key)
        if await self._shards.client.set(key, self.node, nx=True, px=self.ttl_ms):
            self._held.add(nick_key)
            return True
        return False

    async def claim_many(self, nick_keys: list[str]) -> list[bool]:
        """`claim` for many names in one round trip per shard (a storm of people
        arriving at once is one pipeline, not a connection each)."""
        wanted = list(dict.fromkeys(key for key in nick_keys if key not in self._held))
        calls: list[tuple[str, tuple[object, ...]]] = []
        for nick in wanted:
            key = self.layout.nick_claim(nick)
            calls.append((key, ("SET", key, self.node, "NX", "PX", self.ttl_ms)))
        got: dict[str, bool] = {}
        for nick, result in zip(wanted, await self._shards.run(calls), strict=True):
            if isinstance(result, Exception):
                raise result
            got[nick] = bool(result)
            if result:
                self._held.add(nick)
        return [got.get(nick, nick in self._held) for nick in nick_keys]

    async def release(self, nick_key: str) -> None:
        self._held.discard(nick_key)
        key = self.layout.nick_claim(nick_key)
        [result] = await self._shards.run_script(RELEASE_CLAIM, [(key, [self.node])])
        if isinstance(result, Exception):
            raise result

    async def release_for(self, node: str, nick_keys: list[str]) -> None:
        """Frees names another node holds (a node found dead): each only if that node
        still holds it."""
        if not nick_keys:
            return
        calls: list[tuple[str, list[str | int]]] = [
            (self.layout.nick_claim(nick), [check_node_id(node)]) for nick in nick_keys
        ]
        for result in await self._shards.run_script(RELEASE_CLAIM, calls):
            if isinstance(result, Exception):
                raise result

    async def rename(self, old_key: str, new_key: str) -> bool:
        """Claims the new name, then releases the old one; False keeps the old one."""
        if old_key == new_key:
            return True
        if not await self.claim(new_key):
            return False
        await self.release(old_key)
        return True

    async def holder(self, nick_key: str) -> str | None:
        """The id of the node whose user has the name, if any."""
        value = await self._shards.client.get(self.layout.nick_claim(nick_key))
        return None if value is None else str(value)

    async def refresh(self) -> list[str]:
        """Renews every claim; returns (and forgets) the names another node took."""
        held = sorted(self._held)
        calls: list[tuple[str, list[str | int]]] = [
            (self.layout.nick_claim(nick), [self.node, self.ttl_ms]) for nick in held
        ]
        results = await self._shards.run_script(REFRESH_CLAIM, calls)
        lost = []
        for nick, result in zip(held, results, strict=True):
            if isinstance(result, Exception):
                raise result
            if result == 0 and nick in self._held:
                self._held.discard(nick)
                lost.append(nick)
        return lost

    # --- the heartbeat -----------------------------------------------------------------

    def start(self, interval: float | None = None) -> None:
        """Renews the claims every `interval` seconds (a third of the TTL by default)."""
        if self._heartbeat is None:
            every = interval if interval is not None else self.ttl_ms / 3000
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat(every))

    async def _beat(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                lost = await self.refresh()
            except (*FAILED, ClusterError) as exc:
                # The claims may expire meanwhile; the first renewal after Redis is back
                # takes back those nobody took.
                log.warning("cannot renew nickname claims (%s); retrying", exc)
                continue
            for nick in lost:
                log.warning("nickname %s was taken by another node while Redis was away", nick)
                if self.on_lost is not None:
                    try:
                        self.on_lost(nick)
                    except Exception:
                        log.exception("handling the loss of nickname %s failed", nick)

    async def close(self, release: bool = True) -> None:
        """Stops the heartbeat and (by default) releases every name held."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if release and self._held:
            held = sorted(self._held)
            self._held.clear()
            calls: list[tuple[str, list[str | int]]] = [
                (self.layout.nick_claim(nick), [self.node]) for nick in held
            ]
            with contextlib.suppress(*FAILED, ClusterError):
                await self._shards.run_script(RELEASE_CLAIM, calls)
        await self._shards.aclose()
