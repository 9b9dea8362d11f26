"""Keys from an SSH channel, without sockets: bytes in, prompt_toolkit key presses out,
with the bounds that keep one client's input from costing the server."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prompt_toolkit.keys import Keys

from soketler.doors.ssh.terminal import (
    CHARS_PER_TURN,
    INPUT_HIGH,
    INPUT_LOW,
    KEYS_PER_TURN,
    ChannelInput,
)


class Flow:
    def __init__(self) -> None:
        self.paused = 0
        self.resumed = 0

    def pause(self) -> None:
        self.paused += 1

    def resume(self) -> None:
        self.resumed += 1


def new_input() -> tuple[ChannelInput, Flow]:
    flow = Flow()
    return ChannelInput(flow.pause, flow.resume), flow


def all_keys(channel: ChannelInput) -> list[tuple[str, str]]:
    """(key, data) of every key press, a run of characters given as one counted as the
    characters it inserts (as prompt_toolkit inserts them)."""
    keys = []
    while True:
        batch = channel.read_keys()
        if not batch:
            break
        keys += batch
    keys += channel.flush_keys()
    pressed = []
    for key in keys:
        if key.key == Keys.BracketedPaste:
            pressed += [(char, char) for char in key.data]
        else:
            pressed.append((str(key.key), key.data))
    return pressed


def test_text_enter_and_arrows_become_keys() -> None:
    channel, _ = new_input()
    channel.feed("merhaba ç\r".encode())
    channel.feed(b"\x1b[A")
    keys = all_keys(channel)
    assert "".join(data for key, data in keys[:9]) == "merhaba ç"
    assert keys[9][0] == str(Keys.ControlM)
    assert keys[10][0] == str(Keys.Up)


def test_a_character_or_an_escape_split_between_packets_is_one_key() -> None:
    channel, _ = new_input()
    channel.feed("ç".encode()[:1])
    assert channel.read_keys() == []  # half a character
    channel.feed("ç".encode()[1:])
    assert all_keys(channel) == [("ç", "ç")]
    channel.feed(b"\x1b[")
    assert channel.read_keys() == []  # the start of an escape sequence
    channel.feed(b"B")
    assert [key for key, _ in all_keys(channel)] == [str(Keys.Down)]


def test_a_lone_escape_is_a_key_once_flushed() -> None:
    channel, _ = new_input()
    channel.feed(b"\x1b")
    assert channel.read_keys() == []
    assert [str(k.key) for k in channel.flush_keys()] == [str(Keys.Escape)]


def test_bracketed_paste_is_ignored_so_a_paste_that_never_ends_is_not_kept() -> None:
    channel, _ = new_input()
    channel.feed(b"\x1b[200~one\rtwo\x1b[201~")
    keys = all_keys(channel)
    assert str(Keys.BracketedPaste) not in [key for key, _ in keys]
    assert "".join(data for _, data in keys) == "one\rtwo"
    channel.feed(b"\x1b[200~" + b"x" * 10_000)
    assert "".join(data for _, data in all_keys(channel)) == "x" * 10_000


def test_an_endless_escape_sequence_is_dropped() -> None:
    channel, _ = new_input()
    for _ in range(100):
        channel.feed(b"\x1b[" + b"1;" * 500)  # would be a cursor report, if it ended
    channel.feed(b"R\x1b[5;1Rok")
    keys = all_keys(channel)
    assert max(len(data) for _, data in keys) <= 32
    assert (str(Keys.CPRResponse), "\x1b[5;1R") in keys
    assert keys[-2:] == [("o", "o"), ("k", "k")]


def test_a_run_of_characters_is_one_insertion_and_control_keys_stay_keys() -> None:
    channel, _ = new_input()
    channel.feed(b"hello world\x7fd\r")
    keys = channel.read_keys()
    assert [(k.key, k.data) for k in keys] == [
        (Keys.BracketedPaste, "hello world"),
        (Keys.ControlH, "\x7f"),
        ("d", "d"),
        (Keys.ControlM, "\r"),
    ]


def test_keys_are_handed_over_a_few_at_a_time_and_the_channel_waits_when_far_behind() -> None:
    channel, flow = new_input()
    channel.feed(b"\x01" * 1000)  # control keys: each costs prompt_toolkit a key's work
    assert len(channel.read_keys()) == KEYS_PER_TURN
    channel, flow = new_input()
    channel.feed(b"a" * (INPUT_HIGH + 1))
    assert flow.paused == 1
    first = channel.read_keys()
    assert len(first) == 1 and len(first[0].data) == CHARS_PER_TURN
    turns = 1
    while flow.resumed == 0:
        assert channel.read_keys()
        turns += 1
    assert (turns + 1) * CHARS_PER_TURN >= INPUT_HIGH - INPUT_LOW
    assert len(all_keys(channel)) + turns * CHARS_PER_TURN == INPUT_HIGH + 1


_PIECES = st.sampled_from(
    ["a", "ş", "界", " ", "\r", "\x7f", "\x1b[A", "\x1b[12;40R", "\x1bOP", "\x1b[3~", "\x01"]
)


@given(st.lists(_PIECES, max_size=40), st.data())
def test_how_packets_split_the_input_does_not_change_the_keys(
    pieces: list[str], data: st.DataObject
) -> None:
    raw = "".join(pieces).encode()
    whole, _ = new_input()
    whole.feed(raw)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=8)))
    split, _ = new_input()
    start = 0
    for cut in [*cuts, len(raw)]:
        split.feed(raw[start:cut])
        start = cut
    assert all_keys(split) == all_keys(whole)
