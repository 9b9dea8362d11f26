"""The hub's neutral rules for rooms and people: settings that are enforced for every
door, kicks, invitations, away, WHOIS, WHOWAS, head counts, server operators, and
who gets their own messages back. Typed events out, no sockets."""

from __future__ import annotations

from collections.abc import Callable

from soketler.core.answers import Refusal, UserFlag, UserInfo
from soketler.core.hub import Hub, OperAnswer
from soketler.core.session import NO_ECHO, OPERATOR, VOICE, Room, Session
from soketler.protocols import codes
from soketler.protocols.events import (
    AwayChanged,
    ChatMessage,
    Invited,
    Joined,
    Kicked,
    Members,
    ModeChanged,
    Pong,
    Quit,
    RoomChange,
    RoomSetting,
    ServerEvent,
)
from tests.core.fakes import fixed_clock
from tests.core.test_neutral_hub import CommitByHand, RecordingCodec, person, said


def room_of(hub: Hub, session: Session, name: str) -> Room:
    room = hub.join(session, name)
    assert room is not None
    return room


def of_type(events: list[ServerEvent], kind: type) -> list[ServerEvent]:
    return [event for event in events if isinstance(event, kind)]


def change(setting: RoomSetting, value: str | None = None, on: bool = True) -> RoomChange:
    return RoomChange(setting, on, value)


def test_the_maker_of_a_room_is_its_operator_and_only_operators_change_it() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, ayse_heard = person(hub, "ayse")
    bob, bob_heard = person(hub, "bob")
    room = room_of(hub, ayse, "#dev")
    hub.join(bob, "#dev")
    assert room.members == {ayse: OPERATOR, bob: ""}
    ayse_heard.take(), bob_heard.take()

    refused = hub.change_room(bob, room, [change(RoomSetting.MODERATED)])
    assert refused == (Refusal(codes.NOT_OPERATOR, "#dev"),)
    assert room.settings == set() and bob_heard.take() == []

    moderated_and_voiced = [
        change(RoomSetting.MODERATED),
        change(RoomSetting.VOICE, "BOB"),
        change(RoomSetting.LIMIT, "10"),
        change(RoomSetting.OPERATOR, "ghost"),
    ]
    assert hub.change_room(ayse, room, moderated_and_voiced) == (
        Refusal(codes.NO_SUCH_NICK, "ghost"),
    )
    applied = (
        change(RoomSetting.MODERATED),
        change(RoomSetting.VOICE, "bob"),  # as the hub spells the nickname
        change(RoomSetting.LIMIT, "10"),
    )
    expected = ModeChanged(fixed_clock(), "#dev", "ayse", applied, "ayse", "127.0.0.5")
    assert ayse_heard.take() == [expected] and bob_heard.take() == [expected]
    assert room.members[bob] == VOICE and room.limit == 10

    # Changing nothing tells nobody anything.
    assert hub.change_room(ayse, room, [change(RoomSetting.MODERATED)]) == ()
    assert ayse_heard.take() == []


def test_joining_is_refused_by_invitation_key_limit_and_ban_as_codes() -> None:
    hub = Hub("test", clock=fixed_clock)
    op, _ = person(hub, "op")
    bob, bob_heard = person(hub, "bob")
    room = room_of(hub, op, "#club")
    for setting, value in [
        (RoomSetting.INVITE_ONLY, None),
        (RoomSetting.KEY, "sesame"),
        (RoomSetting.BAN, "bob!*@*"),
    ]:
        hub.change_room(op, room, [change(setting, value)])
    assert hub.enter(bob, "#club", "sesame") == Refusal(codes.BANNED, "#club")
    assert hub.invite(bob, "op", "#club") == Refusal(codes.NOT_IN_ROOM, "#club")
    assert hub.invite(op, "bob", "#club") is None
    [invited] = of_type(bob_heard.take(), Invited)
    assert invited == Invited(fixed_clock(), "op", "bob", "#club", "op", "127.0.0.5")
    # The invitation lets bob past invite-only and the ban, not past the key.
    assert hub.enter(bob, "#club", "wrong") == Refusal(codes.BAD_KEY, "#club")
    assert isinstance(hub.enter(bob, "#club", "sesame"), Room)
    hub.part(bob, room)
    # An invitation is used up by the join.
    assert hub.enter(bob, "#club", "sesame") == Refusal(codes.BANNED, "#club")
    hub.change_room(op, room, [change(RoomSetting.BAN, "BOB!*@*", on=False)])
    assert hub.enter(bob, "#club", "sesame") == Refusal(codes.INVITE_ONLY, "#club")

    hub.change_room(op, room, [change(RoomSetting.LIMIT, "1")])
    carol, _ = person(hub, "carol")
    hub.invite(op, "carol", "#club")
    assert hub.enter(carol, "#club", "sesame") == Refusal(codes.ROOM_FULL, "#club")


def test_the_lines_door_says_a_refused_join_as_an_error() -> None:
    hub = Hub("test", clock=fixed_clock)
    op, _ = person(hub, "op")
    bob, bob_heard = person(hub, "bob")
    room = room_of(hub, op, "#club")
    hub.change_room(op, room, [change(RoomSetting.KEY, "sesame")])
    assert hub.join(bob, "#club") is None
    [error] = bob_heard.take()
    assert (error.code, error.subject) == (codes.BAD_KEY, "#club")  # type: ignore[union-attr]
    assert hub.join(bob, "#club", key="sesame") is room


def test_who_may_speak_moderated_members_only_and_banned() -> None:
    hub = Hub("test", clock=fixed_clock)
    op, op_heard = person(hub, "op")
    bob, _ = person(hub, "bob")
    outsider, _ = person(hub, "outsider")
    room = room_of(hub, op, "#talk")
    hub.join(bob, "#talk")
    assert hub.speak(outsider, room, "from outside") is None  # no +n yet
    hub.change_room(op, room, [change(RoomSetting.NO_OUTSIDE), change(RoomSetting.MODERATED)])
    assert hub.speak(outsider, room, "again") == Refusal(codes.CANNOT_SEND, "#talk")
    assert hub.speak(bob, room, "may I?") == Refusal(codes.CANNOT_SEND, "#talk")
    hub.change_room(op, room, [change(RoomSetting.VOICE, "bob")])
    assert hub.speak(bob, room, "now I may") is None
    hub.change_room(
        op, room, [change(RoomSetting.MODERATED, on=False), change(RoomSetting.VOICE, "bob", False)]
    )
    hub.change_room(op, room, [change(RoomSetting.BAN, "*!*@127.0.0.5")])
    assert hub.speak(bob, room, "banned now") == Refusal(codes.CANNOT_SEND, "#talk")
    assert hub.speak(op, room, "operators always may") is None
    assert said(op_heard.take()) == ["from outside", "now I may", "operators always may"]


def test_topic_lock() -> None:
    hub = Hub("test", clock=fixed_clock)
    op, _ = person(hub, "op")
    bob, _ = person(hub, "bob")
    outsider, _ = person(hub, "outsider")
    room = room_of(hub, op, "#t")
    hub.join(bob, "#t")
    assert hub.change_topic(outsider, room, "mine") == Refusal(codes.NOT_IN_ROOM, "#t")
    assert hub.change_topic(bob, room, "release day") is None
    hub.change_room(op, room, [change(RoomSetting.TOPIC_LOCK)])
    assert hub.change_topic(bob, room, "mine") == Refusal(codes.NOT_OPERATOR, "#t")
    assert room.topic == "release day"


def test_a_kick_is_heard_by_the_room_and_the_kicked_then_they_are_out() -> None:
    hub = Hub("test", clock=fixed_clock)
    op, op_heard = person(hub, "op")
    bob, bob_heard = person(hub, "bob")
    room = room_of(hub, op, "#dev")
    room_of(hub, bob, "#lobby")
    hub.join(bob, "#dev")
    bob.current = room
    op_heard.take(), bob_heard.take()
    assert hub.kick(bob, room, "op", "no") == Refusal(codes.NOT_OPERATOR, "#dev")
    assert hub.kick(op, room, "ghost", "x") == Refusal(codes.NO_SUCH_NICK, "ghost")
    assert hub.kick(op, room, "bob", "spam") is None
    kicked = Kicked(fixed_clock(), "#dev", "op", "bob", "spam", "op", "127.0.0.5")
    assert op_heard.take() == [kicked] and bob_heard.take() == [kicked]
    assert bob not in room.members and "#dev" not in bob.rooms
    assert bob.current is not None and bob.current.name == "#lobby"  # a current room still
    assert hub.kick(op, room, "bob", "again") == Refusal(codes.USER_NOT_IN_ROOM, "bob", "#dev")


def test_away_is_told_once_to_each_roommate_and_shown_in_whois() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, ayse_heard = person(hub, "ayse")
    bob, bob_heard = person(hub, "bob")
    stranger, stranger_heard = person(hub, "stranger")
    for name in ("#a", "#b"):
        hub.join(ayse, name)
        hub.join(bob, name)
    for heard in (ayse_heard, bob_heard, stranger_heard):
        heard.take()
    hub.set_away(ayse, "lunch")
    assert bob_heard.take() == [AwayChanged(fixed_clock(), "ayse", "lunch", "ayse", "127.0.0.5")]
    assert ayse_heard.take() == [] and stranger_heard.take() == []
    info = hub.whois("AYSE", stranger)
    assert isinstance(info, UserInfo) and info.away == "lunch"
    hub.set_away(ayse, "lunch")  # no change, no news
    assert bob_heard.take() == []
    hub.set_away(ayse, None)
    assert bob_heard.take() == [AwayChanged(fixed_clock(), "ayse", None, "ayse", "127.0.0.5")]


def test_whois_hides_secret_rooms_from_outsiders() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, _ = person(hub, "ayse")
    bob, _ = person(hub, "bob")
    secret = room_of(hub, ayse, "#secret")
    room_of(hub, ayse, "#open")
    hub.change_room(ayse, secret, [change(RoomSetting.SECRET)])
    seen = hub.whois("ayse", bob)
    assert isinstance(seen, UserInfo) and seen.rooms == (("@", "#open"),)
    own = hub.whois("ayse", ayse)
    assert isinstance(own, UserInfo) and own.rooms == (("@", "#secret"), ("@", "#open"))
    assert [r.name for r in hub.room_list(asker=bob).rooms] == ["#open"]
    assert hub.whois("nobody", bob) == Refusal(codes.NO_SUCH_NICK, "nobody")


def test_whowas_remembers_renames_and_quits_newest_first() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, _ = person(hub, "ayse")
    assert hub.change_nick(ayse, "ayse2") is None
    hub.close(ayse, "bye")
    assert [p.nick for p in hub.whowas("AYSE", 10)] == ["ayse"]
    assert [p.nick for p in hub.whowas("ayse*", 10)] == ["ayse2", "ayse"]
    assert [p.nick for p in hub.whowas("ayse*", 1)] == ["ayse2"]
    assert hub.whowas("nobody", 10) == ()


def test_head_counts_are_counters() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, _ = person(hub, "ayse")
    bob, _ = person(hub, "bob")
    hub.open(RecordingPeer(), "127.0.0.9", "test", RecordingCodec())  # still registering
    assert hub.set_user_flag(ayse, UserFlag.INVISIBLE, True)
    assert not hub.set_user_flag(ayse, UserFlag.INVISIBLE, True)
    assert not hub.set_user_flag(bob, UserFlag.OPERATOR, True)  # only `oper` gives it
    room_of(hub, bob, "#x")
    stats = hub.stats()
    assert (stats.users, stats.invisible, stats.operators) == (1, 1, 0)
    assert (stats.unregistered, stats.rooms, stats.max_users) == (1, 1, 2)
    hub.close(ayse, "bye")
    stats = hub.stats()
    assert (stats.users, stats.invisible, stats.max_users) == (1, 0, 2)


class RecordingPeer:
    def write(self, data: bytes) -> None:
        pass

    def close(self, reason: str) -> None:
        pass


class Operators:
    """Answers later, as the real check (a slow hash on another thread) does."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []

    def check(self, name: str, password: str, address: str, done: OperAnswer) -> None:
        code = None if (name, password) == ("root", "pw") else codes.BAD_PASSWORD
        self.pending.append(lambda: done(code))

    def answer(self) -> None:
        for answer in self.pending:
            answer()
        self.pending.clear()


def test_operators_and_kill() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, _ = person(hub, "ayse")
    victim, _ = person(hub, "victim")
    witness, witness_heard = person(hub, "witness")
    room = room_of(hub, victim, "#r")
    hub.join(witness, "#r")
    witness_heard.take()
    answers: list[Refusal | None] = []
    hub.oper(ayse, "root", "pw", answers.append)
    assert answers == [Refusal(codes.NO_OPERATOR_HERE)]  # no operators configured
    assert hub.kill(ayse, "victim", "spam") == Refusal(codes.NOT_SERVER_OPERATOR)

    operators = Operators()
    hub.operators = operators
    hub.oper(ayse, "root", "wrong", answers.append)
    hub.oper(ayse, "root", "pw", answers.append)
    assert answers == [Refusal(codes.NO_OPERATOR_HERE)]  # nothing until the check answers
    operators.answer()
    assert answers[1:] == [Refusal(codes.BAD_PASSWORD), None]
    assert hub.stats().operators == 1
    assert hub.kill(ayse, "ghost", "x") == Refusal(codes.NO_SUCH_NICK, "ghost")
    assert hub.kill(ayse, "victim", "Killed (ayse (spam))") is None
    assert victim.closed and victim not in room.members
    assert witness_heard.take() == [
        Quit(fixed_clock(), "victim", "Killed (ayse (spam))", "victim", "127.0.0.5")
    ]
    assert hub.set_user_flag(ayse, UserFlag.OPERATOR, False)  # dropped by its holder
    assert hub.stats().operators == 0


def test_who_does_not_want_its_own_messages_back_gets_only_the_others() -> None:
    archive = CommitByHand()
    hub = Hub("test", clock=fixed_clock, archive=archive)
    quiet, quiet_heard = person(hub, "quiet")
    echoed, echoed_heard = person(hub, "echoed")
    quiet.set_flag(NO_ECHO, True)
    room = room_of(hub, quiet, "#r")
    hub.join(echoed, "#r")
    quiet_heard.take(), echoed_heard.take()
    hub.say(quiet, room, "one")
    hub.say(echoed, room, "two")
    hub.say(quiet, room, "three")
    hub.private(quiet, echoed, "psst")
    for text in ("one", "two", "three", "psst"):  # released together: one pass
        archive.commit(text)
    assert said(quiet_heard.take()) == ["two"]
    assert said(echoed_heard.take()) == ["one", "two", "three", "psst"]


def test_members_carry_what_irc_names_need() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, ayse_heard = person(hub, "ayse")
    bob, _ = person(hub, "bob")
    room = room_of(hub, ayse, "#r")
    hub.join(bob, "#r")
    hub.change_room(ayse, room, [change(RoomSetting.VOICE, "ayse"), change(RoomSetting.SECRET)])
    hub.change_topic(ayse, room, "hello")
    hub.set_user_flag(bob, UserFlag.BOT, True)
    members = hub.members(room)
    assert [(m.nick, m.status, m.bot) for m in members.members] == [
        ("ayse", "@+", False),
        ("bob", "", True),
    ]
    assert members.secret and members.topic_by == "ayse"
    assert members.topic_time == fixed_clock().timestamp()
    first = [e for e in ayse_heard.take() if isinstance(e, Joined | Members)][:2]
    assert isinstance(first[0], Joined) and isinstance(first[1], Members) and first[1].joining
    hub.say(bob, room, "beep")
    [message] = of_type(ayse_heard.take(), ChatMessage)
    assert isinstance(message, ChatMessage) and message.bot


def test_replies_wait_for_an_operator_check_that_is_under_way() -> None:
    hub = Hub("test", clock=fixed_clock)
    ayse, heard = person(hub, "ayse")
    operators = Operators()
    hub.operators = operators
    answers: list[Refusal | None] = []
    hub.oper(ayse, "root", "pw", answers.append)
    hub.send(ayse, Pong("after the OPER"))
    assert heard.take() == [] and answers == []
    operators.answer()
    assert answers == [None]
    assert heard.take() == [Pong("after the OPER")]


def test_an_outsider_who_speaks_to_a_room_gets_none_of_its_messages() -> None:
    archive = CommitByHand()
    hub = Hub("test", clock=fixed_clock, archive=archive)
    member, member_heard = person(hub, "member")
    outsider, outsider_heard = person(hub, "outsider")
    outsider.set_flag(NO_ECHO, True)
    room = room_of(hub, member, "#open")
    member_heard.take(), outsider_heard.take()
    assert hub.speak(outsider, room, "from outside") is None
    hub.say(member, room, "inside")
    archive.commit("from outside")
    archive.commit("inside")
    assert said(member_heard.take()) == ["from outside", "inside"]
    assert outsider_heard.take() == []
