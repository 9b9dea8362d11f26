"""The chat client on a server with a password, and with a registered nickname."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soketler import exitcodes
from soketler.client import ChatClient, ChatMessage
from soketler.client.errors import ConnectFailed
from soketler.core.config import Limits, ServerConfig
from soketler.security.accounts import AccountStore
from soketler.security.passwords import ScryptCost, hash_password
from soketler.security.slowdown import Slowdown
from soketler.transport.server import ChatServer
from tests.client.conftest import next_matching
from tests.client.test_cli_pipe import run_chat

SERVER_PASSWORD = "kapı şifresi"
ACCOUNT_PASSWORD = "hesap şifresi"


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[int]:
    """A server with a password and the account ayşe; its port."""
    db = str(tmp_path / "history.sqlite3")
    store = AccountStore(db)
    store.add("ayşe", hash_password(ACCOUNT_PASSWORD, ScryptCost(log_n=10)))
    store.close()
    config = ServerConfig(
        hosts=("127.0.0.1",), port=0, db=db, password=SERVER_PASSWORD, limits=Limits(rate=0)
    )
    server = ChatServer(config)
    server.slowdown = Slowdown(base=0.01)
    await server.start()
    try:
        yield server.tcp_addresses[0][1]
    finally:
        await server.shutdown(grace=1.0)


async def test_the_client_gives_its_password_in_hello(guarded: int) -> None:
    without = ChatClient("127.0.0.1", guarded, nick="bot", rate=0, connect_timeout=5.0)
    with pytest.raises(ConnectFailed) as refused:
        await without.connect()
    assert "This server needs a password. (give it with --ask-password" in str(refused.value)
    assert refused.value.exit_code == exitcodes.PROTOCOL
    listener = ChatClient(
        "127.0.0.1", guarded, nick="bot", rate=0, connect_timeout=5.0, password=SERVER_PASSWORD
    )
    await listener.connect()
    owner = ChatClient(
        "127.0.0.1", guarded, nick="ayşe", rate=0, connect_timeout=5.0, password=ACCOUNT_PASSWORD
    )
    await owner.connect()  # an account's password lets its owner in
    await owner.send("#lobby", "hesabımla geldim")
    heard = await next_matching(listener, lambda e: isinstance(e, ChatMessage))
    assert isinstance(heard, ChatMessage) and heard.sender == "ayşe"
    await owner.close()
    await listener.close()


async def test_soketler_chat_reads_the_password_from_a_file(guarded: int, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(SERVER_PASSWORD + "\n")
    code, _, err = await run_chat(
        "127.0.0.1", str(guarded), "--nick", "cron", "--password-file", str(secret), "--send", "x"
    )
    assert (code, err) == (0, "")
    code, _, err = await run_chat("127.0.0.1", str(guarded), "--nick", "cron", "--send", "x")
    assert code == exitcodes.PROTOCOL
    assert "needs a password" in err and "--password-file" in err
