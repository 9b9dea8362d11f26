"""Passwords on every door: the server password, accounts (registered nicknames) and
SSH key claims, over real sockets; failed attempts slowed down without slowing anyone
else down; an account owner's private history across sessions."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from soketler.core.config import Limits, Listener, ServerConfig
from soketler.protocols.connection import TELOPT_ECHO, WILL, WONT
from soketler.protocols.framing import IAC
from soketler.security.accounts import AccountStore
from soketler.security.passwords import ScryptCost, hash_password
from soketler.security.slowdown import Slowdown
from soketler.transport.server import ChatServer
from tests.e2e.ircclient import IrcTestClient, command
from tests.e2e.lineclient import TIMEOUT, LineClient, registered
from tests.e2e.sshclient import lines_port, new_key, ssh_connect, ssh_port
from tests.security.certs import Certs, make_certs

HOST = "127.0.0.1"
LOCAL = (HOST,)
# The cheapest cost the password module accepts: tests check logic, not hashing time.
CHEAP = ScryptCost(log_n=10)
AYSE = "doğru at pil zımba"  # ayşe's account password
HIDE = bytes([IAC, WILL, TELOPT_ECHO])
SHOW = bytes([IAC, WONT, TELOPT_ECHO])
Start = Callable[..., Any]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
async def start(tmp_path: Path, certs: Certs) -> AsyncIterator[Start]:
    """`await start(accounts={name: password}, slowdown=..., **settings)`: the lines
    door, IRC and IRC over TLS on free ports, history (and accounts) in a file."""
    servers: list[ChatServer] = []

    async def make(
        accounts: dict[str, str] | None = None, slowdown: Slowdown | None = None, **settings: Any
    ) -> ChatServer:
        db = str(tmp_path / "history.sqlite3")
        store = AccountStore(db)
        for name, password in (accounts or {}).items():
            store.add(name, hash_password(password, CHEAP))
        store.close()
        limit_names = set(Limits.__dataclass_fields__)
        limits = Limits(**{k: v for k, v in settings.items() if k in limit_names})
        fields = {k: v for k, v in settings.items() if k not in limit_names}
        config = ServerConfig(
            hosts=LOCAL, port=0, db=db, limits=limits, tls_cert=certs.good.cert,
            tls_key=certs.good.key, **fields,
        )  # fmt: skip
        listeners = (
            Listener("lines", LOCAL, 0),
            Listener("irc", LOCAL, 0),
            Listener("irc", LOCAL, 0, tls=True),
        )
        server = ChatServer(config, listeners=listeners)
        if slowdown is not None:
            server.slowdown = slowdown
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        with contextlib.suppress(Exception):
            await server.shutdown(grace=1.0)


def plain_port(server: ChatServer) -> int:
    return server.tcp_addresses[0][1]


def irc_port(server: ChatServer) -> int:
    return server.tcp_addresses_of("irc")[0][1]


class JsonClient:
    """A JSON-lines program: objects out, objects in."""

    def __init__(self, client: LineClient) -> None:
        self.client = client

    @classmethod
    async def connect(cls, port: int, source: str | None = None) -> JsonClient:
        return cls(await LineClient.connect(HOST, port, source=source))

    def send(self, **fields: Any) -> None:
        self.client.send(json.dumps(fields))

    async def next(self, kind: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next object of `kind` (the plain greeting and others are passed over)."""
        line = await self.client.expect(
            lambda text: text.startswith("{") and json.loads(text)["type"] == kind, timeout
        )
        found: dict[str, Any] = json.loads(line)
        return found

    async def close(self) -> None:
        await self.client.close()


async def raw_until(reader: asyncio.StreamReader, marker: bytes) -> bytes:
    return await asyncio.wait_for(reader.readuntil(marker), TIMEOUT)


# --- the server password -----------------------------------------------------------------


async def test_the_server_password_on_each_door(start: Start) -> None:
    server = await start(password="sesame", slowdown=Slowdown(base=0.01))
    # telnet (lines ending in CR): asked after the nickname, typing hidden, then in.
    reader, writer = await asyncio.open_connection(HOST, plain_port(server))
    await raw_until(reader, b"Choose a nickname:\r\n")
    writer.write(b"telnetci\r\n")
    asked = await raw_until(reader, b"This server needs a password:\r\n")
    hidden = await raw_until(reader, HIDE)
    assert b"Hello" not in asked + hidden
    writer.write(b"sesame\r\n")
    welcome = await raw_until(reader, b"You are in #lobby")
    assert welcome.startswith(SHOW) and b"sesame" not in welcome
    writer.close()
    await writer.wait_closed()

    # nc (lines ending in LF): the same question, and no telnet bytes it would show.
    nc = await LineClient.connect(HOST, plain_port(server))
    await nc.expect("Choose a nickname")
    nc.send("ncci")
    await nc.expect("This server needs a password")
    nc.send("wrong")
    assert "!! Wrong password." in await nc.closed()
    assert not any("\xff" in line for line in nc.seen)
    await nc.close()

    # JSON: hello's password.
    program = await JsonClient.connect(plain_port(server))
    program.send(type="hello", nick="bot", id=1)
    assert (await program.next("error"))["code"] == "password-required"
    program.send(type="hello", nick="bot", password="sesame", id=2)
    assert (await program.next("hello"))["nick"] == "bot"
    await program.close()

    # IRC: PASS; none, or a wrong one, ends the connection with 464.
    for given in ((), ("PASS wrong",)):
        irc = await IrcTestClient.connect(HOST, irc_port(server))
        irc.send(*given, "NICK ircci", "USER i 0 * :i")
        got = await irc.closed()
        assert [m.command for m in got][-2:] == ["464", "ERROR"]
        await irc.close()
    irc = await IrcTestClient.connect(HOST, irc_port(server))
    irc.send("PASS sesame")
    await irc.register("ircci")
    await irc.close()


async def test_an_account_password_lets_its_owner_past_the_server_password(start: Start) -> None:
    server = await start(accounts={"ayşe": AYSE}, password="sesame")
    program = await JsonClient.connect(plain_port(server))
    program.send(type="hello", nick="Ayşe", password=AYSE)
    assert (await program.next("hello"))["nick"] == "Ayşe"
    await program.close()


# --- accounts ----------------------------------------------------------------------------


async def test_a_registered_nickname_needs_its_password_on_every_door(start: Start) -> None:
    server = await start(accounts={"ayşe": AYSE}, slowdown=Slowdown(base=0.01))
    # Plain: the password is asked for; a wrong one lets the person choose again.
    guest = await LineClient.connect(HOST, plain_port(server))
    await guest.expect("Choose a nickname")
    guest.send("AYŞE")
    await guest.expect("AYŞE is a registered nickname. Its password:")
    guest.send("guess")
    await guest.expect("!! Wrong password.")
    await guest.expect("Choose a nickname")
    guest.send("misafir")
    await guest.expect("You are in #lobby")
    guest.send("/nick ayşe")
    assert "/login ayşe first" in await guest.expect("!!")

    # JSON: told, then given.
    program = await JsonClient.connect(plain_port(server))
    program.send(type="hello", nick="ayşe")
    assert (await program.next("error"))["code"] == "nick-registered"
    program.send(type="hello", nick="ayşe", password="wrong")
    assert (await program.next("error"))["code"] == "bad-password"

    # IRC: 433 without logging in, whoever else is there or not.
    irc = await IrcTestClient.connect(HOST, irc_port(server))
    irc.send("NICK ayşe", "USER a 0 * :a")
    taken = await irc.expect(command("433"))
    assert "registered" in taken.params[-1]
    irc.send("NICK misafir2")
    await irc.expect(command("001"))

    # The owner: the right password, then WHOIS names the account (330).
    owner = await LineClient.connect(HOST, plain_port(server))
    await owner.expect("Choose a nickname")
    owner.send("ayşe")
    await owner.expect("Its password")
    owner.send(AYSE)
    await owner.expect("Hello ayşe!")
    irc.send("WHOIS ayşe")
    whois = await irc.until(command("318"))
    assert [m.params[2] for m in whois if m.command == "330"] == ["ayşe"]
    await irc.close()
    owner.send("/quit")
    await owner.closed()
    await owner.close()

    # IRC: PASS name:password, or the nickname's own password.
    for given in (f"PASS :ayşe:{AYSE}", f"PASS :{AYSE}"):
        irc = await IrcTestClient.connect(HOST, irc_port(server))
        irc.send(given)
        welcome = await irc.register("ayşe")
        assert "900" in [m.command for m in welcome]
        irc.send("QUIT")
        await irc.closed()
        await irc.close()
    for client in (guest, program):
        await client.close()


async def test_login_then_nick_and_login_before_a_nickname(start: Start) -> None:
    server = await start(accounts={"ayşe": AYSE})
    guest = await registered(HOST, plain_port(server), "misafir")
    guest.send("/login ayşe")
    await guest.expect("Password of ayşe:")
    guest.send(AYSE)
    await guest.expect("You are logged in as ayşe.")
    guest.send("/nick ayşe")
    await guest.expect("misafir is now known as ayşe")
    await guest.close()

    # Logging in first gives the account's nickname.
    early = await LineClient.connect(HOST, plain_port(server))
    await early.expect("Choose a nickname")
    early.send("/login ayşe")
    await early.expect("Password of ayşe:")
    early.send(AYSE)
    await early.expect("Hello ayşe!")
    await early.close()


async def test_sasl_plain_logs_in_over_tls(start: Start, certs: Certs) -> None:
    server = await start(accounts={"ayşe": AYSE}, slowdown=Slowdown(base=0.01))
    port = server.tls_addresses_of("irc")[0][1]
    irc = await IrcTestClient.connect(HOST, port, ssl.create_default_context(cafile=certs.ca))
    irc.send("CAP LS 302")
    listed = await irc.expect(command("CAP"))
    assert "sasl=PLAIN" in listed.params[-1].split()
    irc.send("CAP REQ :sasl", "NICK ayşe", "USER a 0 * :a")
    await irc.expect(command("CAP"))
    irc.send("AUTHENTICATE SCRAM-SHA-256")
    assert (await irc.expect(command("908"))).params[1] == "PLAIN"
    await irc.expect(command("904"))
    irc.send("AUTHENTICATE PLAIN")
    await irc.expect(command("AUTHENTICATE"))
    wrong = base64.b64encode(b"\0ay\xc5\x9fe\0wrong").decode()
    irc.send(f"AUTHENTICATE {wrong}")
    await irc.expect(command("904"))
    irc.send("AUTHENTICATE PLAIN")
    await irc.expect(command("AUTHENTICATE"))
    right = base64.b64encode("\0ayşe\0".encode() + AYSE.encode()).decode()
    irc.send(f"AUTHENTICATE {right}")
    logged = await irc.expect(command("900"))
    assert logged.params[2] == "ayşe"
    await irc.expect(command("903"))
    irc.send("CAP END")
    await irc.expect(command("001"))
    await irc.close()


async def test_failed_attempts_are_slowed_down_and_nobody_else_is(start: Start) -> None:
    server = await start(accounts={"ayşe": AYSE}, slowdown=Slowdown(base=0.5))
    bystander = await registered(HOST, plain_port(server), "bystander", source="127.0.0.9")
    witness = await registered(HOST, plain_port(server), "witness", source="127.0.0.9")
    guesser = await JsonClient.connect(plain_port(server), source="127.0.0.3")
    loop = asyncio.get_running_loop()
    guesser.send(type="hello", nick="ayşe", password="guess 1")
    assert (await guesser.next("error"))["code"] == "bad-password"
    began = loop.time()
    guesser.send(type="hello", nick="ayşe", password="guess 2")
    # Meanwhile the others chat: the wait is the guesser's alone (and no hash runs on
    # the event loop).
    bystander.send("not slowed")
    await witness.expect("<bystander> not slowed")
    chatted = loop.time() - began
    assert (await guesser.next("error"))["code"] == "bad-password"
    waited = loop.time() - began
    assert waited >= 0.5 > chatted
    # Another connection from the same address waits its turn too, on any door
    # (1 s after 2 failures): guessing on many connections at once gains nothing.
    irc = await IrcTestClient.connect(HOST, irc_port(server), source="127.0.0.3")
    began = loop.time()
    irc.send(f"PASS :ayşe:{AYSE}")
    welcome = await irc.register("ayşe")
    assert "900" in [m.command for m in welcome]
    assert loop.time() - began >= 0.9
    for client in (bystander, witness, guesser, irc):
        await client.close()


async def test_an_account_owner_reads_its_private_history_across_sessions(start: Start) -> None:
    server = await start(accounts={"ayşe": AYSE})
    bob = await registered(HOST, plain_port(server), "bob")
    ayse = await JsonClient.connect(plain_port(server))
    ayse.send(type="hello", nick="ayşe", password=AYSE)
    await ayse.next("hello")
    bob.send("/msg ayşe psst")
    assert (await ayse.next("message"))["text"] == "psst"
    await ayse.close()

    back = await JsonClient.connect(plain_port(server))
    back.send(type="hello", nick="ayşe", password=AYSE)
    await back.next("hello")
    back.send(type="history", **{"with": "bob"}, id=7)
    said = await back.next("message")
    assert (said["text"], said["from"]) == ("psst", "bob")
    await back.close()

    # A guest who takes a free nickname again starts from nothing (as before).
    bob.send("/msg bob2 hi")  # nobody is called bob2 yet: refused, nothing stored
    guest = await registered(HOST, plain_port(server), "bob2")
    bob.send("/msg bob2 first")
    await guest.expect("*bob* first")
    guest.send("/quit")
    await guest.closed()
    await guest.close()
    again = await registered(HOST, plain_port(server), "bob2")
    again.send("/history bob")
    end = await again.expect("End of history")
    assert "(0 messages)" in end
    await again.close()
    await bob.close()


# --- SSH key claims, for everyone -------------------------------------------------------


async def test_a_nickname_claimed_by_an_ssh_key_is_kept_on_every_door(
    start_ssh: Callable[..., Any], tmp_path: Path
) -> None:
    server = await start_ssh(db=str(tmp_path / "history.sqlite3"))
    key = new_key()
    async with await ssh_connect(ssh_port(server), "anahtar", key) as conn:
        assert (await conn.run("hello", timeout=10)).exit_status == 0
    # Its owner is away: a telnet user may not take the nickname...
    telnet = await LineClient.connect(HOST, lines_port(server))
    await telnet.expect("Choose a nickname")
    telnet.send("anahtar")
    assert "belongs to the SSH key that claimed it" in await telnet.expect("!!")
    telnet.send("telnetci")
    await telnet.expect("You are in #lobby")
    telnet.send("/nick ANAHTAR")
    assert "belongs to the SSH key" in await telnet.expect("!!")
    # ...and its owner comes back to it.
    async with await ssh_connect(ssh_port(server), "anahtar", key) as conn:
        assert (await conn.run("back", timeout=10)).exit_status == 0
    await telnet.expect("<anahtar> back")
    await telnet.close()


async def test_with_a_server_password_ssh_takes_it_and_refuses_strangers_keys(
    start_ssh: Callable[..., Any],
) -> None:
    server = await start_ssh(password="sesame")
    with pytest.raises(asyncssh.PermissionDenied):
        await ssh_connect(ssh_port(server), "stranger", new_key())
    with pytest.raises(asyncssh.PermissionDenied):
        await ssh_connect(ssh_port(server), "stranger", password="wrong")
    async with await ssh_connect(ssh_port(server), "misafir", password="sesame") as conn:
        result = await conn.run("in by the server password", timeout=10)
        assert result.exit_status == 0
        assert "<misafir> in by the server password" in str(result.stdout)
