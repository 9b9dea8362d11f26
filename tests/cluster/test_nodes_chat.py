"""Several cluster nodes in one process, each a hub of its own, sharing rooms through a
real Redis: messages, joins, parts, renames, quits, private messages and history seen
the same way on every node."""

from __future__ import annotations

import asyncio
import re

from soketler.core.session import Room
from tests.cluster.nodes import Person, cluster


def said(person: Person) -> list[str]:
    """The room messages a person has read, as "<nick> text"."""
    return re.findall(r"^\d\d:\d\d (<[^>]+> [^\r\n]*)", person.text, re.MULTILINE)


async def test_users_on_three_nodes_read_one_room_in_one_order(redis_url: str) -> None:
    async with cluster(redis_url, 3) as nodes:
        people = [await node.enter(f"user{n}") for n, node in enumerate(nodes)]
        for person in people[:2]:
            await person.wait_for(r"user2 joined #lobby")
        # Everyone talks at once, from every node: 3 x 20 messages.
        for turn in range(20):
            for person in people:
                person.type(f"line {turn} from {person.nick}")
        for person in people:
            await person.wait_for(r"<user\d> line 19 from user\d(?s:.*)" * 3)
        orders = [said(person) for person in people]
        assert len(orders[0]) == 60
        assert orders[0] == orders[1] == orders[2]
        # Each node's own messages keep their order within that order.
        for person in people:
            mine = [line for line in orders[0] if line.startswith(f"<{person.nick}>")]
            assert mine == [f"<{person.nick}> line {turn} from {person.nick}" for turn in range(20)]


async def test_message_ids_are_the_same_on_every_node(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse", json_lines=True)
        bora = await two.enter("bora", json_lines=True)
        await ayse.wait_object(lambda o: o.get("type") == "join" and o.get("nick") == "bora")
        ayse.send({"type": "say", "text": "merhaba"})
        bora.send({"type": "say", "text": "selam"})
        seen = []
        for person in (ayse, bora):
            first = await person.wait_object(lambda o: o.get("type") == "message")
            second = await person.wait_object(lambda o: o.get("type") == "message")
            seen.append([(m["id"], m["from"], m["text"]) for m in (first, second)])
        assert seen[0] == seen[1]
        ids = [entry[0] for entry in seen[0]]
        assert ids[0] < ids[1] < 2**53  # a cursor: in order, exact in a JavaScript number


async def test_joins_parts_and_who_across_nodes(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        await ayse.wait_for("bora joined #lobby")
        bora.type("/join #dev")
        await bora.wait_for(r"-- #dev \(1\): bora")
        ayse.type("/join #dev")
        await ayse.wait_for(r"-- #dev \(2\): bora, ayse")
        await bora.wait_for("ayse joined #dev")
        # The first in a room is its operator, as every node knows.
        for node in (one, two):
            room = node.hub.rooms.get("#dev")
            assert room is not None
            assert {s.nick: status for s, status in room.members.items()} == {
                "bora": "@",
                "ayse": "",
            }
        ayse.type("/who #lobby")
        await ayse.wait_for(r"-- #lobby \(2\): ayse, bora")
        ayse.type("/part #dev see you")
        await bora.wait_for(r"ayse left #dev \(see you\)")
        bora.type("/who")
        await bora.wait_for(r"-- #dev \(1\): bora")


async def test_a_room_only_elsewhere_is_listed_and_its_members_shown(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        ayse.type("/join #far")
        await ayse.wait_for(r"-- #far \(1\)")

        # Bora's node reads nothing of #far: the directory tells it (soon) that the
        # room exists, and how many are in it.
        async def listed() -> None:
            while True:
                bora.type("/rooms")
                if "#far (1)" in await bora.quiet(0.1):
                    return

        await asyncio.wait_for(listed(), 10)
        assert "#far" not in two.hub.rooms.by_key  # listed, not read
        bora.type("/who #far")
        await bora.wait_for(r"-- #far \(1\): ayse")


async def test_a_rename_is_seen_once_by_someone_sharing_two_rooms(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        ayse.type("/join #dev")
        await ayse.wait_for(r"-- #dev \(1\)")
        bora.type("/join #dev")
        await ayse.wait_for("bora joined #dev")
        await bora.wait_for(r"-- #dev \(2\)")
        ayse.type("/nick ayşe")
        await bora.wait_for("ayse is now known as ayşe")
        await ayse.wait_for("ayse is now known as ayşe")
        assert "now known as" not in await bora.quiet()
        bora.type("/msg ayşe hi again")
        await ayse.wait_for(r"\*bora\* hi again")
        assert one.hub.find_session("ayşe") is ayse.session
        assert two.hub.find_session("ayşe") is not None
        assert two.hub.find_session("ayse") is None


async def test_a_quit_is_seen_once_and_frees_the_name(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        ayse.type("/join #dev")
        await ayse.wait_for(r"-- #dev \(1\)")
        bora.type("/join #dev")
        await ayse.wait_for("bora joined #dev")
        ayse.type("/quit off to sleep")
        await bora.wait_for(r"ayse quit \(off to sleep\)")
        assert "quit" not in await bora.quiet()
        bora.type("/who #dev")
        await bora.wait_for(r"-- #dev \(1\): bora")
        again = await two.enter("ayse")  # the name is free on every node
        assert again.session.nick == "ayse"


async def test_private_messages_across_nodes_and_their_history(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        ayse.type("/msg bora are you there?")
        await bora.wait_for(r"\*ayse\* are you there\?")
        await ayse.wait_for(r"-> \*bora\* are you there\?")
        bora.type("/msg ayse yes")
        await ayse.wait_for(r"\*bora\* yes")
        bora.type("/history ayse")
        await bora.wait_for(r"(?s)are you there\?.*yes.*End of history")


async def test_history_is_the_stream_on_every_node(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        for n in range(30):
            ayse.type(f"note {n}")
        await ayse.wait_for("<ayse> note 29")
        # Someone arriving on the other node is shown the last messages of the lobby.
        bora = await two.enter("bora")
        await bora.wait_for(r"(?s)note 10.*note 29.*End of history of #lobby \(20 messages\)")
        bora.type("/history 30")
        found = await bora.wait_for(r"(?s)End of history of #lobby \(30 messages\)")
        assert found is not None
        notes = re.findall(r"note (\d+)", bora.text)
        assert notes[-30:] == [str(n) for n in range(30)]


async def test_topic_and_settings_reach_a_node_that_reads_the_room_later(redis_url: str) -> None:
    async with cluster(redis_url, 3) as (one, two, three):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        ayse.type("/join #ops")
        await ayse.wait_for(r"-- #ops \(1\): ayse")
        ayse.type("/topic servers and such")
        await ayse.wait_for("ayse set the topic of #ops")
        bora.type("/join #ops")
        await bora.wait_for("servers and such")
        await ayse.wait_for("bora joined #ops")
        # A third node, which never read #ops, learns its topic from Redis.
        cem = await three.enter("cem")
        cem.type("/join #ops")
        await cem.wait_for(r"(?s)-- #ops \(3\): ayse, bora, cem.*-- Topic: servers and such")


async def test_the_last_one_here_can_speak_and_quit_at_once(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        await ayse.wait_for("bora joined #lobby")
        room_let_go = asyncio.Event()
        let_go = one.hub._maybe_unfollow

        def watched(room: Room) -> None:
            let_go(room)
            if room.key not in one.hub.rooms.by_key:
                room_let_go.set()

        one.hub._maybe_unfollow = watched  # type: ignore[method-assign]
        # Ayse is node one's only member of #lobby: its stream is read until her quit
        # comes back, so her last words come back first and her goodbye is said.
        ayse.type("last words")
        ayse.type("/quit")
        await ayse.wait_for(r"<ayse> last words")

        async def closed() -> None:
            while ayse.peer.closed is None:
                ayse.peer.changed.clear()
                await ayse.peer.changed.wait()

        await asyncio.wait_for(closed(), 10)
        await bora.wait_for(r"(?s)<ayse> last words.*ayse quit")
        # Node one lets the room go when it reads her quit back itself, which may come
        # after node two has read it: each node reads the stream on its own.
        await asyncio.wait_for(room_let_go.wait(), 10)
        assert "#lobby" not in one.hub.rooms.by_key  # no longer read by node one
