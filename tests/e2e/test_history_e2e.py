"""History over real processes: kill -9 loses nothing anyone saw."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sqlite3
from pathlib import Path

from tests.e2e.lineclient import registered
from tests.e2e.serverprocess import SOKETLER, serve_process


def stored_texts(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("SELECT text FROM messages ORDER BY id")]
    finally:
        db.close()


async def test_after_kill_9_a_restarted_server_replays_the_last_messages(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    async with serve_process("--db", db) as server:
        ayse = await registered("127.0.0.1", server.port, "ayşe")
        ayse.send("/topic kalıcı konu")
        for n in range(5):
            ayse.send(f"unutma {n} 안녕")
            await ayse.expect(f"<ayşe> unutma {n}")
        assert await server.stop(signal.SIGKILL) == -signal.SIGKILL
        await ayse.close()
    async with serve_process("--db", db) as server:
        bob = await registered("127.0.0.1", server.port, "bob")
        # The restored topic follows the members line; then the replay.
        assert await bob.line() == "-- Topic: kalıcı konu"
        replay = [await bob.line() for _ in range(6)]
        assert [line.split("> ", 1)[1] for line in replay[:5]] == [
            f"unutma {n} 안녕" for n in range(5)
        ]
        assert replay[5] == "-- End of history of #lobby (5 messages)."
        await bob.close()


async def test_messages_anyone_saw_survive_random_kill_9(tmp_path: Path) -> None:
    """2,000 numbered messages in rounds of up to 200 (ten rounds at least), each
    round cut short by a SIGKILL at a random moment, then a restart on the same file."""
    db = tmp_path / "h.db"
    rng = random.Random(1234)
    seen: list[list[str]] = []  # what each observer saw, in the order it saw it
    next_number = 0
    rounds = 0
    while rounds < 10 or (next_number < 2000 and rounds < 40):
        rounds += 1
        async with serve_process("--db", str(db), "--rate", "0") as server:
            sender = await registered("127.0.0.1", server.port, "sender")
            watcher = await registered("127.0.0.1", server.port, "watcher")
            got: dict[str, list[str]] = {"sender": [], "watcher": []}

            async def watch(name: str, client: object, got: dict[str, list[str]] = got) -> None:
                reader = client.reader  # type: ignore[attr-defined]
                while True:
                    try:
                        raw = await reader.readline()
                    except ConnectionResetError:
                        return  # killed with our lines unread: it sent a reset
                    if not raw:
                        return
                    line = raw.decode().rstrip("\r\n")
                    if "<sender> n" in line:
                        got[name].append(line.split("> ", 1)[1])

            watchers = [
                asyncio.ensure_future(watch("sender", sender)),
                asyncio.ensure_future(watch("watcher", watcher)),
            ]
            # 200 messages over about 0.3 s, and the kill lands somewhere among them.
            loop = asyncio.get_running_loop()
            killer = loop.call_later(rng.uniform(0.02, 0.3), server.proc.kill)
            for _ in range(min(200, 2000 - next_number)):
                if server.proc.returncode is not None or sender.writer.is_closing():
                    break
                sender.send(f"n{next_number}")
                next_number += 1
                await asyncio.sleep(0.0015)
            killer.cancel()
            with contextlib.suppress(ProcessLookupError):  # the timer may have killed it
                server.proc.kill()
            await server.proc.wait()
            await asyncio.wait_for(asyncio.gather(*watchers), 10)
            seen += [got["sender"], got["watcher"]]
            await sender.close()
            await watcher.close()
    stored = stored_texts(db)
    assert len(stored) == len(set(stored)), "a message was stored twice"
    position = {text: index for index, text in enumerate(stored)}
    total_seen = 0
    for observed in seen:
        missing = [text for text in observed if text not in position]
        assert not missing, f"seen but not stored: {missing[:5]}"
        indexes = [position[text] for text in observed]
        assert indexes == sorted(indexes), "seen in another order than stored"
        total_seen += len(observed)
    assert total_seen > 0


async def run_serve(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *SOKETLER,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--irc-port",
        "0",
        "--web-port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_an_unusable_database_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    code, err = await run_serve("--db", str(a_file / "h.db"))
    assert code == 11
    assert err.startswith("soketler serve: cannot create the folder of the history database")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"\x00garbage" * 512)
    code, err = await run_serve("--db", str(damaged))
    assert code == 11 and "not an SQLite database, or is damaged" in err
    assert damaged.read_bytes() == b"\x00garbage" * 512
