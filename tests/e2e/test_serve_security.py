"""`soketler serve` as people run it: --tls with its self-signed certificate and the
clients that pin it, --print-config, and SIGHUP reading the certificate and the access
lists again while clients stay connected."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import ssl
import tomllib
from pathlib import Path

import pytest

from soketler import exitcodes
from tests.e2e.lineclient import TIMEOUT, LineClient, registered
from tests.e2e.serverprocess import SOKETLER, ServerProcess, serve_process
from tests.helpers import require_program
from tests.security.certs import Certs, make_certs

HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data folder: the self-signed certificate goes there, not in ~."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def logged(server: ServerProcess, text: str) -> str:
    """Reads the server's log (stderr) until a line holds `text`."""
    assert server.proc.stderr is not None
    async with asyncio.timeout(TIMEOUT):
        while True:
            line = (await server.proc.stderr.readline()).decode()
            assert line, f"the server ended before logging {text!r}"
            if text in line:
                return line


async def test_print_config_shows_every_source_and_hides_passwords(tmp_path: Path) -> None:
    config = tmp_path / "soketler.toml"
    config.write_text('password = "file secret"\ndeny = ["203.0.113.0/24"]\n[limits]\nburst = 7\n')
    code, out, err = await run(
        "serve", "--config", str(config), "--port", "7000", "--print-config",
        env={"SOKETLER_REPLAY": "3", "SOKETLER_IRC_PASSWORD": "env secret"},
    )  # fmt: skip
    assert (code, err) == (exitcodes.OK, "")
    assert "secret" not in out
    printed = tomllib.loads(out)
    assert printed["password"] == printed["irc_password"] == "<hidden>"
    assert (printed["port"], printed["replay"], printed["limits"]["burst"]) == (7000, 3, 7)
    lines = out.splitlines()
    assert "port = 7000  # flag" in lines and "replay = 3  # environment" in lines
    assert 'deny = ["203.0.113.0/24"]  # file' in lines and "burst = 7  # file" in lines
    # A wrong value is a usage error naming where it came from.
    code, _, err = await run("serve", "--print-config", env={"SOKETLER_MAX_CLIENTS": "lots"})
    assert code == exitcodes.USAGE
    assert err == "soketler serve: SOKETLER_MAX_CLIENTS cannot be 'lots'\n"


async def test_serve_tls_as_a_new_user_would(data_home: Path) -> None:
    """`soketler serve --tls`, then `soketler chat --tls --tls-fingerprint ...` and
    `openssl s_client -connect` both chat."""
    openssl = require_program("openssl")
    async with serve_process("--tls", "--tls-port", "0") as server:
        assert server.tls_port is not None and server.fingerprint is not None
        stored = data_home / "soketler" / "tls" / "selfsigned.crt"
        assert stored.exists()
        watcher = await registered(HOST, server.port, "watcher")
        code, _, err = await run(
            "chat", HOST, str(server.tls_port), "--nick", "pinned",
            "--tls-fingerprint", server.fingerprint, "--send", "merhaba over TLS",
        )  # fmt: skip
        assert (code, err) == (0, "")
        await watcher.expect("<pinned> merhaba over TLS")

        s_client = await asyncio.create_subprocess_exec(
            openssl, "s_client", "-connect", f"{HOST}:{server.tls_port}", "-quiet",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert s_client.stdin is not None and s_client.stdout is not None
        try:
            async with asyncio.timeout(TIMEOUT):
                await s_client.stdout.readuntil(b"Choose a nickname:\r\n")
                s_client.stdin.write(b"openssl\nand from s_client\n")
                await watcher.expect("<openssl> and from s_client")
        finally:
            s_client.kill()
            await s_client.wait()
        await watcher.close()
        assert await server.stop() == 0
    # The same certificate next time: pinned clients keep trusting the server.
    async with serve_process("--tls", "--tls-port", "0") as again:
        assert again.fingerprint == server.fingerprint


async def test_sighup_reads_the_certificate_and_access_lists_again(
    certs: Certs, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(certs.good.cert, cert)
    shutil.copy(certs.good.key, key)
    config = tmp_path / "soketler.toml"
    config.write_text(f'tls_cert = "{cert}"\ntls_key = "{key}"\ndeny = ["127.0.0.9/32"]\n')
    async with serve_process("--config", str(config), "--tls-port", "0", tls=True) as server:
        assert server.tls_port is not None
        trusted = ssl.create_default_context(cafile=certs.ca)
        before = await LineClient.connect(HOST, server.tls_port, tls=trusted)
        await before.register("eski")
        stays = await registered(HOST, server.port, "stays", source="127.0.0.2")
        goes = await registered(HOST, server.port, "goes", source="127.0.0.3")
        kept_out = await LineClient.connect(HOST, server.port, source="127.0.0.9")
        assert await kept_out.line() == "!! Your address may not connect to this server."
        await kept_out.close()

        renewed = certs.authority.issue_cert("localhost", "127.0.0.1")
        cert.write_bytes(b"".join(blob.bytes() for blob in renewed.cert_chain_pems))
        renewed.private_key_pem.write_to_path(str(key))
        config.write_text(f'tls_cert = "{cert}"\ntls_key = "{key}"\ndeny = ["127.0.0.3/32"]\n')
        server.proc.send_signal(signal.SIGHUP)
        await logged(server, "SIGHUP: access lists")

        assert "Your address may no longer connect" in "\n".join(await goes.closed())
        after = await LineClient.connect(HOST, server.tls_port, tls=trusted)
        presented = after.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        renewed_der = ssl.PEM_cert_to_DER_cert(renewed.cert_chain_pems[0].bytes().decode())
        assert hashlib.sha256(presented).digest() == hashlib.sha256(renewed_der).digest()
        await after.register("yeni")
        before.send("still here")
        await after.expect("<eski> still here")
        await stays.expect("<eski> still here")
        welcome = await registered(HOST, server.port, "welcome", source="127.0.0.9")

        # A configuration that cannot be used changes nothing.
        config.write_text('deny = ["not a range"]\n')
        server.proc.send_signal(signal.SIGHUP)
        assert "nothing changed" in await logged(server, "SIGHUP: allow/deny")
        stays.send("and still")
        await welcome.expect("<stays> and still")
        for client in (before, stays, goes, after, welcome):
            await client.close()
        assert await server.stop() == 0


async def test_a_broken_certificate_is_a_tls_error_at_start(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pem"
    broken.write_text("not a certificate\n")
    code, out, err = await run(
        "serve", "--host", HOST, "--port", "0", "--tls-port", "0", "--irc-port", "0",
        "--web-port", "0", "--db", ":memory:", "--tls-cert", str(broken),
    )  # fmt: skip
    assert code == exitcodes.TLS and out == ""
    assert err == (
        f"soketler serve: TLS: cannot load the certificate {broken}: no PEM certificate in it\n"
    )
