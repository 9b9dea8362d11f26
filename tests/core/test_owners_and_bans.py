"""Who owns a nickname while away (accounts, SSH keys), ban masks with address ranges,
and the hub's rules built on them: typed refusals and events, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.core import policing
from soketler.core.answers import Refusal
from soketler.core.bans import ServerBan, ServerBans, ban_mask, matches
from soketler.core.hub import Hub
from soketler.core.owners import ACCOUNT, KEY, NickOwners
from soketler.core.session import SERVER_OPERATOR, Session
from soketler.protocols import codes
from soketler.protocols.events import Bye, Kicked, RoomChange, RoomSetting
from tests.core.fakes import FakePeer, fixed_clock
from tests.core.test_neutral_hub import RecordingCodec, person

WHEN = datetime(2026, 11, 23, tzinfo=UTC)


def guest(hub: Hub, address: str = "127.0.0.5") -> tuple[Session, RecordingCodec]:
    codec = RecordingCodec()
    return hub.open(FakePeer(), address, "test", codec), codec


# --- owners ------------------------------------------------------------------------------


def test_an_account_s_nickname_and_its_look_alikes_are_its_owner_s_alone() -> None:
    hub = Hub("test", clock=fixed_clock)
    hub.owners.set_accounts({"alice", "ayşe"})
    session, _ = guest(hub)
    for nick in ("Alice", "ALICE", "aIice", "Аlice"):  # capital I for l; Cyrillic А
        refusal = hub.claim(session, nick)
        assert refusal is not None and refusal.code == codes.NICK_REGISTERED, nick
        assert refusal.detail == ACCOUNT
    assert hub.claim(session, "bob") is None
    assert hub.change_nick(session, "AYŞE") == Refusal(codes.NICK_REGISTERED, "AYŞE", ACCOUNT)
    owner, _ = guest(hub)
    owner.account = "Alice"
    assert hub.claim(owner, "alice") is None
    assert hub.change_nick(owner, "aIice") is None  # its own, however written


def test_a_key_claim_is_kept_for_the_key_that_made_it() -> None:
    owners = NickOwners()
    owners.claims["anahtar"] = "SHA256:one"
    hub = Hub("test", clock=fixed_clock)
    hub.owners = owners
    other, _ = guest(hub)
    other.fingerprint = "SHA256:two"
    assert hub.claim(other, "anahtar") == Refusal(codes.NICK_REGISTERED, "anahtar", KEY)
    holder, _ = guest(hub)
    holder.fingerprint = "SHA256:one"
    assert hub.claim(holder, "Anahtar") is None


def test_accounts_set_in_place_and_looked_up_again() -> None:
    owners = NickOwners()
    shared = owners.accounts
    owners.set_accounts({"a", "b"})
    assert owners.owner("A") == (ACCOUNT, "a")
    owners.set_accounts({"b"})
    assert owners.accounts is shared and owners.owner("a") is None
    shared.add("cem")  # as the SSH door adds one it has just learnt of
    assert owners.owner("cem") == (ACCOUNT, "cem")


def test_an_account_owner_reads_private_history_from_the_account_s_start() -> None:
    hub = Hub("test", clock=fixed_clock)
    hub.owners.set_accounts({"ayşe"})
    hub.next_id = 500
    session, _ = guest(hub)
    policing.log_in(hub, session, "ayşe", 40)
    assert hub.claim(session, "ayşe") is None
    assert session.nick_since == 40
    visitor, _ = guest(hub)
    assert hub.claim(visitor, "misafir") is None
    assert visitor.nick_since == 500  # a guest: from when it took the nickname


# --- masks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "stored"),
    [
        ("10.0.0.0/8", "*!*@10.0.0.0/8"),
        ("10.1.2.3", "*!*@10.1.2.3"),
        ("10.1.2.3/32", "*!*@10.1.2.3"),
        ("2001:db8::/32", "*!*@2001:db8::/32"),
        ("::ffff:192.0.2.0/120", "*!*@192.0.2.0/24"),
        ("bob", "bob!*@*"),
        ("*@10.0.0.0/8", "*!*@10.0.0.0/8"),
        ("bob!*@192.0.2.7/32", "bob!*@192.0.2.7"),
        ("*!*@*.example.org", "*!*@*.example.org"),
    ],
)
def test_ban_masks_as_stored(given_: str, stored: str) -> None:
    assert ban_mask(given_) == stored


@given(st.text(max_size=40))
def test_a_stored_mask_stays_as_it_is(text: str) -> None:
    once = ban_mask(text)
    assert ban_mask(once) == once


def test_a_range_in_a_mask_holds_for_the_addresses_in_it() -> None:
    mask = ban_mask("192.0.2.0/24")
    assert matches(mask, "bob", "bob", "192.0.2.7", "192.0.2.7")
    assert matches(mask, "bob", "bob", "x", "::ffff:192.0.2.7")  # IPv4 on a dual stack
    assert not matches(mask, "bob", "bob", "192.0.3.7", "192.0.3.7")
    assert not matches(mask, "bob", "bob", "192.0.2.7", "")  # a Unix socket: no address
    assert matches("b*!*@2001:db8::/32", "bora", "u", "0::1", "2001:db8::5")
    assert not matches("b*!*@2001:db8::/32", "cem", "u", "0::1", "2001:db8::5")
    assert matches("AYŞE*!*@*", "ayşe", "u", "h", "1.2.3.4")  # the shared case rule


def test_server_bans_by_address_refuse_before_a_word_and_by_mask_at_the_nickname() -> None:
    bans = ServerBans()
    changes: list[tuple[str, bool]] = []
    bans.on_change = lambda ban, added: changes.append((ban.mask, added))
    assert bans.add(ServerBan(ban_mask("203.0.113.0/24"), "spam", "root", WHEN))
    assert bans.add(ServerBan(ban_mask("troll"), "trolling", "root", WHEN))
    assert not bans.add(ServerBan(ban_mask("TROLL!*@*"), "again", "root", WHEN))
    assert bans.for_address("203.0.113.9") is not None
    assert bans.for_address("::ffff:203.0.113.9") is not None
    assert bans.for_address("198.51.100.1") is None  # nick masks wait for a nickname
    found = bans.for_person("Troll", "t", "h", "198.51.100.1")
    assert found is not None and found.reason == "trolling"
    assert bans.remove("troll") is not None and bans.remove("troll") is None
    assert changes == [("*!*@203.0.113.0/24", True), ("troll!*@*", True), ("troll!*@*", False)]


# --- the hub's rules on them --------------------------------------------------------------


def test_a_server_ban_ends_whoever_it_holds_and_refuses_their_nickname() -> None:
    hub = Hub("test", clock=fixed_clock)
    root, _ = person(hub, "root")
    bad_session, bad_heard = guest(hub, "203.0.113.9")
    assert hub.register(bad_session, "bad")
    assert policing.ban_server(hub, bad_session, "root", "") == Refusal(codes.NOT_SERVER_OPERATOR)
    root.set_flag(SERVER_OPERATOR, True)
    assert policing.ban_server(hub, root, "bad", "spam") is None  # by nickname: its address
    assert bad_session.closed
    assert Bye("Banned from this server: spam") in bad_heard.take()
    assert [ban.mask for ban in hub.bans] == ["*!*@203.0.113.9"]
    again, _ = guest(hub, "203.0.113.9")
    assert hub.claim(again, "other") == Refusal(codes.SERVER_BANNED, "other", "spam")
    assert policing.ban_server(hub, root, "203.0.113.9", "") == Refusal(
        codes.ALREADY_LISTED, "*!*@203.0.113.9"
    )
    assert policing.unban_server(hub, root, "203.0.113.9") is None
    assert hub.claim(again, "other") is None


def test_server_operators_are_operators_of_every_room() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, _ = person(hub, "ayse")
    bob, bob_heard = person(hub, "bob")
    room = hub.join(ayse, "#dev")
    assert room is not None
    hub.join(bob, "#dev")
    root, _ = person(hub, "root")
    assert hub.kick(root, room, "bob", "no") == Refusal(codes.NOT_IN_ROOM, "#dev")
    root.set_flag(SERVER_OPERATOR, True)
    bob_heard.take()
    assert hub.kick(root, room, "bob", "out") is None
    assert any(isinstance(event, Kicked) for event in bob_heard.take())
    assert hub.change_room(root, room, (RoomChange(RoomSetting.MODERATED, True),)) == ()


def test_a_muted_member_stays_and_may_not_speak_until_unmuted() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, _ = person(hub, "ayse")
    bob, _ = person(hub, "bob")
    room = hub.join(ayse, "#dev")
    assert room is not None
    hub.join(bob, "#dev")
    assert policing.change_list(hub, bob, room, RoomSetting.MUTE, "ayse", True) == Refusal(
        codes.NOT_OPERATOR, "#dev"
    )
    assert policing.change_list(hub, ayse, room, RoomSetting.MUTE, "bob", True) is None
    assert [ban.mask for ban in room.mutes] == ["*!bob@127.0.0.5"]
    assert hub.speak(bob, room, "hello?") == Refusal(codes.CANNOT_SEND, "#dev")
    assert bob in room.members
    assert policing.change_list(hub, ayse, room, RoomSetting.MUTE, "nobody", False) == Refusal(
        codes.NOT_LISTED, "nobody", "#dev"
    )
    assert policing.change_list(hub, ayse, room, RoomSetting.MUTE, "bob", False) is None
    assert hub.speak(bob, room, "hello!") is None


def test_a_room_ban_of_a_range_puts_out_the_members_it_holds() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, _ = person(hub, "ayse")
    room = hub.join(ayse, "#dev")
    assert room is not None
    far, _ = guest(hub, "198.51.100.7")
    assert hub.register(far, "far")
    hub.join(far, "#dev")
    assert policing.ban_in_room(hub, ayse, room, "198.51.100.0/24", "") is None
    assert far not in room.members
    assert hub.enter(far, "#dev") == Refusal(codes.BANNED, "#dev")
    assert hub.enter(ayse, "#dev") is room  # the one who banned stays
