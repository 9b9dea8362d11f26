"""The IRC codec: hub events in, IRC lines out, per set of capabilities. No sockets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols.events import (
    AwayChanged,
    Bye,
    ChatMessage,
    Error,
    HistoryEnd,
    HistoryPage,
    Info,
    Invited,
    Joined,
    Kicked,
    Member,
    Members,
    ModeChanged,
    NickChanged,
    Parted,
    Quit,
    RoomChange,
    RoomSetting,
    TagMessage,
    TopicChanged,
    TopicReply,
)
from soketler.protocols.irc.codec import IrcCodec, codec_for
from soketler.protocols.irc.receiver import IrcReceiver, Received

T = datetime(2026, 11, 23, 20, 15, 0, 123000, tzinfo=UTC)
S = "irc.test"


@dataclass
class Reader:
    nick: str = "ayse"
    host: str = "10.0.0.1"


def lines(data: bytes) -> list[str]:
    assert data.endswith(b"\r\n") or not data
    return data.decode().split("\r\n")[:-1]


def test_a_room_message_for_readers_with_and_without_tags() -> None:
    message = ChatMessage(
        42, T, "bob", "merhaba :)", room="#lobby", user="bob", host="h", tags={"+typing": "done"}
    )
    assert lines(IrcCodec(S).encode(message)) == [":bob!bob@h PRIVMSG #lobby :merhaba :)"]
    tagged = IrcCodec(S, frozenset({"server-time", "message-tags"}))
    assert lines(tagged.encode(message)) == [
        "@time=2026-11-23T20:15:00.123Z;msgid=42;+typing=done :bob!bob@h PRIVMSG #lobby :merhaba :)"
    ]


def test_actions_notices_private_messages_and_bots() -> None:
    codec = IrcCodec(S, frozenset({"message-tags"}))
    action = ChatMessage(1, T, "bob", "waves", room="#r", action=True, user="u", host="h")
    notice = ChatMessage(2, T, "bob", "fyi", to="ayse", notice=True, user="u", host="h", bot=True)
    assert lines(codec.encode(action)) == ["@msgid=1 :bob!u@h PRIVMSG #r :\x01ACTION waves\x01"]
    assert lines(codec.encode(notice)) == ["@msgid=2;bot :bob!u@h NOTICE ayse :fyi"]


def test_replayed_lines_without_user_and_host_name_the_nickname_alone() -> None:
    message = ChatMessage(7, T, "bob", "old", room="#r", history=True)
    assert lines(IrcCodec(S).encode(message)) == [":bob PRIVMSG #r :old"]


def test_room_events() -> None:
    codec = IrcCodec(S)
    events = [
        Joined(T, "#r", "bob", "u", "h"),
        Parted(T, "#r", "bob", "", "u", "h"),
        Parted(T, "#r", "bob", "see you", "u", "h"),
        Quit(T, "bob", "Quit: bye", "u", "h"),
        NickChanged(T, "bob", "bora", "u", "h"),
        TopicChanged(T, "#r", "bob", "release day", "u", "h"),
        Kicked(T, "#r", "op", "bob", "spam", "o", "h2"),
        ModeChanged(
            T,
            "#r",
            "op",
            (
                RoomChange(RoomSetting.MODERATED, True),
                RoomChange(RoomSetting.VOICE, True, "bob"),
                RoomChange(RoomSetting.KEY, False, "*"),
                RoomChange(RoomSetting.BAN, True, "*!*@bad"),
            ),
            "o",
            "h2",
        ),
        Invited(T, "op", "ayse", "#r", "o", "h2"),
    ]
    assert lines(b"".join(codec.encode(event) for event in events)) == [
        ":bob!u@h JOIN #r",
        ":bob!u@h PART #r",
        ":bob!u@h PART #r :see you",
        ":bob!u@h QUIT :Quit: bye",
        ":bob!u@h NICK bora",
        ":bob!u@h TOPIC #r :release day",
        ":op!o@h2 KICK #r bob :spam",
        ":op!o@h2 MODE #r +mv-k+b bob * *!*@bad",
        ":op!o@h2 INVITE ayse #r",
    ]


def test_away_and_tag_messages_only_for_readers_who_asked() -> None:
    away = AwayChanged(T, "bob", "lunch", "u", "h")
    back = AwayChanged(T, "bob", None, "u", "h")
    typing = TagMessage(T, "bob", {"+typing": "active"}, room="#r", user="u", host="h")
    plain = IrcCodec(S)
    assert plain.encode(away) == b"" and plain.encode(typing) == b""
    asked = IrcCodec(S, frozenset({"away-notify", "message-tags"}))
    assert lines(asked.encode(away) + asked.encode(back) + asked.encode(typing)) == [
        ":bob!u@h AWAY :lunch",
        ":bob!u@h AWAY",
        "@+typing=active :bob!u@h TAGMSG #r",
    ]


def test_after_a_join_the_topic_then_the_names_addressed_to_the_reader() -> None:
    members = Members(
        "#r",
        "release day",
        ("op", "bob"),
        members=(Member("op", "@+", "o", "h1"), Member("bob", "", "u", "h2")),
        joining=True,
        topic_by="op",
        topic_time=1795464900.0,
    )
    assert lines(IrcCodec(S).reply(members, Reader())) == [
        f":{S} 332 ayse #r :release day",
        f":{S} 333 ayse #r op 1795464900",
        f":{S} 353 ayse = #r :@op bob",
        f":{S} 366 ayse #r :End of /NAMES list",
    ]
    full = IrcCodec(S, frozenset({"multi-prefix", "userhost-in-names"}))
    names = Members("#r", "", ("op",), members=(Member("op", "@+", "o", "h1"),), secret=True)
    assert lines(full.reply(names, Reader())) == [
        f":{S} 353 ayse @ #r :@+op!o@h1",
        f":{S} 366 ayse #r :End of /NAMES list",
    ]


def test_a_long_member_list_is_cut_into_lines_of_512_bytes() -> None:
    people = tuple(Member(f"person{n:04d}", "", "u", "h") for n in range(300))
    members = Members("#big", "", tuple(m.nick for m in people), members=people)
    out = lines(IrcCodec(S).reply(members, Reader()))
    assert len(out) > 2 and all(len(line.encode()) + 2 <= 512 for line in out)
    named = [word for line in out if " 353 " in line for word in line.split(" :", 1)[1].split()]
    assert named == [m.nick for m in people]


def test_replies_errors_notices_and_goodbye() -> None:
    codec = IrcCodec(S)
    assert lines(codec.reply(TopicReply("#r", ""), Reader())) == [
        f":{S} 331 ayse #r :No topic is set"
    ]
    assert lines(codec.reply(Error("cannot-send", subject="#r"), Reader())) == [
        f":{S} 404 ayse #r :Cannot send to channel"
    ]
    assert lines(codec.reply(Error("store-failed", detail="disk full"), Reader())) == [
        f":{S} FAIL * TEMPORARILY_UNAVAILABLE :Not sent: the history store failed"
    ]
    assert lines(codec.reply(Info("Slow down\nplease"), Reader())) == [
        f":{S} NOTICE ayse :Slow down",
        f":{S} NOTICE ayse :please",
    ]
    assert lines(codec.reply(Bye("Ping timeout"), Reader())) == [
        "ERROR :Closing Link: 10.0.0.1 (Ping timeout)"
    ]


def test_history_as_a_batch_for_batch_readers() -> None:
    page = HistoryPage(
        (ChatMessage(1, T, "bob", "a", room="#r"), ChatMessage(2, T, "bob", "b", room="#r")),
        HistoryEnd("#r", 2, False),
    )
    assert lines(IrcCodec(S).reply(page, Reader())) == [":bob PRIVMSG #r :a", ":bob PRIVMSG #r :b"]
    out = lines(IrcCodec(S, frozenset({"batch"})).reply(page, Reader()))
    start, first, second, end = out
    reference = start.split()[2][1:]
    assert start == f":{S} BATCH +{reference} chathistory #r"
    assert first == f"@batch={reference} :bob PRIVMSG #r :a"
    assert second == f"@batch={reference} :bob PRIVMSG #r :b"
    assert end == f":{S} BATCH -{reference}"


def test_one_codec_per_server_and_rendering_capabilities() -> None:
    a = codec_for(S, {"server-time", "echo-message"})
    assert a is codec_for(S, {"server-time", "cap-notify"})  # the others change nothing here
    assert a is not codec_for(S, {"server-time", "multi-prefix"})
    assert a is not codec_for("other.server", {"server-time"})


@given(st.text(), st.text(min_size=1).filter(lambda s: " " not in s))
def test_any_text_is_one_line_that_reads_back(text: str, nick: str) -> None:
    """Whatever a message holds, it is one line, and an IRC parser reads it back (CR,
    LF and NUL, which no door lets in, become spaces)."""
    codec = IrcCodec(S, frozenset({"server-time", "message-tags"}))
    data = codec.encode(ChatMessage(1, T, "bob", text, room="#r", user="u", host="h"))
    assert data.count(b"\r\n") == 1 and data.endswith(b"\r\n") and b"\n" not in data[:-2]
    receiver = IrcReceiver(max_line_content=1 << 20)
    receiver.receive_data(data)
    [event] = receiver.events_received()
    assert isinstance(event, Received)
    assert event.message.params[0] == "#r"
    expected = text.encode("utf-8", "replace").decode()
    for char in "\r\n\x00":
        expected = expected.replace(char, " ")
    assert event.message.params[1] == expected
