"""An SSH session with a terminal: the screen of `soketler chat`, drawn over the channel.

prompt_toolkit runs one prompt per session, in an app session of its own, reading
keys from the channel (`ChannelInput`) and drawing into it (`SshOutput`). Lines that
arrive are printed above the prompt by the terminal client's `Screen`, so what a
person is typing is never garbled; the prompt, the room bar, completion, Alt-1...9
and the colours are the client's (`chat_prompt`). A resize redraws; Ctrl-C and
Ctrl-D leave.

The keys come from the network, not from a person's own terminal, so they are
bounded before prompt_toolkit sees them: a long escape sequence is dropped (the key
parser would keep any prefix of one, and cache it), bracketed paste is neither asked
for nor honoured (a paste that never ends would be kept whole; without it, each line
of a paste is a line typed), and keys are parsed a slice at a time, the channel not
read while many wait, so one session's flood of keys cannot hold up everyone's loop.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import contextvars
import logging
import re
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, contextmanager
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, Protocol, TextIO, cast

from prompt_toolkit.application.current import create_app_session
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.data_structures import Size
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.input import Input, vt100_parser
from prompt_toolkit.input.vt100_parser import Vt100Parser
from prompt_toolkit.key_binding import KeyBindings, KeyPress, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.output.vt100 import Vt100_Output
from prompt_toolkit.styles import Style

from soketler.client import commands
from soketler.client.events import Event, HistoryEnd, Members
from soketler.client.interactive import (
    Screen,
    chat_prompt,
    prompt_text,
    room_keys,
    toolbar_parts,
)
from soketler.client.render import STYLES, Fragments, error_line
from soketler.client.requests import ClientRequest, Register
from soketler.doors.ssh import words
from soketler.doors.ssh.screen import SshScreen
from soketler.protocols.ratelimit import TokenBucket

if TYPE_CHECKING:
    from soketler.doors.ssh.pump import SshPump

log = logging.getLogger("soketler.server")

# prompt_toolkit spends a quarter of a millisecond on each key press (it looks through
# the whole layout for key bindings), so a client may not make it work without bound:
# keys are handed over a few at a time (a turn), turns are rate-limited, and a run of
# ordinary characters (typed fast, or pasted) is handed over as one insertion.
KEYS_PER_TURN = 16
CHARS_PER_TURN = 256
TURNS_PER_SECOND = 20.0
TURN_BURST = 20
_SLICE = 16  # characters parsed at a time, until a turn has its keys
# Characters of input waiting to be parsed past which the channel is not read (SSH's
# flow control then makes the client wait), and below which it is read again.
INPUT_HIGH = 64 * 1024
INPUT_LOW = 16 * 1024
# Longest escape sequence kept: cursor position reports ("\x1b[120;250R") are the
# longest a terminal sends us unasked.
MAX_ESCAPE = 32
# Entries in prompt_toolkit's (process-wide) cache of key prefixes past which it is
# emptied: every distinct prefix of an escape sequence a client sends is remembered.
MAX_PREFIX_CACHE = 10_000
# Lines typed while earlier ones wait for the rate limit (as in `soketler chat`).
TYPED_AHEAD = 100
# Seconds between two drawings of a session's prompt, at least.
REDRAW_EVERY = 0.05
# Seconds to wait for the server's goodbye after the person leaves.
LEAVE_GRACE = 5.0
# Seconds the first lines (the welcome, the room's last messages) may take before the
# prompt is drawn anyway.
FIRST_LINES_WAIT = 2.0

_PASTE_MARKS = re.compile(r"\x1b\[20[01]~")
_LONG_ESCAPE = re.compile(r"\x1b\[[\d;<]{" + str(MAX_ESCAPE) + ",}")
_BARE_LF = re.compile(r"(?<!\r)\n")
_UNFINISHED = re.compile(r"\x1b(\[[\d;<]*)?\Z")


class TerminalChannel(Protocol):
    """What a terminal session needs of its SSH channel (asyncssh's has it)."""

    def write(self, data: bytes) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def get_terminal_size(self) -> tuple[int, int, int, int]: ...

    def exit(self, status: int) -> None: ...

    def close(self) -> None: ...


class ChannelInput(Input):
    """Keys from an SSH channel: bytes in (`feed`), prompt_toolkit's key presses out."""

    def __init__(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self._pause, self._resume = pause, resume
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""  # text not parsed yet
        self._carry = ""  # the start of an escape sequence, until the rest arrives
        self._keys: list[KeyPress] = []
        self._presses = 0  # key presses in _keys, as handed over
        self._in_run = False  # _keys ends with an ordinary character
        self._parser = Vt100Parser(self._key)
        self._callbacks: list[Callable[[], None]] = []
        self._closed = False
        self._paused = False
        self._woken = False
        self._turns: TokenBucket | None = None  # made with the loop's time, when attached

    def feed(self, data: bytes) -> None:
        text = self._clean(self._decoder.decode(data))
        if not text:
            return
        self._pending += text
        if len(self._pending) > INPUT_HIGH and not self._paused:
            self._paused = True
            self._pause()
        self._wake()

    def _clean(self, text: str) -> str:
        text = self._carry + text
        self._carry = ""
        unfinished = _UNFINISHED.search(text)
        if unfinished is not None:
            tail = text[unfinished.start() :]
            text = text[: unfinished.start()]
            if len(tail) <= MAX_ESCAPE:
                self._carry = tail
        return _LONG_ESCAPE.sub("", _PASTE_MARKS.sub("", text))

    def _key(self, key: KeyPress) -> None:
        # Counted as prompt_toolkit will see them: a run of ordinary characters is one.
        ordinary = _ordinary(key)
        if not (ordinary and self._in_run):
            self._presses += 1
        self._in_run = ordinary
        self._keys.append(key)

    def _wake(self) -> None:
        """Asks prompt_toolkit to read keys: now, or when the next turn is due."""
        if self._callbacks and not self._woken:
            self._woken = True
            loop = asyncio.get_running_loop()
            if self._turns is None:
                self._turns = TokenBucket(TURNS_PER_SECOND, TURN_BURST, loop.time())
            wait = self._turns.take(loop.time())
            if wait > 0:
                loop.call_later(wait, self._ready)
            else:
                loop.call_soon(self._ready)

    def _ready(self) -> None:
        self._woken = False
        if self._callbacks:
            self._callbacks[-1]()

    def read_keys(self) -> list[KeyPress]:
        parsed = 0
        while self._pending and parsed < CHARS_PER_TURN and self._presses < KEYS_PER_TURN:
            piece, self._pending = self._pending[:_SLICE], self._pending[_SLICE:]
            self._parser.feed(piece)
            parsed += len(piece)
        if self._pending:
            self._wake()  # the rest on a later turn
        if self._paused and len(self._pending) < INPUT_LOW:
            self._paused = False
            self._resume()
        cache = getattr(vt100_parser, "_IS_PREFIX_OF_LONGER_MATCH_CACHE", None)
        if isinstance(cache, dict) and len(cache) > MAX_PREFIX_CACHE:
            cache.clear()  # a cache: it fills again with what is used
        return self._take_keys()

    def _take_keys(self) -> list[KeyPress]:
        keys, self._keys = self._keys, []
        self._presses, self._in_run = 0, False
        return _runs_as_one(keys)

    def flush_keys(self) -> list[KeyPress]:
        # A lone Escape (or Alt) waits for what may follow; after prompt_toolkit's
        # timeout it is a key of its own.
        self._parser.feed(self._carry)
        self._carry = ""
        self._parser.flush()
        return self._take_keys()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._wake()

    def fileno(self) -> int:
        raise NotImplementedError("keys come from an SSH channel")

    def typeahead_hash(self) -> str:
        return f"ssh-{id(self)}"

    def raw_mode(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()  # the client's terminal is raw already

    def cooked_mode(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def attach(self, input_ready_callback: Callable[[], None]) -> AbstractContextManager[None]:
        return self._attached(input_ready_callback)

    @contextmanager
    def _attached(self, callback: Callable[[], None]) -> Generator[None, None, None]:
        self._callbacks.append(callback)
        self._wake()  # keys may have come before
        try:
            yield
        finally:
            self._callbacks.remove(callback)

    def detach(self) -> AbstractContextManager[None]:
        return self._detached()

    @contextmanager
    def _detached(self) -> Generator[None, None, None]:
        callbacks, self._callbacks = self._callbacks, []
        try:
            yield
        finally:
            self._callbacks = callbacks
            self._wake()


def _ordinary(key: KeyPress) -> bool:
    """A character that is only inserted (no control key, no escape sequence)."""
    return not isinstance(key.key, Keys) and key.key == key.data and key.data.isprintable()


def _runs_as_one(keys: list[KeyPress]) -> list[KeyPress]:
    """Consecutive ordinary characters as one key press that inserts them all (the key
    a bracketed paste gives), so that their cost is one key's. Enter and every other
    control key stay keys of their own."""
    out: list[KeyPress] = []
    run: list[str] = []

    def end_run() -> None:
        if len(run) > 1:
            out.append(KeyPress(Keys.BracketedPaste, "".join(run)))
        elif run:
            out.append(KeyPress(run[0], run[0]))
        run.clear()

    for key in keys:
        if _ordinary(key):
            run.append(key.data)
        else:
            end_run()
            out.append(key)
    end_run()
    return out


class ChannelWriter:
    """A text stream onto the channel: what Vt100_Output writes to. There is no
    terminal driver between us and the client's terminal to turn LF into CR LF."""

    encoding = "utf-8"

    def __init__(self, channel: TerminalChannel) -> None:
        self.channel = channel
        self.open = True

    def write(self, text: str) -> int:
        if self.open:
            try:
                self.channel.write(_BARE_LF.sub("\r\n", text).encode("utf-8", "replace"))
            except OSError:  # closed under us (the client left): nobody to draw for
                self.open = False
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


class SshOutput(Vt100_Output):
    """The client's terminal, over the channel. Bracketed paste stays off (see the
    module docstring)."""

    def enable_bracketed_paste(self) -> None:
        pass


class TerminalScreen(SshScreen):
    def __init__(
        self,
        pump: SshPump,
        channel: TerminalChannel,
        term: str,
        max_chars: int,
        color: bool = True,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__(pump, tz)
        self.channel = channel
        self.input = ChannelInput(channel.pause_reading, channel.resume_reading)
        self.writer = ChannelWriter(channel)
        depth = None if color else ColorDepth.DEPTH_1_BIT
        self.output = SshOutput(
            cast(TextIO, self.writer), self._size, term=term or None, default_color_depth=depth
        )
        keys = room_keys(self.state)
        self.prompt = chat_prompt(
            self.state,
            color,
            self._message,
            lambda: FormattedText(toolbar_parts(self.state)),
            keys,
            input=self.input,
            output=self.output,
        )
        self._limit_line(keys, max_chars)
        self.prompt.default_buffer.accept_handler = self._accept
        shown_depth = self.output.get_default_color_depth()
        self.screen = Screen(self.prompt, Style.from_dict(STYLES), shown_depth, REDRAW_EVERY)
        # Each drawing of the prompt costs a millisecond or more of the server's time:
        # at most one every REDRAW_EVERY, whatever the keys and lines that ask for it.
        self.prompt.app.min_redraw_interval = REDRAW_EVERY
        self.asking_nick = False  # the nickname was refused: the next line is another
        self._context: contextvars.Context | None = None
        self._ended = asyncio.Event()  # the hub ended the session
        # The welcome and the lobby's last messages are printed before the prompt is
        # first drawn, as in `soketler chat`: drawn before, it asks the terminal where
        # the cursor is, and lines printed while the answer is on its way scroll away.
        self._first_lines = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _limit_line(self, keys: KeyBindings, max_chars: int) -> None:
        """Past the server's line limit, typed characters are not taken: a line nobody
        could send would only cost the server drawing it."""
        buffer = self.prompt.default_buffer
        full = Condition(lambda: len(buffer.text) >= max_chars)

        @keys.add(Keys.Any, filter=full)
        def _ignore(event: KeyPressEvent) -> None:
            pass

        @keys.add(Keys.BracketedPaste)
        def _insert_run(event: KeyPressEvent) -> None:
            room = max_chars - len(buffer.text)
            if room > 0:
                buffer.insert_text(event.data[:room])

    def _size(self) -> Size:
        width, height, _, _ = self.channel.get_terminal_size()
        # A client may say 0 (unknown): draw for the classic terminal then.
        return Size(rows=height or 24, columns=width or 80)

    def _message(self) -> FormattedText:
        if self.asking_nick:
            return FormattedText([("class:prompt", words.NICK_PROMPT)])
        return prompt_text(self.state)

    # --- drawing -------------------------------------------------------------------

    def show(self, fragments: Fragments) -> None:
        if self._context is not None:
            # In the session's own prompt_toolkit context: sessions never share one.
            self._context.run(self.screen.show, fragments)
        else:
            self.screen.show(fragments)

    def _in_context(self, work: Callable[[], Any]) -> None:
        if self._context is not None:
            self._context.run(work)

    def resized(self) -> None:
        app = self.prompt.app
        if app.is_running:
            # What prompt_toolkit's own SSH server does on a resize.
            self._in_context(app._on_resize)

    # --- typing --------------------------------------------------------------------

    def start(self, nick: str) -> None:
        super().start(nick)
        self._task = asyncio.get_running_loop().create_task(self._run())
        self._task.add_done_callback(_log_failure)

    def data_received(self, data: bytes) -> None:
        self.input.feed(data)

    def _accept(self, buffer: Buffer) -> bool:
        line = buffer.text
        if self.asking_nick:
            if line.strip():
                self.asking_nick = False
                self.send(Register(line.strip()))
        else:
            self.act(commands.parse(line, self.state.current))
        return False  # the line is cleared; the prompt stays

    def send(self, request: ClientRequest) -> None:
        if len(self.outbox) >= TYPED_AHEAD:
            self.show(error_line(words.TOO_MANY_LINES))
            return
        super().send(request)

    def nick_refused(self) -> None:
        self.asking_nick = True
        self._first_lines.set()
        self._in_context(self.prompt.app.invalidate)

    def on_event(self, event: Event) -> None:
        super().on_event(event)
        if isinstance(event, HistoryEnd) or (
            isinstance(event, Members) and not self.pump.hub.replay
        ):
            self._first_lines.set()
        # The prompt and the room bar may have changed.
        self._in_context(self.prompt.app.invalidate)

    def leave(self, reason: str | None = None) -> None:
        super().leave(reason)
        self._exit_prompt()

    async def _run(self) -> None:
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_lines.wait(), FIRST_LINES_WAIT)
            self.screen.flush()
            with create_app_session(input=self.input, output=self.output):
                self._context = contextvars.copy_context()
                try:
                    if not self.closing:
                        # The loop's SIGINT and exception handlers stay the server's.
                        await self.prompt.prompt_async(
                            handle_sigint=False, set_exception_handler=False
                        )
                except (EOFError, KeyboardInterrupt):
                    pass  # Ctrl-D, Ctrl-C
                if not self.state.leaving and not self.closing:
                    super().leave()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ended.wait(), LEAVE_GRACE)
                self.screen.flush()
        finally:
            self.writer.open = False
            if not self.gone:
                # The exit status, then the channel closes (and the connection).
                self.channel.exit(self.status)

    def _exit_prompt(self) -> None:
        app = self.prompt.app
        if app.is_running and not app.is_done:
            self._in_context(app.exit)

    # --- the end -------------------------------------------------------------------

    def finish(self) -> None:
        if self.closing:
            return
        self.closing = True
        self._ended.set()
        self._exit_prompt()

    def lost(self) -> None:
        if self.gone:
            return
        super().lost()
        self.writer.open = False
        self._ended.set()
        self.input.close()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("an SSH terminal session failed", exc_info=task.exception())
