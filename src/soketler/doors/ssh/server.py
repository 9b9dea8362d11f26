"""The SSH side of the door, on asyncssh: logging in, and each session's channel.

One `SshLogin` per connection. Its pump is made when the connection is accepted, so
connections still logging in count against the limits; asyncssh cuts one that has
not logged in within `--ssh-login-timeout`. Ways in (`Gate`):
- a public key: the SSH user name is the nickname; the first key to log in with a
  nickname claims it, and no other key may use it after;
- a password (or keyboard-interactive, which asyncssh turns into a password prompt):
  an account's (security/accounts.py), checked off the loop and slowed down after
  failures from the same place;
- with an allowlist (`--ssh-allow-keys`), only the keys it lists, and no passwords.

One session channel per connection: a shell (with a PTY: `terminal.py`; without:
`piped.py`) or a command (`ssh host 'a line'`, sent as one typed line). Port
forwarding, agent forwarding and subsystems are refused.
"""

from __future__ import annotations

import asyncio
import logging
import os
import zoneinfo
from collections.abc import Awaitable
from datetime import tzinfo

import asyncssh

from soketler.core.session import PASSWORD_GIVEN
from soketler.doors import Door, DoorSetupError
from soketler.doors.ssh import words
from soketler.doors.ssh.claims import Claims
from soketler.doors.ssh.identity import Login, NickGuard
from soketler.doors.ssh.keys import Allowlist, fingerprint
from soketler.doors.ssh.piped import PipedScreen
from soketler.doors.ssh.pump import SshPump, SshWire
from soketler.doors.ssh.screen import SshScreen
from soketler.doors.ssh.terminal import TerminalScreen
from soketler.protocols import names
from soketler.security.accounts import Accounts
from soketler.security.logins import Logins
from soketler.security.slowdown import Slowdown, place
from soketler.store.base import StoreError
from soketler.transport.server import ChatServer

log = logging.getLogger("soketler.server")

# The channel calls pause_writing() past WRITE_HIGH unsent bytes (the client is
# behind: its bytes count in the server's backlog) and resume_writing() at WRITE_LOW.
WRITE_HIGH = 64 * 1024
WRITE_LOW = 16 * 1024
# Terminal types that cannot show colours.
_NO_COLOUR_TERMS = frozenset({"", "dumb"})


class Gate:
    """Who may log in, for every connection of one listener."""

    def __init__(
        self,
        guard: NickGuard,
        claims: Claims,
        accounts: Accounts | None,
        allowlist: Allowlist | None,
        slowdown: Slowdown | None = None,
        logins: Logins | None = None,
    ) -> None:
        self.guard = guard
        self.claims = claims
        self.accounts = accounts  # None: no password logins (allowlist mode)
        self.allowlist = allowlist
        self.slowdown = (
            slowdown if slowdown is not None else Slowdown()
        )  # the server's: shared with every door
        self.logins = logins  # the server's password checks (its password), if any

    @property
    def server_password(self) -> bool:
        """Whether the server has a password: then an SSH key logs in only from the
        allowlist (anyone can make a key), and the password is an SSH password too."""
        return self.logins is not None and self.logins.needs_password

    @property
    def passwords(self) -> bool:
        """Whether SSH password logins are offered (an account's, or the server's)."""
        return self.accounts is not None or (self.server_password and self.allowlist is None)

    async def key_may_log_in(self, user: str, key: asyncssh.SSHKey, address: str) -> bool:
        if self.allowlist is None and self.server_password:
            return False  # a stranger's key: on a server with a password, the password
        if self.allowlist is not None:
            try:
                self.allowlist.reload()
            except DoorSetupError as exc:
                log.warning("%s: nobody may log in by key until it can be read", exc)
                return False
            if not self.allowlist.allows(key, address):
                return False
        try:
            await self._look_up(user)
        except (StoreError, RuntimeError) as exc:  # RuntimeError: shutting down
            log.warning("SSH login of %s refused: %s", user, exc)
            return False
        return self.guard.problem(Login(user, fingerprint(key)), user) is None

    async def _look_up(self, user: str) -> None:
        """Brings what the guard knows of one nickname up to date from the database:
        another process, or `soketler user add`, may have changed it."""
        nick = names.normalize(user)
        if names.nick_problem(nick) is not None:
            return
        nick_key = names.key(nick)
        holder = await self.claims.holder(nick)
        if holder is None:
            self.guard.claims.pop(nick_key, None)
        else:
            self.guard.claims[nick_key] = holder
        if self.accounts is not None and await self.accounts.exists(nick):
            self.guard.accounts.add(nick_key)

    async def password_ok(self, user: str, password: str, address: str) -> bool:
        """An account's password for the account named `user`."""
        if self.accounts is None:
            return False
        loop = asyncio.get_running_loop()
        where = place(address)
        wait = self.slowdown.wait_before_attempt(where, loop.time())
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            ok = await self.accounts.verify(user, password)
        except (StoreError, RuntimeError) as exc:
            log.warning("SSH password login of %s refused: %s", user, exc)
            return False
        if not ok:
            self.slowdown.failed(where, loop.time())
        return ok

    async def server_password_ok(self, password: str, address: str) -> bool:
        """The server's password as an SSH password (slowed down like every check)."""
        if self.logins is None or not self.logins.needs_password or self.allowlist is not None:
            return False
        return await self.logins.server_password_ok(password, address)

    def is_account(self, user: str) -> bool:
        return names.key(names.normalize(user)) in self.guard.accounts

    async def claim(self, login: Login) -> bool:
        """Claims the login's nickname for its key when it is free; False when another
        key has just taken it."""
        if login.fingerprint is None or not self.guard.may_claim(login, login.user):
            return True
        try:
            holder = await self.claims.claim(login.user, login.fingerprint)
        except (StoreError, RuntimeError) as exc:
            # The login stands (the key was accepted); the nickname is not claimed yet.
            log.warning("could not claim %s for its SSH key: %s", login.user, exc)
            return True
        self.guard.claims[names.key(names.normalize(login.user))] = holder
        return holder == login.fingerprint


class SshLogin(asyncssh.SSHServer):
    """One SSH connection: its admission, its login, and its one chat session."""

    def __init__(self, server: ChatServer, door: Door, gate: Gate, pending: set[SshLogin]) -> None:
        self.gate = gate
        self.pump = SshPump(server, door, gate.guard)
        self.pending = pending  # connections without a session yet (the listener's)
        self.connection: asyncssh.SSHServerConnection | None = None
        self.wire: SshWire | None = None
        self.user = ""
        self.key: asyncssh.SSHKey | None = None  # the last key accepted
        self.account: str | None = None
        self.vouched = False  # gave the server password
        self.channel: SshSession | None = None
        self.claimed: asyncio.Task[bool] | None = None  # the nickname's claim, once in

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.connection = conn
        self.wire = SshWire(conn)
        peer = conn.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else ""
        if self.pump.admit(self.wire, address):
            self.pending.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pending.discard(self)
        if self.channel is not None:
            self.channel.gone()
        self.pump.lost(exc)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()

    # --- logging in ----------------------------------------------------------------

    def begin_auth(self, username: str) -> bool:
        self.user = username
        return True  # everyone logs in

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        ok = await self.gate.key_may_log_in(username, key, self.pump.address)
        if ok:
            self.key = key
        return ok

    def password_auth_supported(self) -> bool:
        return self.gate.passwords

    async def validate_password(self, username: str, password: str) -> bool:
        """The account's password when the user name is an account; otherwise, on a
        server with a password, that password (the nickname is then any free one)."""
        if self.gate.is_account(username) or not self.gate.server_password:
            ok = await self.gate.password_ok(username, password, self.pump.address)
            if ok:
                self.account = names.normalize(username)
            return ok
        ok = await self.gate.server_password_ok(password, self.pump.address)
        self.vouched = self.vouched or ok
        return ok

    async def auth_completed(self) -> None:
        # Logins end at the first method that succeeds: a password if one was taken,
        # else the last key accepted (asyncssh checked its signature).
        if self.account is not None:
            login = Login(self.user, account=self.account)
        elif self.key is None:  # the server password
            login = Login(self.user, vouched=True)
        else:
            listed = self.gate.allowlist is not None
            login = Login(self.user, fingerprint(self.key), vouched=listed)
        self.pump.login = login
        # Logged in, it must still open its session: a connection that holds a place
        # without one is cut as one that does not log in is.
        loop = asyncio.get_running_loop()
        loop.call_later(self.pump.server.config.ssh_login_timeout, self._no_session_yet)
        # The client already knows it is in, and may ask for its session while the
        # claim is written: the session waits for the claim (see session_requested).
        self.claimed = loop.create_task(self.gate.claim(login))
        if not await self.claimed:
            assert self.connection is not None
            refused = asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE
            self.connection.disconnect(refused, words.CLAIM_LOST)
            return
        log.info("%s logged in over SSH as %s", self.pump.address or "?", _how(login))

    def _no_session_yet(self) -> None:
        if self.channel is None:
            self.close()

    # --- the session ---------------------------------------------------------------

    def session_requested(self) -> Awaitable[SshSession] | bool:
        if self.channel is not None or self.pump.login is None or self._closing():
            return False  # one chat session per connection
        self.channel = SshSession(self)
        return self._session_once_claimed(self.channel)

    async def _session_once_claimed(self, session: SshSession) -> SshSession:
        if self.claimed is not None and not await self.claimed:
            raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, "")
        return session

    def _closing(self) -> bool:
        return self.wire is None or self.wire.is_closing()

    def begin(self, channel: asyncssh.SSHServerChannel[bytes], screen: SshScreen) -> None:
        """The session channel has started: the chat session begins."""
        self.pending.discard(self)
        assert self.wire is not None and self.pump.login is not None
        self.wire.attach(channel, screen)
        self.pump.begin()
        session = self.pump.session
        assert session is not None
        login = self.pump.login
        session.account = login.account
        session.fingerprint = login.fingerprint  # the owner of what the key claimed
        if login.vouched:
            session.set_flag(PASSWORD_GIVEN, True)


def _how(login: Login) -> str:
    if login.account is not None:
        return f"{login.user} (account {login.account})"
    if login.fingerprint is None:
        return f"{login.user} (the server password)"
    return f"{login.user} (key {login.fingerprint})"


class SshSession(asyncssh.SSHServerSession[bytes]):
    """The session channel: a shell, with or without a terminal, or one command."""

    def __init__(self, login: SshLogin) -> None:
        self.login = login
        self.channel: asyncssh.SSHServerChannel[bytes] | None = None
        self.screen: TerminalScreen | PipedScreen | None = None
        self.pty = False
        self.command: str | None = None

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.channel = chan
        chan.set_write_buffer_limits(WRITE_HIGH, WRITE_LOW)

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object
    ) -> bool:
        self.pty = True
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        chan = self.channel
        assert chan is not None
        login = self.login
        env = chan.get_environment()
        tz = _time_zone(env.get("TZ", ""))
        screen: TerminalScreen | PipedScreen
        if self.pty and self.command is None:
            term = chan.get_terminal_type() or ""
            colour = term not in _NO_COLOUR_TERMS and not env.get("NO_COLOR")
            max_chars = login.pump.limits.max_line
            screen = TerminalScreen(login.pump, chan, term, max_chars, colour, tz)
        else:
            screen = PipedScreen(login.pump, chan, login.pump.limits.max_line, tz)
        self.screen = screen
        login.begin(chan, screen)
        screen.start(login.user)
        if self.command is not None and isinstance(screen, PipedScreen):
            screen.command(self.command)

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self.screen is not None and datatype is None:  # not stderr
            self.screen.data_received(data)

    def eof_received(self) -> bool:
        if isinstance(self.screen, PipedScreen):
            self.screen.eof_received()
        elif self.screen is not None:
            self.screen.input.close()  # as Ctrl-D: the person leaves
        return True  # the channel stays open for what we still have to say

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if isinstance(self.screen, TerminalScreen):
            self.screen.resized()

    def signal_received(self, signal: str) -> None:
        if self.screen is not None:
            self.screen.leave()

    # The channel's own flow control: the client is behind, or has caught up.
    def pause_writing(self) -> None:
        self.login.pump.pause_writing()

    def resume_writing(self) -> None:
        self.login.pump.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.gone()
        self.login.close()  # one session per connection: the connection goes too

    def gone(self) -> None:
        if self.screen is not None:
            self.screen.lost()


def _time_zone(name: str) -> tzinfo | None:
    """The time zone a client sent (`TZ`, if its ssh passes it on), or None: the
    server's local time."""
    if not name or os.path.isabs(name) or ".." in name:
        return None
    try:
        return zoneinfo.ZoneInfo(name.lstrip(":"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
