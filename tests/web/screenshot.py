"""Pictures of the chat page for docs/: `python -m tests.web.screenshot [FOLDER]`.

Starts a real `soketler serve` with its browser door on loopback, stages a short
conversation between browser and terminal users, and saves the page as one of them
sees it: wide and light, wide and dark, and on a phone.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright, expect

from tests.e2e.lineclient import LineClient, registered
from tests.web.conftest import CHROMIUM_ARGS, ChatServer
from tests.web.pages import ChatPage

# The search panel open over the same conversation: what is asked for, per picture.
SEARCHES = {"web-search.png": "from:bora"}
SHOTS: dict[str, dict[str, Any]] = {
    "web-chat.png": {"viewport": {"width": 1280, "height": 760}, "color_scheme": "light"},
    "web-chat-dark.png": {"viewport": {"width": 1280, "height": 760}, "color_scheme": "dark"},
    "web-search.png": {"viewport": {"width": 1280, "height": 760}, "color_scheme": "light"},
    "web-chat-phone.png": {
        "viewport": {"width": 390, "height": 760},
        "color_scheme": "light",
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


async def say(client: LineClient, line: str, echo: str) -> None:
    client.send(line)
    await client.expect(echo)


async def shoot(
    browser: Any, path: Path, options: dict[str, Any], search: str | None = None
) -> None:
    chat = await ChatServer().start()
    bora = await registered("127.0.0.1", chat.port, "bora")
    deniz = await registered("127.0.0.1", chat.port, "deniz")
    try:
        ayse = await ChatPage.logged_in(browser, chat.url, "ayşe", **options)
        mert = await ChatPage.logged_in(browser, chat.url, "mert")
        await say(bora, "/topic Release day 🚀 — 0.2 ships tonight", "set the topic")
        await say(bora, "merhaba! the browser door is up: same rooms as telnet", "<bora> merhaba")
        await say(deniz, "nice. does it work on a phone?", "<deniz> nice")
        await ayse.say("yes, and it reconnects by itself when the server restarts")
        await say(deniz, "/me claps", "* deniz claps")
        await mert.say("the diff is at https://example.org/soketler/pull/15")
        await say(bora, "ayşe: did the group commit change land too?", "<bora> ayşe:")
        await ayse.say("/me checks the log")
        await ayse.say("it did, with the search index")
        await ayse.say("/join #dev")
        await expect(ayse.page.locator("#conv-title")).to_have_text("#dev")
        if await ayse.page.locator("#menu-button").is_visible():  # a phone: open the list first
            await ayse.page.locator("#menu-button").click()
        await ayse.conversation("lobby").locator(".conv").click()
        await say(deniz, "/join #dev", "-- deniz joined #dev")
        await say(deniz, "CI is green 🎉", "<deniz> CI is green")
        await say(deniz, "/msg ayşe coffee after the release?", "-> *ayşe*")
        await expect(ayse.conversation("deniz").locator(".badge")).to_have_text("1")
        await expect(ayse.conversation("dev").locator(".badge")).to_have_text("1")
        await ayse.page.locator("#composer-input").fill("see you at 8")
        if search is not None:
            await ayse.page.locator("#search-button").click()
            await ayse.page.locator("#search-input").fill(search)
            await ayse.page.locator("#search-input").press("Enter")
            await expect(ayse.page.locator("#search-status")).to_contain_text("found")
        await expect(ayse.page.locator("#scrim")).to_be_hidden()
        await ayse.page.screenshot(path=str(path), animations="disabled")
        ayse.assert_clean()
        await ayse.close()
        await mert.close()
    finally:
        for client in (bora, deniz):
            await client.close()
        await chat.stop()


async def stage(folder: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (make system-deps installs it)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for name, options in SHOTS.items():
            await shoot(browser, folder / name, options, SEARCHES.get(name))
            print(folder / name)
        await browser.close()


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(stage(folder))


if __name__ == "__main__":
    main()
