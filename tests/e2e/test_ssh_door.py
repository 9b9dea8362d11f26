"""The SSH door over real sockets, with asyncssh's client: logging in by key, by an
account's password, or by allowlist; the same rooms as telnet users; the same limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from soketler.security.accounts import AccountStore
from soketler.security.passwords import ScryptCost, hash_password
from tests.e2e.lineclient import LineClient
from tests.e2e.sshclient import Piped, lines_port, new_key, ssh_connect, ssh_port

StartSsh = Callable[..., Any]
# The cheapest cost the password module accepts: tests check logic, not hashing time.
CHEAP = ScryptCost(log_n=10, r=8, p=1)


Telnet = Callable[..., Any]


@pytest.fixture
async def telnet() -> AsyncIterator[Telnet]:
    """`await telnet(port, nick=None)`: a raw-socket plain-lines user (registered as
    `nick`, up to the lobby's member list); all are closed after the test."""
    users: list[LineClient] = []

    async def connect(port: int, nick: str | None = None) -> LineClient:
        user = await LineClient.connect("127.0.0.1", port)
        users.append(user)
        if nick is not None:
            await user.register(nick)
        return user

    yield connect
    for user in users:
        await user.close()


async def test_a_key_login_talks_with_a_telnet_user_in_the_lobby(
    start_ssh: StartSsh, telnet: Telnet
) -> None:
    server = await start_ssh()
    bob = await telnet(lines_port(server), "bob")
    conn = await ssh_connect(ssh_port(server), "ayse", new_key())
    async with conn:
        ayse = await Piped.open(conn)
        await ayse.expect("Connected to soketler")
        assert "as ayse, in #lobby" in ayse.seen[-1]
        await bob.expect("ayse joined #lobby")
        await ayse.expect("End of history of #lobby")

        ayse.send("merhaba bob, nasılsın?")
        await bob.expect("<ayse> merhaba bob, nasılsın?")
        bob.send("iyiyim, sen?")
        await ayse.expect("<bob> iyiyim, sen?")
        ayse.send("/msg bob psst")
        await bob.expect(lambda line: "ayse" in line and "psst" in line)

        ayse.process.stdin.write_eof()  # the end of input: the session quits
        assert await ayse.exit_status() == 0
        await bob.expect("ayse quit")


async def test_a_nickname_belongs_to_the_first_key_across_restarts(
    start_ssh: StartSsh, telnet: Telnet, tmp_path: Path
) -> None:
    db = str(tmp_path / "history.sqlite3")
    first, second = new_key(), new_key()
    server = await start_ssh(db=db)
    port = ssh_port(server)
    result = await (await ssh_connect(port, "ayse", first)).run("hello", timeout=10)
    assert result.exit_status == 0
    with pytest.raises(asyncssh.PermissionDenied):
        await ssh_connect(port, "AYSE", second)  # names ignore case

    # The other key may use another name, but not /nick into the claimed one.
    async with await ssh_connect(port, "cem", second) as conn:
        cem = await Piped.open(conn)
        await cem.expect("End of history")
        cem.send("/nick ayse")
        refused = await cem.expect("!!")
        assert 'Nickname "ayse" belongs to another SSH key' in refused
        cem.send("/nick cemil")
        await cem.expect("cem is now known as cemil")
    await server.shutdown(grace=1.0)

    again = await start_ssh(db=db)
    with pytest.raises(asyncssh.PermissionDenied):
        await ssh_connect(ssh_port(again), "ayse", second)
    async with await ssh_connect(ssh_port(again), "ayse", first) as conn:
        result = await conn.run("back again", timeout=10)
        assert result.exit_status == 0
        assert "<ayse> back again" in str(result.stdout)


async def test_only_listed_keys_come_in_with_an_allowlist(
    start_ssh: StartSsh, telnet: Telnet, tmp_path: Path
) -> None:
    listed, other = new_key(), new_key()
    allowed = tmp_path / "authorized_keys"
    allowed.write_bytes(listed.export_public_key())
    server = await start_ssh(ssh_allow_keys=str(allowed))
    port = ssh_port(server)
    async with await ssh_connect(port, "ayse", listed) as conn:
        assert (await conn.run("in", timeout=10)).exit_status == 0
    with pytest.raises(asyncssh.PermissionDenied):
        await ssh_connect(port, "bob", other)
    with pytest.raises(asyncssh.PermissionDenied):
        await ssh_connect(port, "bob", password="no passwords here")
    # The file is read again when it changes: the other key is let in, the first not.
    allowed.write_bytes(other.export_public_key())
    async with await ssh_connect(port, "bob", other) as conn:
        assert (await conn.run("in too", timeout=10)).exit_status == 0
    with pytest.raises(asyncssh.PermissionDenied):
        await ssh_connect(port, "cem", listed)


async def test_an_account_logs_in_with_its_password(
    start_ssh: StartSsh, telnet: Telnet, tmp_path: Path
) -> None:
    db = str(tmp_path / "history.sqlite3")
    accounts = AccountStore(db)
    accounts.add("dilek", hash_password("doğru at pil zımba", CHEAP))
    accounts.close()
    server = await start_ssh(db=db)
    port = ssh_port(server)
    bob = await telnet(lines_port(server), "bob")
    for method in ("password", "keyboard-interactive"):
        conn = await ssh_connect(
            port, "dilek", password="doğru at pil zımba", preferred_auth=method
        )
        async with conn:
            result = await conn.run(f"hello by {method}", timeout=10)
            assert result.exit_status == 0
        await bob.expect(f"<dilek> hello by {method}")
    with pytest.raises(asyncssh.PermissionDenied):
        await ssh_connect(port, "dilek", password="wrong")
    # A key cannot take an account's nickname, nor claim it.
    with pytest.raises(asyncssh.PermissionDenied):
        await ssh_connect(port, "dilek", new_key())


async def test_a_command_is_one_line_and_a_refused_nickname_exits_9(
    start_ssh: StartSsh, telnet: Telnet
) -> None:
    server = await start_ssh()
    bob = await telnet(lines_port(server), "bob")
    async with await ssh_connect(ssh_port(server), "ayse", new_key()) as conn:
        result = await conn.run("/me waves", timeout=10)
        assert result.exit_status == 0
    await bob.expect("* ayse waves")
    # bob holds "bob" on telnet: an SSH session cannot have it, and nobody can be asked.
    async with await ssh_connect(ssh_port(server), "bob", new_key()) as conn:
        result = await conn.run(timeout=10)
    assert result.exit_status == 9
    assert 'Nickname "bob" is taken' in str(result.stdout)


async def test_piped_lines_wait_for_the_rate_limit_and_all_arrive(
    start_ssh: StartSsh, telnet: Telnet
) -> None:
    # A flood limit this low would cut a telnet user pasting the same lines at once.
    server = await start_ssh(rate=50.0, burst=5, flood_lines=3)
    bob = await telnet(lines_port(server), "bob")
    sent = [f"line {n:03d}" for n in range(60)]
    async with await ssh_connect(ssh_port(server), "ayse", new_key()) as conn:
        result = await conn.run(input="".join(f"{line}\n" for line in sent), timeout=20)
    assert result.exit_status == 0
    assert "Slow down" in str(result.stdout)
    got = [await bob.expect("<ayse> line ") for _ in sent]
    assert [line.split("<ayse> ")[1] for line in got] == sent
    await bob.expect("ayse quit (Quit)")


async def test_a_terminal_session_types_resizes_and_leaves_with_ctrl_d(
    start_ssh: StartSsh,
    telnet: Telnet,
) -> None:
    server = await start_ssh()
    bob = await telnet(lines_port(server), "bob")
    async with await ssh_connect(ssh_port(server), "ayse", new_key()) as conn:
        process = await conn.create_process(term_type="xterm", term_size=(80, 24), encoding=None)
        screen = b""

        async def until(seen: bytes) -> None:
            nonlocal screen
            async with asyncio.timeout(10):
                while seen not in screen:
                    chunk = await process.stdout.read(65536)
                    assert chunk, f"the session ended; the screen: {screen!r}"
                    screen += chunk

        await until(b"#lobby\x1b[0;1m>")  # the prompt, after the welcome
        assert b"Connected to soketler" in screen and b"\x1b[" in screen  # colours
        process.stdin.write(b"\x1b[5;1R")  # the terminal's answer to where the cursor is
        process.stdin.write("selam, ben ayşe\r".encode())
        await bob.expect("<ayse> selam, ben ayşe")
        bob.send("hoş geldin")
        await until("hoş geldin".encode())
        process.change_terminal_size(120, 40)
        process.stdin.write(b"/join #dev\r")
        await until(b"#dev\x1b[0;1m>")
        process.stdin.write(b"\x04")  # Ctrl-D on an empty line
        await bob.expect("ayse quit")
        await asyncio.wait_for(process.wait_closed(), 10)
        assert process.exit_status == 0


async def test_connections_logging_in_count_and_are_cut_after_a_while(
    start_ssh: StartSsh,
    telnet: Telnet,
) -> None:
    server = await start_ssh(max_per_address=1, ssh_login_timeout=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", ssh_port(server))
    try:
        banner = await asyncio.wait_for(reader.readline(), 10)
        assert banner.startswith(b"SSH-2.0-")
        # It has not logged in, and still counts: the lines door refuses a second.
        other = await telnet(lines_port(server))
        await other.expect("Too many connections from your address")
        with pytest.raises((OSError, asyncssh.Error)):  # cut before the handshake
            await ssh_connect(ssh_port(server), "ayse", new_key())
        # Silent past the login timeout (not the default 30 s), it is cut, and no
        # longer counts.
        await asyncio.wait_for(_read_to_end(reader), 10)
    finally:
        writer.close()
    after = await telnet(lines_port(server))
    await after.expect("Choose a nickname")


async def _read_to_end(reader: asyncio.StreamReader) -> bytes:
    data = b""
    while chunk := await reader.read(65536):
        data += chunk
    return data


async def test_shutdown_says_goodbye_and_does_not_wait_for_logins(
    start_ssh: StartSsh, telnet: Telnet
) -> None:
    server = await start_ssh()
    reader, writer = await asyncio.open_connection("127.0.0.1", ssh_port(server))
    await asyncio.wait_for(reader.readline(), 10)  # logging in, and never finishing
    conn = await ssh_connect(ssh_port(server), "ayse", new_key())
    ayse = await Piped.open(conn)
    await ayse.expect("End of history")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await server.shutdown(grace=4.0)
    assert loop.time() - started < 3.0
    await ayse.expect("The server is closing the connection: Server shutting down")
    assert await ayse.exit_status() == 0
    await asyncio.wait_for(_read_to_end(reader), 1)  # cut at once, not at its timeout
    writer.close()
    conn.close()


async def test_an_ssh_client_that_does_not_read_is_dropped_at_its_sendq(
    start_ssh: StartSsh, telnet: Telnet
) -> None:
    server = await start_ssh(rate=0, sendq=64 * 1024, sendq_grace=0.5)
    bob = await telnet(lines_port(server), "bob")
    conn = await ssh_connect(ssh_port(server), "ayse", new_key())
    # It reads its welcome, then nothing more: SSH's window fills, then the SendQ.
    ayse = await Piped.open(conn)
    await ayse.expect("End of history")
    await bob.expect("ayse joined #lobby")
    text = "x" * 3000
    for n in range(1500):  # about 4.5 MB, more than the window and the kernel hold
        bob.send(f"{n} {text}")
    await bob.expect("ayse quit (SendQ exceeded)", timeout=30)
    await asyncio.wait_for(conn.wait_closed(), 10)
    bob.send("still here")
    await bob.expect("<bob> still here", timeout=30)


async def test_a_login_without_a_session_is_cut_too(start_ssh: StartSsh, telnet: Telnet) -> None:
    server = await start_ssh(ssh_login_timeout=0.5)
    conn = await ssh_connect(ssh_port(server), "ayse", new_key())
    async with conn:
        # Logged in, and asking for nothing: the place it holds is given back.
        await asyncio.wait_for(conn.wait_closed(), 10)
    async with asyncio.timeout(5):
        while server.connections:  # noqa: ASYNC110 - in-process state, looked at each tick
            await asyncio.sleep(0)


async def test_the_line_limit_is_the_servers(start_ssh: StartSsh, telnet: Telnet) -> None:
    server = await start_ssh(max_line=100)
    bob = await telnet(lines_port(server), "bob")
    lines = ["x" * 150, "ş" * 60, "kısa bir satır"]  # too long; 120 bytes as JSON; fine
    async with await ssh_connect(ssh_port(server), "ayse", new_key()) as conn:
        result = await conn.run(input="".join(f"{line}\n" for line in lines), timeout=10)
    assert result.exit_status == 0
    out = str(result.stdout)
    assert out.count("Line too long (the limit is 100 bytes)") == 2, out
    await bob.expect("<ayse> kısa bir satır")
    assert not [line for line in bob.seen if "xxx" in line or "şşş" in line]
