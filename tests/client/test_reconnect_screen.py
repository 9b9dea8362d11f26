"""`soketler chat` while the server is away: a countdown, Ctrl-R, and nothing typed lost."""

from __future__ import annotations

import re

from soketler.client import Backoff, ChatClient, Disconnected, Reconnected, Reconnecting
from soketler.client.app import ChatOptions
from soketler.client.offline import Offline
from soketler.client.requests import Say
from tests.client.screenharness import ENTER, said_by, start_server, terminal

CTRL_R = "\x12"
# alice's next attempt is a minute away: only Ctrl-R can bring her back within a test.
PATIENT = Backoff(initial=60.0, maximum=60.0, jitter=0.0)


async def test_a_countdown_a_key_to_retry_and_lines_typed_meanwhile_are_sent() -> None:
    server = await start_server()
    port = server.tcp_addresses[0][1]
    try:
        async with (
            ChatClient("127.0.0.1", port, nick="bob") as bob,
            terminal(port, bob, backoff=PATIENT) as term,
        ):
            await server.shutdown(grace=1.0)
            await term.wait_shown("Connection lost")
            await term.wait_shown("Ctrl-R: reconnect now.")
            waiting = await term.wait_event(Reconnecting)
            assert isinstance(waiting, Reconnecting) and waiting.delay == 60.0
            assert re.search(r"reconnecting in (60|59) s · Ctrl-R: now", term.toolbar())

            term.keys.send_text("said while away" + ENTER)
            await term.wait_shown("Not connected: that line kept, sent once you are back")
            assert "1 line to send" in term.toolbar()
            term.screen.offline.limit = 1  # the bound, made small: past it a line is refused
            term.keys.send_text("one too many" + ENTER)
            await term.wait_shown("1 lines wait already: 1 not kept, not sent")

            server = await start_server(port)
            async with ChatClient("127.0.0.1", port, nick="carol") as carol:
                term.keys.send_text(CTRL_R)
                await term.wait_event(Reconnected)
                await term.wait_shown("Reconnected as alice, in #lobby.")
                assert "reconnecting" not in term.toolbar()
                # What was typed while away arrives after the rejoin; the refused line not.
                assert await said_by(carol, "alice", 1) == ["said while away"]
                term.keys.send_text("and now" + ENTER)
                assert await said_by(carol, "alice", 1) == ["and now"]
    finally:
        await server.shutdown(grace=1.0)


def test_the_countdown_counts_down_and_the_outbox_is_bounded() -> None:
    offline = Offline(limit=2)
    assert offline.status(0.0) is None  # connected: nothing to say
    offline.apply(Disconnected("reset", reconnecting=True), 0.0)
    assert offline.status(0.0) == "reconnecting..."
    offline.apply(Reconnecting(delay=4.0, attempt=3), 10.0)
    assert offline.status(10.0) == "reconnecting in 4 s · Ctrl-R: now"
    assert offline.status(12.5) == "reconnecting in 2 s · Ctrl-R: now"
    assert offline.status(14.0) == "reconnecting..."  # the attempt is under way
    assert offline.keep(Say("a")) and offline.keep(Say("b"))
    assert not offline.keep(Say("c"))
    assert offline.status(15.0) == "reconnecting... · 2 lines to send"
    assert [request.text for request in offline.take_all()] == ["a", "b"]  # type: ignore[union-attr]
    offline.apply(Reconnected("a", ("#lobby",)), 16.0)
    assert offline.status(16.0) is None


def test_the_terminal_client_tries_again_within_5_seconds() -> None:
    options = ChatOptions("127.0.0.1", 1, None, "a", (), None, False, True, 5.0)
    assert options.client("a").backoff.maximum <= 5.0
