"""The chat page in a real browser (Debian's chromium, driven by Playwright) against a
real `soketler serve`, beside a plain-line user on a raw socket as telnet would be."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from soketler.doors.web.app import CONTENT_SECURITY_POLICY
from tests.e2e.lineclient import registered
from tests.web.conftest import ChatServer
from tests.web.pages import ChatPage

LONG = 15_000  # ms: waits that span a server restart


async def test_two_browsers_and_a_telnet_user_talk_in_every_direction(
    chat: ChatServer, browser: Any
) -> None:
    ayse = await ChatPage.logged_in(browser, chat.url, "ayşe")
    bora = await ChatPage.logged_in(browser, chat.url, "bora")
    cem = await registered("127.0.0.1", chat.port, "cem")
    try:
        await expect(ayse.entry("cem joined")).to_be_visible()

        await ayse.say("merhaba herkese 👋")
        await expect(bora.message("merhaba herkese 👋")).to_be_visible()
        await cem.expect("<ayşe> merhaba herkese 👋")
        await expect(ayse.message("merhaba herkese 👋")).to_have_class(re.compile(r"\bown\b"))
        await expect(bora.message("merhaba herkese 👋")).not_to_have_class(re.compile(r"\bown\b"))

        await bora.say("selam ayşe")
        await expect(ayse.message("selam ayşe")).to_be_visible()
        await cem.expect("<bora> selam ayşe")

        cem.send("from the terminal")
        await expect(ayse.message("from the terminal")).to_be_visible()
        await expect(bora.message("from the terminal")).to_be_visible()

        await bora.say("/me waves")
        action = ayse.message("waves")
        await expect(action).to_have_class(re.compile(r"\baction\b"))
        await expect(action.locator(".nick")).to_have_text("bora")
        await cem.expect("* bora waves")

        # Private, both ways, between the browser and the terminal.
        cem.send("/msg ayşe psst, only you")
        await expect(ayse.conversation("cem").locator(".badge")).to_have_text("1")
        await ayse.conversation("cem").locator(".conv").click()
        await expect(ayse.page.locator("#conv-title")).to_have_text("cem")
        await expect(ayse.message("psst, only you")).to_be_visible()
        await ayse.say("got it")
        await cem.expect("*ayşe* got it")
        await expect(bora.message("psst, only you")).to_have_count(0)

        # Who is in the room, as the members panel shows it.
        await ayse.conversation("lobby").locator(".conv").click()
        members = ayse.page.locator("#member-list .name")
        await expect(members).to_have_text(["ayşe", "bora", "cem"])
        await expect(ayse.page.locator("#member-count")).to_have_text("3")
        await cem.close()
        await expect(ayse.entry("cem quit")).to_be_visible()
        await expect(members).to_have_text(["ayşe", "bora"])
        ayse.assert_clean()
        bora.assert_clean()
    finally:
        await cem.close()


async def test_markup_in_a_message_is_shown_as_text_and_runs_nothing(
    chat: ChatServer, browser: Any
) -> None:
    ayse = await ChatPage.logged_in(browser, chat.url, "ayşe")
    cem = await registered("127.0.0.1", chat.port, "cem")
    attacks = [
        "<img src=x onerror=\"window.__pwned=1;document.title='pwned'\">",
        "<script>window.__pwned=2</script>",
        '<a href="javascript:window.__pwned=3">click</a> javascript:window.__pwned=4',
        "<svg onload=window.__pwned=5>",
    ]
    try:
        for attack in attacks:
            cem.send(attack)
            await expect(ayse.message(attack)).to_be_visible()
        await ayse.say(attacks[0])  # one's own message takes another path through the page
        await expect(ayse.message(attacks[0])).to_have_count(2)
        log = ayse.page.locator("#entries")
        await expect(log.locator("img, script, svg, a")).to_have_count(0)
        assert await ayse.page.evaluate("window.__pwned") is None
        assert "pwned" not in await ayse.page.title()
        ayse.assert_clean()
    finally:
        await cem.close()


async def test_the_policy_is_sent_and_the_browser_enforces_it(
    chat: ChatServer, browser: Any
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    response = await page.goto(chat.url)
    assert response is not None
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    # A script added by anything but a file of this origin does not run.
    ran = await page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__inline = true";
            document.body.append(script);
            return window.__inline === true;
        }"""
    )
    assert ran is False
    await context.close()


@pytest.mark.parametrize("history", ["sqlite", "memory"])
async def test_the_page_reconnects_after_the_servers_restart(
    history: str, tmp_path: Path, browser: Any
) -> None:
    chat = await ChatServer(str(tmp_path / "h.db") if history == "sqlite" else None).start()
    try:
        ayse = await ChatPage.logged_in(browser, chat.url, "ayşe")
        await ayse.say("/join #dev")
        await expect(ayse.page.locator("#conv-title")).to_have_text("#dev")
        await ayse.say("before the restart")
        await expect(ayse.message("before the restart")).to_be_visible()

        await chat.stop()
        await expect(ayse.status).not_to_have_attribute("data-state", "connected")
        await expect(ayse.page.locator("#banner")).to_be_visible()
        await expect(ayse.page.locator("#banner-text")).to_contain_text("Connection lost")

        await chat.start()
        await expect(ayse.status).to_have_attribute("data-state", "connected", timeout=LONG)
        await expect(ayse.page.locator("#banner")).to_be_hidden()
        await expect(ayse.entry("Reconnected.")).to_be_visible()
        # Back in the rooms it was in.
        await expect(ayse.conversation("dev")).to_be_visible()
        await expect(ayse.conversation("lobby")).to_be_visible()
        await expect(ayse.page.locator("#conv-title")).to_have_text("#dev")

        cem = await registered("127.0.0.1", chat.port, "cem")
        try:
            cem.send("/join #dev")
            await expect(ayse.entry("cem joined")).to_be_visible()
            cem.send("after the restart")
            await expect(ayse.message("after the restart")).to_be_visible()
            await ayse.say("heard you")
            await cem.expect("<ayşe> heard you")
        finally:
            await cem.close()
        if history == "sqlite":
            # Kept by the server, replayed on rejoining, shown once.
            assert await ayse.texts() == ["before the restart", "after the restart", "heard you"]
        else:
            # The server forgot it and counts message ids from 1 again: the page lets go
            # of what it held rather than mix two histories.
            await expect(ayse.entry("without its history")).to_be_visible()
            assert await ayse.texts() == ["after the restart", "heard you"]
        ayse.assert_clean()
    finally:
        await chat.stop()


async def test_scrolling_up_loads_older_history(chat: ChatServer, browser: Any) -> None:
    cem = await registered("127.0.0.1", chat.port, "cem")
    try:
        for i in range(1, 121):
            cem.send(f"line {i:03}")
        await cem.expect("<cem> line 120")
    finally:
        await cem.close()
    # A short window, so that the 20 messages replayed on joining fill it and the page
    # has no reason to fetch more before the reader scrolls.
    viewport = {"width": 1000, "height": 400}
    ayse = await ChatPage.logged_in(browser, chat.url, "ayşe", viewport=viewport)
    page = ayse.page
    await expect(ayse.message("line 120")).to_be_in_viewport()
    await expect(ayse.message("line 101")).to_have_count(1)
    await expect(ayse.message("line 100")).to_have_count(0)

    # One step up: the next 50 arrive above, and what was read stays in view.
    await page.locator("#log").evaluate("log => { log.scrollTop = 0; }")
    await expect(ayse.message("line 051")).to_have_count(1)
    await expect(ayse.message("line 101")).to_be_in_viewport()

    # All the way up, step by step, to the first message.
    await page.wait_for_function(
        """() => {
            document.getElementById("log").scrollTop = 0;
            return [...document.querySelectorAll("#entries .text")]
                .some((e) => e.textContent === "line 001");
        }""",
        polling=100,
    )
    await expect(page.locator("#log-top")).to_have_text("This is the beginning of #lobby.")
    assert await ayse.texts() == [f"line {i:03}" for i in range(1, 121)]
    ayse.assert_clean()


# The page as seen from a tab in the background: visibility is what the test says, and
# notifications are recorded instead of shown (headless chromium has no desktop for them).
BACKGROUND_TAB = """
(() => {
  window.__hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState", {
    get: () => (window.__hidden ? "hidden" : "visible"),
  });
  Object.defineProperty(Document.prototype, "hidden", { get: () => window.__hidden });
  window.__asked = 0;
  window.__notes = [];
  class RecordedNotification {
    static permission = "default";
    static requestPermission() {
      window.__asked += 1;
      RecordedNotification.permission = "granted";
      return Promise.resolve("granted");
    }
    constructor(title, options) {
      window.__notes.push({ title, body: options.body });
    }
    addEventListener() {}
    close() {}
  }
  window.Notification = RecordedNotification;
})();
"""


async def set_hidden(page: Any, hidden: bool) -> None:
    await page.evaluate(
        "hidden => { window.__hidden = hidden;"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


async def test_a_mention_is_marked_notified_and_counted_in_the_title(
    chat: ChatServer, browser: Any
) -> None:
    context = await browser.new_context()
    await context.add_init_script(BACKGROUND_TAB)
    page = await context.new_page()
    ayse = ChatPage(page)
    await page.goto(chat.url)
    await ayse.login("ayşe")
    assert await page.evaluate("window.__asked") == 1  # asked once, on logging in
    cem = await registered("127.0.0.1", chat.port, "cem")
    try:
        await set_hidden(page, True)
        cem.send("AYŞE: are you there?")
        mention = ayse.message("AYŞE: are you there?")
        await expect(mention).to_have_class(re.compile(r"\bmention\b"))
        await expect(mention.locator("mark")).to_have_text("AYŞE")
        await expect(page).to_have_title("(1) #lobby · soketler")
        notes = await page.evaluate("window.__notes")
        assert notes == [{"title": "cem in #lobby", "body": "AYŞE: are you there?"}]

        cem.send("ayşegül is someone else")  # not a mention, but counted: the open room
        await expect(ayse.message("ayşegül is someone else")).not_to_have_class(
            re.compile(r"\bmention\b")
        )
        await expect(page).to_have_title("(2) #lobby · soketler")
        cem.send("/msg ayşe private word")
        await expect(page).to_have_title("(3) #lobby · soketler")
        assert len(await page.evaluate("window.__notes")) == 2  # the private one too

        await set_hidden(page, False)
        await expect(page).to_have_title("#lobby · soketler")

        # Logging in again later does not ask again.
        again = ChatPage(await context.new_page())
        await again.page.goto(chat.url)
        await again.login("ayşe2")
        assert await again.page.evaluate("window.__asked") == 0
        ayse.assert_clean()
    finally:
        await cem.close()
        await context.close()


async def test_rooms_unread_counts_and_the_keyboard(chat: ChatServer, browser: Any) -> None:
    ayse = await ChatPage.logged_in(browser, chat.url, "ayşe")
    page = ayse.page
    cem = await registered("127.0.0.1", chat.port, "cem")
    try:
        # Ctrl+K: join (and so create) a room from the keyboard.
        await page.keyboard.press("Control+k")
        await expect(page.locator("#join-input")).to_be_focused()
        await page.keyboard.type("yeni-oda")
        await page.keyboard.press("Enter")
        await expect(page.locator("#conv-title")).to_have_text("#yeni-oda")
        await expect(page.locator("#composer-input")).to_be_focused()

        cem.send("in the lobby meanwhile")
        badge = ayse.conversation("lobby").locator(".badge")
        await expect(badge).to_have_text("1")
        cem.send("and again")
        await expect(badge).to_have_text("2")

        # Alt+Up goes to the conversation above, and reading it clears its count.
        await page.keyboard.press("Alt+ArrowUp")
        await expect(page.locator("#conv-title")).to_have_text("#lobby")
        await expect(badge).to_have_count(0)

        # Tab completes a nick of the room; Up recalls the last line sent.
        box = page.locator("#composer-input")
        await box.fill("ce")
        await box.press("Tab")
        await expect(box).to_have_value("cem: ")
        await box.type("hello")
        await box.press("Enter")
        await cem.expect("<ayşe> cem: hello")
        await box.press("ArrowUp")
        await expect(box).to_have_value("cem: hello")
        await box.fill("")

        # Leaving a room from its item in the list.
        room = ayse.conversation("yeni-oda")
        await room.hover()
        await room.locator(".part").click()
        await expect(room).to_have_count(0)
        await expect(page.locator("#conv-title")).to_have_text("#lobby")

        # A command the server refuses is shown, in the conversation, as an error.
        await ayse.say("/join #a,b")
        await expect(page.locator("#entries .entry.error")).to_have_count(1)
        ayse.assert_clean()
    finally:
        await cem.close()


async def test_a_taken_nickname_is_explained_and_another_one_works(
    chat: ChatServer, browser: Any
) -> None:
    cem = await registered("127.0.0.1", chat.port, "cem")
    try:
        page = await ChatPage.open(browser, chat.url)
        await page.page.fill("#nick-input", "CEM")
        await page.page.press("#nick-input", "Enter")
        await expect(page.page.locator("#login-error")).to_contain_text("taken")
        await expect(page.page.locator("#app")).to_have_attribute("data-phase", "login")
        await page.login("cem2")
        await expect(page.page.locator("#me-nick")).to_have_text("cem2")
        page.assert_clean()
    finally:
        await cem.close()


async def test_on_a_phone_the_lists_are_drawers_and_nothing_overflows(
    chat: ChatServer, browser: Any
) -> None:
    phone = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
    ayse = await ChatPage.logged_in(browser, chat.url, "ayşe", **phone)
    page = ayse.page
    await ayse.say("a long line " + "without-any-space-to-break-at-" * 6)
    sidebar, members = page.locator("#sidebar"), page.locator("#members")
    await expect(sidebar).not_to_be_in_viewport()
    await expect(members).not_to_be_in_viewport()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    await page.locator("#menu-button").tap()
    await expect(sidebar).to_be_in_viewport()
    await ayse.conversation("lobby").locator(".conv").tap()
    await expect(sidebar).not_to_be_in_viewport()

    await page.locator("#members-button").tap()
    await expect(members.locator(".name")).to_have_text(["ayşe"])
    await expect(members).to_be_in_viewport()
    await page.keyboard.press("Escape")
    await expect(members).not_to_be_in_viewport()
    ayse.assert_clean()


async def test_a_search_from_the_page_finds_room_and_private_messages(
    chat: ChatServer, browser: Any
) -> None:
    cem = await registered("127.0.0.1", chat.port, "cem")
    try:
        cem.send("/join #ops")
        cem.send("the deploy is done")
        cem.send("/msg ayşe-yok nobody")  # an error, nothing stored
        ayse = await ChatPage.logged_in(browser, chat.url, "ayşe")
        page = ayse.page
        cem.send("/join #lobby")
        cem.send("deploy notes are in the wiki")
        cem.send("/msg ayşe the deploy key is <b>secret</b>")
        await expect(ayse.conversation("cem").locator(".badge")).to_have_text("1")

        await page.locator("#search-button").click()
        await expect(page.locator("#search-input")).to_be_focused()
        await page.locator("#search-input").fill("deploy from:cem")
        await page.locator("#search-input").press("Enter")
        results = page.locator("#search-results .result .text")
        # Newest first; #ops is not ayşe's room, so its message is not hers to find.
        await expect(results).to_have_text(
            ["the deploy key is <b>secret</b>", "deploy notes are in the wiki"]
        )
        await expect(page.locator("#search-results b")).to_have_count(0)
        await expect(page.locator("#search-status")).to_have_text("2 messages found.")
        await expect(page.locator("#search-results .conv-name")).to_have_text(
            ["with cem", "#lobby"]
        )

        # A result opens its conversation.
        await page.locator("#search-results .result button").first.click()
        await expect(page.locator("#search")).to_be_hidden()
        await expect(page.locator("#conv-title")).to_have_text("cem")

        # The same from the message box, and a search the server refuses says why.
        await ayse.say("/search wiki")
        await expect(page.locator("#search")).to_be_visible()
        await expect(results).to_have_text(["deploy notes are in the wiki"])
        await page.locator("#search-input").fill("from:a from:b")
        await page.locator("#search-input").press("Enter")
        await expect(page.locator("#search-status")).to_have_class(re.compile(r"\berror\b"))
        await expect(page.locator("#search-status")).to_contain_text("may appear once")
        await page.keyboard.press("Escape")
        await expect(page.locator("#search")).to_be_hidden()
        ayse.assert_clean()
    finally:
        await cem.close()
