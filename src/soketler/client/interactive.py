"""`soketler chat` on a terminal: an input line at the bottom, the rooms above it.

prompt_toolkit owns the terminal. For incoming lines, `Screen` erases the prompt,
prints, and draws the prompt again with whatever was half typed, so nothing a person
types is ever garbled by what arrives. Lines that arrive together are printed
together, with one redraw.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from prompt_toolkit import PromptSession
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.output import ColorDepth, Output
from prompt_toolkit.renderer import print_formatted_text
from prompt_toolkit.styles import Style

from soketler import exitcodes
from soketler.client import commands
from soketler.client.actions import perform, showing
from soketler.client.app import ChatOptions, default_nick
from soketler.client.chat_client import ChatClient
from soketler.client.completion import ChatCompleter
from soketler.client.errors import ClientError, ConnectionLost, NickRejected
from soketler.client.events import Disconnected, Event, Reconnected
from soketler.client.offline import KEEP_LINES, RETRY_KEY, Offline
from soketler.client.paste import CONFIRM_ABOVE_LINES, Paste, messages, split_paste
from soketler.client.render import STYLES, Fragments, Renderer, error_line, escape, info_line
from soketler.client.requests import ClientRequest, Say
from soketler.client.state import ChatState

# A person who mistypes their nickname is asked again, but not forever.
_NICK_TRIES = 5
# Lines typed while earlier ones are still being sent (a paste, say).
_TYPED_AHEAD = 100


class _StreamEnded(Exception):
    """The connection is gone for good; ends the prompt."""


# Put in the typed queue once the client is back: the kept lines go before anything
# typed after it.
_RESEND = object()
# How often the bottom bar's countdown is redrawn while reconnecting.
_COUNTDOWN_TICK = 0.5


class Screen:
    """Prints fragments above the prompt, batching lines that arrive together.

    prompt_toolkit's `run_in_terminal` would do this too, but it puts the terminal
    back into cooked mode while it prints, and a Ctrl-C or Ctrl-D typed in that
    moment is then taken by the terminal (a signal, an end of input) instead of
    reaching the prompt. Erasing, printing and redrawing without leaving raw mode
    keeps every key a key.
    """

    def __init__(
        self, session: PromptSession[str], style: Style, depth: ColorDepth, delay: float = 0.0
    ) -> None:
        self.session = session
        self.style = style
        self.depth = depth
        # Seconds lines may wait to be printed with the ones after them (one redraw of
        # the prompt for all): a server drawing many screens waits a little.
        self.delay = delay
        self._pending: list[Fragments] = []
        self._scheduled = False

    def show(self, fragments: Fragments) -> None:
        self._pending.append(fragments)
        if not self._scheduled:
            self._scheduled = True
            loop = asyncio.get_running_loop()
            if self.delay > 0:
                loop.call_later(self.delay, self.flush)
            else:
                loop.call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        if not batch:
            return
        app = self.session.app
        drawn = app.is_running and not app.is_done
        if drawn:
            app.renderer.erase()  # the prompt goes; the cursor is where it began
        output = self.session.output
        for fragments in batch:
            print_formatted_text(
                output, [*fragments, ("", "\n")], self.style, color_depth=self.depth
            )
        output.flush()
        if drawn:
            # Measure the space below the cursor again, then draw the prompt under the lines.
            app.renderer.request_absolute_cursor_position()
            app.invalidate()


def prompt_text(state: ChatState) -> FormattedText:
    """The prompt: the room typed lines go to."""
    room = state.current or "-"
    return FormattedText([("class:room", escape(room)), ("class:prompt", "> ")])


def toolbar_parts(state: ChatState) -> Fragments:
    """The bar under the prompt: our nickname, then our rooms, numbered, with unread counts."""
    parts: Fragments = [("class:toolbar", f" {escape(state.nick)} ")]
    for number, room in enumerate(state.rooms, 1):
        unread = state.unread_in(room)
        if room == state.current:
            parts.append(("class:toolbar.current", f" {number}:{escape(room)} "))
        elif unread:
            parts.append(("class:toolbar.unread", f" {number}:{escape(room)}({unread}) "))
        else:
            parts.append(("class:toolbar", f" {number}:{escape(room)} "))
    return parts


def room_keys(state: ChatState) -> KeyBindings:
    """Alt-1 ... Alt-9 type into the first ... ninth room."""
    keys = KeyBindings()
    for number in range(1, 10):

        def switch(event: KeyPressEvent, number: int = number) -> None:
            state.switch_to_number(number)
            event.app.invalidate()

        keys.add("escape", str(number))(switch)
    return keys


def chat_prompt(
    state: ChatState,
    color: bool,
    message: Callable[[], FormattedText],
    toolbar: Callable[[], FormattedText],
    keys: KeyBindings,
    input: Input | None = None,
    output: Output | None = None,
) -> PromptSession[str]:
    """The input line of a chat screen, with its room bar and completion: `soketler chat`
    and the server's SSH door (which gives the SSH channel as `input` and `output`)."""
    return PromptSession(
        message,
        history=InMemoryHistory(),
        completer=ChatCompleter(state),
        complete_while_typing=False,
        bottom_toolbar=toolbar,
        key_bindings=keys,
        style=Style.from_dict(STYLES),
        color_depth=None if color else ColorDepth.DEPTH_1_BIT,
        input=input,
        output=output,
    )


class ChatScreen:
    def __init__(self, options: ChatOptions) -> None:
        self.options = options
        self.state = ChatState()
        self.renderer = Renderer(self.state)
        self.session = chat_prompt(
            self.state, options.color, self._prompt, self._toolbar, self._keys()
        )
        depth = self.session.output.get_default_color_depth()
        self.screen = Screen(
            self.session,
            Style.from_dict(STYLES),
            depth if options.color else ColorDepth.DEPTH_1_BIT,
        )
        self.lost = False  # the connection is gone for good
        self.leaving = False  # the person asked to leave
        # A big paste waiting for Enter (send) or Esc (cancel).
        self.pending_paste: Paste | None = None
        self._typed: asyncio.Queue[str | Paste | object] = asyncio.Queue(_TYPED_AHEAD)
        self.offline = Offline()
        self.client: ChatClient | None = None
        self._countdown: asyncio.Task[None] | None = None

    # --- what the bottom of the screen shows --------------------------------------------

    def _prompt(self) -> FormattedText:
        if self.pending_paste is not None:
            count = len(self.pending_paste.lines)
            return FormattedText([("class:prompt", f"Send {count} pasted lines? [Enter/Esc] ")])
        return prompt_text(self.state)

    def _toolbar(self) -> FormattedText:
        parts = toolbar_parts(self.state)
        status = self.offline.status(asyncio.get_running_loop().time())
        if status is not None:
            parts.append(("class:toolbar.unread", f" {status} "))
        return FormattedText(parts)

    def _keys(self) -> KeyBindings:
        keys = room_keys(self.state)

        @keys.add("c-r", filter=Condition(lambda: self.offline.reconnecting))
        def retry(event: KeyPressEvent) -> None:
            if self.client is not None and self.client.retry_now():
                self.offline.retry_at = None  # the bar says "reconnecting..." at once
                event.app.invalidate()

        @keys.add(Keys.BracketedPaste)
        def paste(event: KeyPressEvent) -> None:
            self.paste(event.current_buffer, event.data)

        asking = Condition(lambda: self.pending_paste is not None)

        @keys.add("enter", filter=asking)
        @keys.add("y", filter=asking)
        def send_paste(event: KeyPressEvent) -> None:
            self.answer_paste(send=True)

        # Eager: Esc alone answers at once instead of waiting to see if Alt is meant.
        @keys.add("escape", filter=asking, eager=True)
        @keys.add("n", filter=asking)
        @keys.add("c-c", filter=asking)
        def cancel_paste(event: KeyPressEvent) -> None:
            self.answer_paste(send=False)

        return keys

    # --- pasting ------------------------------------------------------------------------

    def paste(self, buffer: Buffer, data: str) -> None:
        """A bracketed paste: each line a message of its own; big ones asked about first."""
        document = buffer.document
        split = split_paste(document.text_before_cursor, data, document.text_after_cursor)
        buffer.text = split.rest
        buffer.cursor_position = split.cursor
        if not split.lines:
            return
        paste = Paste(split.lines, self.state.current)
        if len(paste.lines) <= CONFIRM_ABOVE_LINES:
            self._queue(paste)
            return
        if self.pending_paste is not None:  # a second big paste before answering the first
            paste = Paste(self.pending_paste.lines + paste.lines, self.pending_paste.room)
        self.pending_paste = paste
        where = escape(paste.room or "your current room")
        self.screen.show(
            info_line(
                f"Paste {len(paste.lines)} lines into {where}? "
                "Enter sends them, one message each; Esc cancels."
            )
        )

    def answer_paste(self, send: bool) -> None:
        paste, self.pending_paste = self.pending_paste, None
        if paste is None:
            return
        if send:
            self._queue(paste)
        else:
            self.screen.show(info_line(f"Paste cancelled: {len(paste.lines)} lines not sent."))
        self.session.app.invalidate()

    def _queue(self, item: str | Paste | object) -> None:
        try:
            self._typed.put_nowait(item)
        except asyncio.QueueFull:
            self.screen.show(error_line("Too many lines at once: that one was dropped."))

    async def _send_paste(self, client: ChatClient, paste: Paste) -> None:
        parts = messages(paste)
        about = client.seconds_to_send(len(parts))
        where = escape(paste.room or "your current room")
        took = f" (about {about:.0f} s, at the server's pace)" if about >= 1 else ""
        self.screen.show(info_line(f"Sending {len(parts)} lines to {where}{took}..."))
        for sent, text in enumerate(parts):
            try:
                await client.submit(Say(text, room=paste.room))
            except ConnectionLost:
                rest = [Say(part, room=paste.room) for part in parts[sent:]]
                self._keep(rest, f"{len(rest)} pasted lines")
                return
        # Said once the server has handled them all, below their echoes.
        with contextlib.suppress(ClientError):
            await client.ping()
        self.screen.show(info_line(f"Sent {len(parts)} lines to {where}."))

    # --- running ------------------------------------------------------------------------

    async def ask_nick(self, reason: str | None = None) -> str:
        if reason:
            print(f"Nickname rejected: {escape(reason)}")
        session: PromptSession[str] = PromptSession()
        # Loops only while the answer is blank; each round waits for a person.
        while not (
            nick := (await session.prompt_async("Nickname: ", default=default_nick())).strip()
        ):
            pass
        return nick

    def _hook(self) -> Callable[[Event], None]:
        """The client's on_event: the screen, and what to do as the link comes and goes."""
        shown = showing(self.state, self.renderer, self.screen.show)

        def on_event(event: Event) -> None:
            self.offline.apply(event, asyncio.get_running_loop().time())
            shown(event)
            if isinstance(event, Disconnected) and event.reconnecting:
                self.screen.show(
                    info_line(
                        f"{RETRY_KEY}: reconnect now. Lines you type meanwhile go out once "
                        f"back (up to {KEEP_LINES})."
                    )
                )
                if self._countdown is None or self._countdown.done():
                    self._countdown = asyncio.create_task(self._tick())
            elif isinstance(event, Reconnected) and self.offline.kept:
                self._queue(_RESEND)

        return on_event

    async def _tick(self) -> None:
        """Redraws the bottom bar's countdown until the client is back."""
        while self.offline.reconnecting:  # ends when the client is back (or the screen ends)
            self.session.app.invalidate()
            await asyncio.sleep(_COUNTDOWN_TICK)
        self.session.app.invalidate()

    def _keep(self, requests: Sequence[ClientRequest], what: str) -> None:
        """Keeps requests to send once back, and says so (or that there is no room)."""
        kept = 0
        for request in requests:
            if not self.offline.keep(request):
                break
            kept += 1
        waiting = len(self.offline.kept)
        if kept == len(requests):
            self.screen.show(
                info_line(
                    f"Not connected: {what} kept, sent once you are back ({waiting} waiting)."
                )
            )
        else:
            lost = len(requests) - kept
            self.screen.show(
                error_line(
                    f"Not connected, and {waiting} lines wait already: {lost} not kept, not sent."
                )
            )

    async def _send(self, client: ChatClient, request: ClientRequest, what: str) -> None:
        """Sends a request now, or keeps it while the client reconnects."""
        if self.offline.reconnecting:
            self._keep([request], what)
            return
        try:
            await client.submit(request)
        except ConnectionLost:
            if client.reconnect and not self.lost:
                self._keep([request], what)
            else:
                self.screen.show(error_line("Not connected: that line was not sent."))

    async def _resend(self, client: ChatClient) -> None:
        kept = self.offline.take_all()
        if kept:
            lines = "the line" if len(kept) == 1 else f"the {len(kept)} lines"
            self.screen.show(info_line(f"Sending {lines} kept while away."))
        for index, request in enumerate(kept):
            if self.offline.reconnecting:  # gone again: keep the rest, in order
                for rest in kept[index:]:
                    self.offline.keep(rest)
                return
            await self._send(client, request, "that line")

    async def connect(self) -> ChatClient:
        asked = self.options.nick is None
        nick = self.options.nick or await self.ask_nick()
        for attempt in range(_NICK_TRIES):
            client = self.options.client(nick, self._hook())
            try:
                await client.connect()
                return client
            except NickRejected as exc:
                if not asked or attempt == _NICK_TRIES - 1:
                    raise
                nick = await self.ask_nick(exc.reason)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def run(self) -> int:
        try:
            client = await self.connect()
        except (EOFError, KeyboardInterrupt):
            return exitcodes.OK  # left at the nickname question
        self.client = client
        # Lines that came with the connection go out before the prompt is first drawn.
        self.screen.flush()
        events = asyncio.create_task(self._watch_stream(client))
        reason = None
        try:
            reason = await self._read_input(client)
        finally:
            self.leaving = self.state.leaving = True
            await client.close(reason)
            events.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await events
            if self._countdown is not None:
                self._countdown.cancel()
            self.screen.flush()
        return exitcodes.RESET if self.lost else exitcodes.OK

    async def _read_input(self, client: ChatClient) -> str | None:
        """Keeps the input line up until the person leaves; returns their reason.

        The prompt runs once for the whole session: Enter hands the line over and
        clears it, rather than ending the prompt and starting another. So the
        terminal stays in raw mode throughout, and a key typed right after Enter is
        never taken by the terminal driver in between.
        """

        def accept(buffer: Buffer) -> bool:
            self._queue(buffer.text)
            return False  # clear the line; the prompt stays

        self.session.default_buffer.accept_handler = accept
        worker = asyncio.create_task(self._carry_out(client, self._typed))
        try:
            return await self.session.prompt_async() or None
        except (EOFError, KeyboardInterrupt, _StreamEnded):
            return None
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _carry_out(
        self, client: ChatClient, typed: asyncio.Queue[str | Paste | object]
    ) -> None:
        while True:  # one typed line per round, until the prompt ends and cancels us
            item = await typed.get()
            if item is _RESEND:
                await self._resend(client)
                continue
            if isinstance(item, Paste):
                await self._send_paste(client, item)
                continue
            assert isinstance(item, str)
            action = commands.parse(item, self.state.current)
            if isinstance(action, commands.QuitChat):
                self.session.app.exit(result=action.reason or "")
                return
            if isinstance(action, commands.Send):
                await self._send(client, action.request, "that line")
            elif action is not None:
                await perform(action, client, self.state, self.screen.show)

    async def _watch_stream(self, client: ChatClient) -> None:
        # The client's hook draws each event; this waits for the end of the stream.
        async for _ in client:
            self.session.app.invalidate()  # the prompt and the room bar may have changed
        if self.leaving:
            return
        # The stream ended by itself: the connection is gone and will not come back.
        self.lost = True
        if self.offline.kept:
            count = len(self.offline.kept)
            self.screen.show(error_line(f"{count} lines kept while away were not sent."))
        self.screen.flush()
        app = self.session.app
        if app.is_running:
            app.exit(exception=_StreamEnded())


async def run_interactive(options: ChatOptions) -> int:
    return await ChatScreen(options).run()
