"""Pasting into `soketler chat`: each line its own message, paced, asked about when big.

The terminal side is a real prompt_toolkit pipe input: the bytes a terminal sends
for a bracketed paste (ESC [200~ ... ESC [201~) go through prompt_toolkit's own
parser into the chat screen, as they would from a terminal.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from hypothesis import given
from hypothesis import strategies as st

from soketler.client import ChatClient
from soketler.client.codec import encode
from soketler.client.paste import SERVER_MAX_LINE, Paste, fitted, messages, split_paste
from soketler.client.requests import Say
from tests.client.screenharness import ENTER, Terminal, chat_server, said_by, terminal


@contextlib.asynccontextmanager
async def alice_and_bob() -> AsyncIterator[tuple[ChatClient, Terminal]]:
    """bob on the Python client; alice on the chat screen, whose keys the test types."""
    async with (
        chat_server() as port,
        ChatClient("127.0.0.1", port, nick="bob") as bob,
        terminal(port, bob) as term,
    ):
        yield bob, term


async def said_by_alice(watcher: ChatClient, count: int) -> list[str]:
    return await said_by(watcher, "alice", count)


async def test_a_small_paste_is_one_message_per_line_at_once() -> None:
    async with alice_and_bob() as (bob, term):
        lines = ["Kısa 01: the quick brown fox", "/usr/bin/env python3", "", "üç\tdört"]
        term.paste("\r\n".join(lines) + "\r\n")
        # In order, each its own message; the blank line left out; `/usr` not a command.
        assert await said_by_alice(bob, 3) == [lines[0], lines[1], "üç\tdört"]


async def test_a_big_paste_asks_first_then_goes_at_the_servers_pace() -> None:
    lines = [f"Kısa {n:02d}: Lorem ipsum dolor sit amet, the lazy dog." for n in range(30)]
    async with alice_and_bob() as (bob, term):
        term.paste("\n".join(lines) + "\n")
        await term.wait_shown("Paste 30 lines into #lobby?")
        assert term.screen.pending_paste is not None
        assert term.screen._typed.empty()  # nothing on its way before the answer
        term.keys.send_text(ENTER)
        assert "about 2 s" in await term.wait_shown("Sending 30 lines to #lobby")
        # The server's default limits: 20 at once, then 5 a second; nobody is cut off.
        assert await said_by_alice(bob, 30) == lines
        await term.wait_shown("Sent 30 lines to #lobby.")
        assert "alice" in (await bob.who("#lobby")).users


async def test_a_cancelled_paste_sends_nothing_and_says_so() -> None:
    async with alice_and_bob() as (bob, term):
        term.paste("".join(f"line {n}\n" for n in range(10)))
        await term.wait_shown("Paste 10 lines")
        term.keys.send_text("\x1b")  # Esc
        await term.wait_shown("Paste cancelled: 10 lines not sent.")
        term.keys.send_text("typed after" + ENTER)
        assert await said_by_alice(bob, 1) == ["typed after"]


async def test_an_unfinished_last_line_stays_in_the_input() -> None:
    async with alice_and_bob() as (bob, term):
        term.keys.send_text("said: ")
        term.paste("one\ntwo")
        assert await said_by_alice(bob, 1) == ["said: one"]
        buffer = term.screen.session.default_buffer
        assert (buffer.text, buffer.cursor_position) == ("two", 3)
        term.keys.send_text(" three" + ENTER)
        assert await said_by_alice(bob, 1) == ["two three"]


async def test_a_line_longer_than_the_servers_limit_is_cut_not_dropped() -> None:
    words = [f"kelime{n}" for n in range(900)]  # about 8 KB: two lines' worth
    async with alice_and_bob() as (bob, term):
        line = " ".join(words)
        term.paste(line + "\n")
        expected = messages(Paste((line,), "#lobby"))
        assert len(expected) == 3
        parts = await said_by_alice(bob, len(expected))
        assert parts == expected and " ".join(parts).split(" ") == words


one_line = st.text(st.characters(blacklist_characters="\r\n"), max_size=40)


@given(one_line, st.text(max_size=200), one_line)
def test_a_split_keeps_every_line_and_the_unfinished_rest(
    before: str, data: str, after: str
) -> None:
    split = split_paste(before, data, after)
    text = before + data.replace("\r\n", "\n").replace("\r", "\n") + after
    assert text.endswith(split.rest)
    assert [line for line in text.split("\n")[:-1] if line.strip()] == list(split.lines)
    assert 0 <= split.cursor <= len(split.rest)


@given(st.text(min_size=1, max_size=9000), st.sampled_from(["#lobby", None]))
def test_fitted_messages_fit_and_lose_nothing(text: str, room: str | None) -> None:
    parts = fitted(text, room)
    for part in parts:
        assert len(encode(Say(part, room=room, id=10**12))) - 1 <= SERVER_MAX_LINE
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    assert messages(Paste((text,), room)) == parts
