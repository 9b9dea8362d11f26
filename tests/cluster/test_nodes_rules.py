"""The rules of rooms and names across cluster nodes: one name per person in the whole
cluster, and a room's operators, kicks, bans and invitations the same on every node."""

from __future__ import annotations

import asyncio

from soketler.protocols.events import RoomChange, RoomSetting
from tests.cluster.nodes import Node, cluster


async def test_a_name_known_anywhere_is_refused_at_once(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        await one.enter("ayse")
        late = two.person("AYSE")  # the same name in other letters
        late.type("AYSE")
        await late.wait_for(r'Nickname "AYSE" is taken')
        late.type("ayşe")  # a different name (ş is not s)
        await late.wait_for(r"Hello ayşe!")


async def test_two_nodes_taking_one_name_at_once_keep_one_holder(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        first, second = one.person("zed"), two.person("zed")
        # Both in the same moment: each node's memory says the name is free.
        first.type("zed")
        second.type("zed")
        for person in (first, second):
            await person.wait_for(r"-- #lobby \(\d+\)")
        await asyncio.sleep(0)  # (the claims' answers are in by now)
        nicks = {first.session.nick, second.session.nick}
        assert "zed" in nicks and len(nicks) == 2
        assert all(nick.startswith("zed") for nick in nicks)
        loser = first if first.session.nick != "zed" else second
        winner = second if loser is first else first
        assert f"is now known as {loser.session.nick}" in loser.text
        assert 'Nickname "zed" is taken' in loser.text
        # Both nodes agree on who is who.
        for node in (one, two):
            assert node.hub.find_session("zed") is not None
            assert node.hub.find_session(loser.session.nick) is not None
        loser.type("/msg zed hello, namesake")
        await winner.wait_for(rf"\*{loser.session.nick}\* hello, namesake")


async def test_a_rename_to_a_name_taken_elsewhere_is_refused(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        await one.enter("ayse")
        bora = await two.enter("bora")
        bora.type("/nick Ayse")
        await bora.wait_for(r'Nickname "Ayse" is taken')
        assert bora.session.nick == "bora"


async def test_operators_kick_and_ban_across_nodes(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        ayse.type("/join #dev")
        await ayse.wait_for(r"-- #dev \(1\)")
        bora.type("/join #dev")
        await ayse.wait_for("bora joined #dev")
        room = one.hub.rooms.get("#dev")
        assert room is not None
        # The operator (on node one) bans and kicks a member of node two.
        changes = [RoomChange(RoomSetting.BAN, True, "bora!*@*")]
        assert one.hub.change_room(ayse.session, room, changes) == ()
        assert one.hub.kick(ayse.session, room, "bora", "out") is None
        await bora.wait_for(r"ayse kicked bora from #dev \(out\)")
        await ayse.wait_for(r"ayse kicked bora from #dev \(out\)")
        assert "#dev" not in bora.session.rooms
        bora.type("/join #dev")
        await bora.wait_for(r"banned from #dev")
        assert "#dev" not in bora.session.rooms
        # The ban is kept beside the room's stream: a third node reading the room knows it.
        three = await Node.start(redis_url)
        try:
            cem = await three.enter("cem")
            cem.type("/join #dev")
            await cem.wait_for(r"-- #dev \(2\)")
            replica = three.hub.rooms.get("#dev")
            assert replica is not None
            assert [ban.mask for ban in replica.bans] == ["bora!*@*"]
            assert {s.nick: status for s, status in replica.members.items()} == {
                "ayse": "@",
                "cem": "",
            }
        finally:
            await three.stop()


async def test_operator_status_given_on_one_node_counts_on_another(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        ayse.type("/join #dev")
        await ayse.wait_for(r"-- #dev \(1\)")
        bora.type("/join #dev")
        await ayse.wait_for("bora joined #dev")
        await bora.wait_for(r"-- #dev \(2\)")
        there = two.hub.rooms.get("#dev")
        assert there is not None
        # Bora is no operator: node two refuses at once.
        refused = two.hub.change_room(
            bora.session, there, [RoomChange(RoomSetting.TOPIC_LOCK, True)]
        )
        assert [r.code for r in refused] == ["not-operator"]
        here = one.hub.rooms.get("#dev")
        assert here is not None
        changes = [RoomChange(RoomSetting.OPERATOR, True, "bora")]
        assert one.hub.change_room(ayse.session, here, changes) == ()
        await bora.wait_for("ayse")  # the change itself, in bora's words

        async def operator_there() -> None:
            while there.members.get(bora.session) != "@":
                await bora.peer.changed.wait()
                bora.peer.changed.clear()

        await asyncio.wait_for(operator_there(), 10)
        assert two.hub.kick(bora.session, there, "ayse", "my turn") is None
        await ayse.wait_for(r"bora kicked ayse from #dev \(my turn\)")


async def test_an_invitation_from_another_node_opens_an_invite_only_room(redis_url: str) -> None:
    async with cluster(redis_url, 2) as (one, two):
        ayse = await one.enter("ayse")
        bora = await two.enter("bora")
        ayse.type("/join #club")
        await ayse.wait_for(r"-- #club \(1\)")
        room = one.hub.rooms.get("#club")
        assert room is not None
        invite_only = [RoomChange(RoomSetting.INVITE_ONLY, True)]
        assert one.hub.change_room(ayse.session, room, invite_only) == ()
        await ayse.wait_for(r"ayse set #club: invite only")  # back from the stream
        bora.type("/join #club")
        await bora.wait_for(r"#club is invite only")
        assert one.hub.invite(ayse.session, "bora", "#club") is None
        await bora.wait_for(r"ayse invites you to #club")
        bora.type("/join #club")
        await bora.wait_for(r"-- #club \(2\)")
        await ayse.wait_for("bora joined #club")
