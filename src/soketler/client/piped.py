"""`soketler chat` without a terminal: stdin lines out, errors to stderr.

For scripts and cron. Every stdin line is sent like a typed line (so `/join #ops`
works, and `//x` sends "/x"). Only errors are printed, on stderr, since whatever a
cron job prints is mailed to someone; with `-v` incoming events are printed too, as
plain lines on stdout. After stdin ends, a `ping` is answered only once the server
has handled everything before it, so exit status 0 means every line was delivered,
and 9 that the server refused one (its reason is on stderr).

With `--join`, the client is in those rooms only: it asks the server to arrive in the
first of them instead of #lobby (and leaves #lobby if the server put it there anyway),
so a bot posting to #ops is never seen in the lobby. Without `-v` it asks for no
history on joining, since it would show none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import TextIO

from soketler import exitcodes
from soketler.client import commands
from soketler.client.actions import perform, showing
from soketler.client.app import ChatOptions, default_nick
from soketler.client.chat_client import ChatClient
from soketler.client.errors import ConnectionLost
from soketler.client.events import BadLine, Disconnected, Error, Event
from soketler.client.render import ERROR_MARK, ERROR_STYLE, Fragments, Renderer, escape, plain
from soketler.client.requests import ClientRequest, Join, Part
from soketler.client.state import ChatState

# Lines read ahead of sending; the reader thread waits while this many are queued.
_READ_AHEAD = 100
_CHUNK = 65536
# A stdin "line" this long without a newline is sent as it is (the server cuts it anyway).
_MAX_INPUT_LINE = 64 * 1024
# Attempts to send one line across reconnections before giving up on it.
_SEND_ATTEMPTS = 5
_CLOSE_GRACE = 5.0


class _Output:
    """Where a piped client's lines go: errors to stderr (and counted), the rest to
    stdout when verbose, or nowhere."""

    def __init__(self, verbose: bool, out: TextIO, err: TextIO) -> None:
        self.verbose = verbose
        self.out = out
        self.err = err
        self.refused = 0  # lines the server (or the client) said no to

    def show(self, fragments: Fragments) -> None:
        if self.verbose:
            self.out.write(plain(fragments) + "\n")
            self.out.flush()

    def complain(self, text: str) -> None:
        self.err.write(f"soketler chat: {text}\n")
        self.err.flush()

    def hook(self, state: ChatState) -> Callable[[Event], None]:
        """The client's on_event: state always, errors to stderr, the rest if verbose."""
        shown = showing(state, Renderer(state), self.show)

        def on_event(event: Event) -> None:
            if isinstance(event, Error):
                self.refused += 1
                self.complain(escape(event.text))
            elif isinstance(event, BadLine):
                self.complain(f"ignored a line from the server: {event.reason}")
            if self.verbose:
                shown(event)
            else:
                state.apply(event)

        return on_event

    def local(self, fragments: Fragments) -> None:
        """What the client itself says about a line (`/switch` to a room we are not in)."""
        if fragments and fragments[0][0] == ERROR_STYLE:
            self.refused += 1
            self.complain(plain(fragments).removeprefix(ERROR_MARK))
        else:
            self.show(fragments)


async def run_piped(
    options: ChatOptions,
    stdin: int | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    output = _Output(options.verbose, stdout or sys.stdout, stderr or sys.stderr)
    state = ChatState()
    client = options.client(
        options.nick or default_nick(),
        output.hook(state),
        only_rooms=bool(options.rooms),
        # History nobody will see is not asked for (servers that cannot leave it out
        # send it anyway, and it is not printed).
        replay=None if options.verbose else 0,
    )
    await client.connect()
    if options.send is not None:
        source = _one(options.send)
    else:
        source = _stdin_lines(sys.stdin.fileno() if stdin is None else stdin)
    # The hook prints; reading the stream tells us when the connection is gone for good.
    watching = asyncio.create_task(_watch(client))
    sending = asyncio.create_task(_send_all(client, state, output, source))
    reason = None
    try:
        await asyncio.wait({watching, sending}, return_when=asyncio.FIRST_COMPLETED)
        if not sending.done():
            raise ConnectionLost(f"connection lost: {watching.result()}")
        reason = sending.result()
    finally:
        sending.cancel()
        state.leaving = True
        await client.close(reason)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watching, _CLOSE_GRACE)
    return exitcodes.PROTOCOL if output.refused else exitcodes.OK


async def _send_all(
    client: ChatClient, state: ChatState, output: _Output, source: AsyncIterator[str]
) -> str | None:
    """Sends every line; returns once the server has handled them (a /quit reason, if any)."""
    reason = None
    async for line in source:
        # The client's own view of the current room: it is updated as the server's
        # answers are read, before the barrier below returns.
        action = commands.parse(line, client.current_room)
        if isinstance(action, commands.QuitChat):
            reason = action.reason
            break
        if isinstance(action, commands.Send):
            await _deliver(client, action.request)
            if isinstance(action.request, Join | Part):
                # The next line goes to the room this one changes: wait until it has.
                await client.ping()
        elif action is not None:
            # What the client says itself of this line comes after the server's answers
            # to the lines before it, so errors on stderr are in the order of the input.
            await client.ping()
            await perform(action, client, state, output.local)
    # The server answers in order: this pong means every line above was handled.
    await client.ping()
    return reason


async def _deliver(client: ChatClient, request: ClientRequest) -> None:
    """Sends a line, waiting out a reconnection; ConnectionLost if that fails."""
    for attempt in range(_SEND_ATTEMPTS):
        try:
            await client.submit(request)
            return
        except ConnectionLost:
            if attempt == _SEND_ATTEMPTS - 1 or not await client.wait_connected():
                raise


async def _watch(client: ChatClient) -> str:
    """Waits for the end of the stream; returns why the connection went."""
    reason = "the server closed the connection"
    async for event in client:
        if isinstance(event, Disconnected):
            reason = event.reason
    return reason


async def _one(line: str) -> AsyncIterator[str]:
    yield line


async def _stdin_lines(fd: int) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue(_READ_AHEAD)

    def put(line: str | None) -> None:
        # Blocks the thread while the queue is full: a big file is read as it is sent.
        asyncio.run_coroutine_threadsafe(queue.put(line), loop).result()

    def read() -> None:
        # A thread, because stdin may be a regular file, which asyncio cannot watch.
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered file holds
        # its lock, and the interpreter aborts at exit when it cannot take it.
        partial = b""
        try:
            while chunk := os.read(fd, _CHUNK):  # ends at end of input
                *lines, partial = (partial + chunk).split(b"\n")
                if len(partial) > _MAX_INPUT_LINE:  # no newline in sight: send what we have
                    lines.append(partial)
                    partial = b""
                for line in lines:
                    put(line.decode("utf-8", "replace").rstrip("\r"))
            if partial:
                put(partial.decode("utf-8", "replace").rstrip("\r"))
        except OSError:
            pass  # stdin was closed or cannot be read: that is its end
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is gone: we are exiting
                put(None)

    threading.Thread(target=read, daemon=True, name="stdin reader").start()
    while (line := await queue.get()) is not None:  # ends at end of stdin
        yield line
