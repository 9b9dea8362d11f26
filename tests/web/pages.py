"""The chat page as a test drives it: log in, type, find what is shown."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Locator, Page, expect

# Chromium says so on the console each time a reconnection attempt finds no server;
# that is the page doing its job, not an error of the page.
EXPECTED_CONSOLE = re.compile(r"WebSocket connection to .* failed|Failed to load resource")


class ChatPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error" and not EXPECTED_CONSOLE.search(message.text):
            self.problems.append(f"console: {message.text}")

    @classmethod
    async def open(cls, browser: Any, url: str, **context: Any) -> ChatPage:
        made = await browser.new_context(**context)
        chat = cls(await made.new_page())
        await chat.page.goto(url)
        await expect(chat.page.locator("#app")).to_have_attribute("data-ready", "true")
        return chat

    @classmethod
    async def logged_in(cls, browser: Any, url: str, nick: str, **context: Any) -> ChatPage:
        chat = await cls.open(browser, url, **context)
        await chat.login(nick)
        return chat

    async def login(self, nick: str) -> None:
        await self.page.fill("#nick-input", nick)
        await self.page.press("#nick-input", "Enter")
        await expect(self.status).to_have_attribute("data-state", "connected")
        await expect(self.page.locator("#app")).to_have_attribute("data-phase", "chat")

    @property
    def status(self) -> Locator:
        return self.page.locator("#status")

    async def say(self, text: str) -> None:
        box = self.page.locator("#composer-input")
        await expect(box).to_be_enabled()
        await box.fill(text)
        await box.press("Enter")
        await expect(box).to_have_value("")

    def messages(self) -> Locator:
        return self.page.locator("#entries .entry.message")

    def message(self, text: str) -> Locator:
        exact = re.compile(f"^{re.escape(text)}$")
        return self.messages().filter(has=self.page.locator(".text", has_text=exact))

    def entry(self, text: str) -> Locator:
        return self.page.locator("#entries .entry", has_text=text)

    def conversation(self, name: str) -> Locator:
        """The sidebar's item for a room ("dev" for #dev) or a private conversation."""
        return self.page.locator(".conv-list li").filter(
            has=self.page.locator(".name", has_text=re.compile(f"^{re.escape(name)}$"))
        )

    async def texts(self) -> list[str]:
        return await self.page.locator("#entries .entry.message .text").all_text_contents()

    def assert_clean(self) -> None:
        assert not self.problems, self.problems

    async def close(self) -> None:
        await self.page.context.close()
