"""An SSH session without a terminal: `ssh -T host < file`, or `ssh host 'a line'`.

It behaves like `soketler chat` in a pipe: every line of input is a typed line (a
message to the current room, or a /command), what the rooms say comes out as plain
lines, and at the end of input the session quits, once the lines before have been
handled. The exit status is 0, or 9 when the nickname was refused.

Input waits in the screen while the pump's rate limit holds lines back; past
`READ_AHEAD` waiting lines the channel is not read, and SSH's flow control makes the
sender wait, as TCP does for telnet.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Protocol

from soketler import exitcodes
from soketler.client import commands
from soketler.client.render import Fragments, error_line, plain
from soketler.client.requests import Join
from soketler.doors.ssh import words
from soketler.doors.ssh.screen import SshScreen
from soketler.protocols.framing import LineFramer, LineTooLong
from soketler.protocols.text import decode_line

if TYPE_CHECKING:
    from soketler.doors.ssh.pump import SshPump

# Lines of input waiting for the rate limit before the channel stops being read, and
# the number they must fall to before it is read again.
READ_AHEAD = 100
READ_AGAIN = 25


class PipeChannel(Protocol):
    """What a piped session needs of its SSH channel (asyncssh's has it)."""

    def write(self, data: bytes) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def exit(self, status: int) -> None: ...

    def close(self) -> None: ...


class PipedScreen(SshScreen):
    def __init__(
        self, pump: SshPump, channel: PipeChannel, max_line: int, tz: tzinfo | None = None
    ) -> None:
        super().__init__(pump, tz)
        self.channel = channel
        self.max_line = max_line
        self._framer = LineFramer(max_line)
        self._ended = False  # end of input, or a /quit: what follows is not read
        self._paused = False

    def show(self, fragments: Fragments) -> None:
        if not self.closing:
            self.channel.write(plain(fragments).encode("utf-8", "replace") + b"\n")

    # --- input ---------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._ended:
            return
        for item in self._framer.feed(data):
            self._line(item)
        if len(self.outbox) > READ_AHEAD and not self._paused:
            self._paused = True
            self.channel.pause_reading()

    def eof_received(self) -> None:
        if self._ended:
            return
        for item in self._framer.eof():
            self._line(item)
        self._end_input()

    def command(self, line: str) -> None:
        """`ssh host 'a line'`: that line, then the end (stdin is not read)."""
        self.typed(line)
        self._end_input()

    def _line(self, item: bytes | LineTooLong) -> None:
        if isinstance(item, LineTooLong):
            self.show(error_line(words.LINE_TOO_LONG.format(limit=item.limit)))
        elif not self._ended:
            self.typed(decode_line(item))

    def typed(self, line: str) -> None:
        # No room given: the hub's current room for this session takes a line, so a
        # line after "/join #dev" goes to #dev even while both still wait here.
        action = commands.parse(line, None)
        if isinstance(action, commands.SwitchRoom):
            # Joining a room the session is in makes it current (the lines door's rule).
            action = commands.Send(Join(action.room))
        if isinstance(action, commands.QuitChat):
            self._ended = True
        self.act(action)

    def _end_input(self) -> None:
        if not self._ended:
            self._ended = True
            self.leave()

    def fed(self) -> None:
        if self._paused and len(self.outbox) <= READ_AGAIN:
            self._paused = False
            self.channel.resume_reading()

    def nick_refused(self) -> None:
        # Nobody can be asked for another nickname: the session ends, and says why.
        self.status = exitcodes.PROTOCOL
        self.outbox.clear()  # (a quit waiting there, if any, goes too: hence ours)
        self._ended = True
        self.leave()

    # --- the end -------------------------------------------------------------------

    def finish(self) -> None:
        if self.closing:
            return
        self.closing = True
        self.channel.exit(self.status)  # after what was written; then it closes
