"""PRIVMSG, NOTICE and TAGMSG against the fake hub."""

from __future__ import annotations

from soketler.doors.irc.hubapi import BUSY, STORE_FAILED, Kind, Refusal
from tests.doors.irc.door import SERVER, Door, commands


def test_privmsg_to_a_room_and_to_a_person() -> None:
    door = Door()
    bob = door.user("bob")
    door.user("Ayşe")
    bob.send("JOIN #a")
    assert bob.send("PRIVMSG #a :merhaba herkes", "PRIVMSG ayşe :selam") == []
    assert ("say", ("#a", "merhaba herkes", Kind.MESSAGE, {})) in door.hub.calls
    assert door.hub.events[-1] == ("private", ("bob", "Ayşe", "selam", Kind.MESSAGE))


def test_actions_are_actions_for_every_door() -> None:
    door = Door()
    bob = door.user("bob")
    bob.send("JOIN #a", "PRIVMSG #a :\x01ACTION waves\x01", "PRIVMSG #a :\x01ACTION shrugs")
    says = [args for name, args in door.hub.calls if name == "say"]
    assert says == [("#a", "waves", Kind.ACTION, {}), ("#a", "shrugs", Kind.ACTION, {})]


def test_notice_is_a_notice_and_never_answered_with_an_error() -> None:
    door = Door()
    bob = door.user("bob")
    assert bob.send("NOTICE ghost :hi", "NOTICE #nowhere :hi", "NOTICE", "NOTICE bob") == []
    bob.send("JOIN #a", "NOTICE #a :note")
    assert door.hub.events[-1] == ("say", ("#a", "bob", "note", Kind.NOTICE))


def test_privmsg_errors() -> None:
    door = Door()
    bob = door.user("bob")
    assert bob.lines("PRIVMSG") == [f":{SERVER} 411 bob :No recipient given (PRIVMSG)"]
    assert bob.lines("PRIVMSG #a") == [f":{SERVER} 412 bob :No text to send"]
    assert bob.lines("PRIVMSG #a :") == [f":{SERVER} 412 bob :No text to send"]
    assert bob.lines("PRIVMSG ghost :hi") == [f":{SERVER} 401 bob ghost :No such nick/channel"]
    assert bob.lines("PRIVMSG #nowhere :hi") == [f":{SERVER} 403 bob #nowhere :No such channel"]


def test_moderated_and_outside_messages_are_refused_with_404() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #m", "MODE #m +mn")
    bob = door.user("bob")
    assert bob.lines("PRIVMSG #m :from outside") == [
        f":{SERVER} 404 bob #m :Cannot send to channel"
    ]
    bob.send("JOIN #m")
    assert commands(bob.send("PRIVMSG #m :quiet")) == ["404"]
    op.send("MODE #m +v bob")
    assert bob.send("PRIVMSG #m :voiced") == []


def test_several_targets_up_to_maxtargets() -> None:
    door = Door()
    bob = door.user("bob")
    for nick in "abcde":
        door.user(nick)
    replies = bob.send("PRIVMSG a,b,c,d,e :hi all")
    assert [m.to_line() for m in replies] == [f":{SERVER} 407 bob e :Too many recipients"]
    delivered = [args[1] for name, args in door.hub.events if name == "private"]
    assert delivered == ["a", "b", "c", "d"]


def test_away_reply_to_a_private_message() -> None:
    door = Door()
    bob = door.user("bob")
    ayse = door.user("ayse")
    ayse.send("AWAY :lunch")
    assert bob.lines("PRIVMSG ayse :hi") == [f":{SERVER} 301 bob ayse :lunch"]
    assert bob.send("NOTICE ayse :hi") == []


def test_client_only_tags_are_relayed_only_from_message_tags_clients() -> None:
    door = Door()
    tagged = door.user("tagged", "message-tags")
    tagged.send("JOIN #t", "@+draft/reply=12;+typing=done;label=x PRIVMSG #t :hi")
    assert door.hub.calls[-1] == (
        "say",
        ("#t", "hi", Kind.MESSAGE, {"+draft/reply": "12", "+typing": "done"}),
    )
    plain = door.user("plain")
    plain.send("JOIN #t", "@+typing=active PRIVMSG #t :hi")
    assert door.hub.calls[-1] == ("say", ("#t", "hi", Kind.MESSAGE, {}))


def test_tagmsg_for_message_tags_clients_only() -> None:
    door = Door()
    tagged = door.user("tagged", "message-tags")
    tagged.send("JOIN #t", "@+typing=active;server=x TAGMSG #t")
    assert door.hub.calls[-1] == ("tag_only", ("#t", {"+typing": "active"}))
    assert commands(tagged.send("@+typing=active TAGMSG ghost")) == ["401"]
    plain = door.user("plain")
    calls = len(door.hub.calls)
    assert plain.send("@+typing=active TAGMSG #t") == []
    assert len(door.hub.calls) == calls


def test_invalid_utf8_is_refused_not_relayed() -> None:
    door = Door()
    bob = door.user("bob")
    door.user("ayse")
    replies = bob.send_bytes(b"PRIVMSG ayse :hi\xaa\r\n")
    assert [m.to_line() for m in replies] == [
        f":{SERVER} FAIL PRIVMSG INVALID_UTF8 :Message rejected: this network is UTF-8 only"
    ]
    assert bob.send_bytes(b"NOTICE ayse :hi\xaa\r\n") == []
    assert not any(name == "private" for name, _ in door.hub.calls)


def test_store_failures_are_standard_replies() -> None:
    door = Door()
    bob = door.user("bob")
    bob.send("JOIN #a")
    door.hub.fail_with = Refusal(STORE_FAILED, "#a")
    assert bob.lines("PRIVMSG #a :lost") == [
        f":{SERVER} FAIL PRIVMSG TEMPORARILY_UNAVAILABLE #a :Not sent: the history store failed"
    ]
    door.hub.fail_with = Refusal(BUSY, "#a")
    (reply,) = bob.send("PRIVMSG #a :later")
    assert reply.params[:3] == ("PRIVMSG", "TEMPORARILY_UNAVAILABLE", "#a")
