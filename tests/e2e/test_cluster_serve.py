"""`soketler serve --redis` as real processes: nodes on different ports sharing rooms,
a node killed and its user scrolling back on another, Redis restarted mid-chat, a
three-shard Redis Cluster, IRC users across nodes, and the errors said at start."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from soketler import exitcodes
from soketler.cluster.connect import slot
from soketler.cluster.keys import KeyLayout
from tests.e2e.ircclient import IrcTestClient, command
from tests.e2e.lineclient import LineClient
from tests.e2e.serverprocess import SOKETLER, serve_process
from tests.redisfix import RedisClusterServers, RedisServer, free_port

# Names of a node that died are free a few seconds later, not thirty.
TTL = ("--cluster-ttl", "3")


Enter = Callable[[int, str], Awaitable[LineClient]]


@pytest.fixture
async def enter() -> AsyncIterator[Enter]:
    """`await enter(port, nick)`: a telnet-style user in #lobby; all leave after the test."""
    clients: list[LineClient] = []

    async def connect(port: int, nick: str) -> LineClient:
        client = await LineClient.connect("127.0.0.1", port)
        clients.append(client)
        await client.register(nick)
        await client.expect("End of history of #lobby")
        return client

    yield connect
    for client in clients:
        await client.close()


async def say_and_see(client: LineClient, text: str) -> None:
    """Says a line and waits for it to come back from the room's stream."""
    client.send(text)
    await client.expect(f"> {text}")


async def seen_or_wait(client: LineClient, text: str, timeout: float = 10.0) -> None:
    """Waits for a line, unless it came already (while waiting for another)."""
    if not any(text in line for line in client.seen):
        await client.expect(text, timeout=timeout)


def messages(lines: list[str]) -> list[str]:
    return [m.group(1) for line in lines if (m := re.search(r"\d\d:\d\d (<[^>]+> .*)$", line))]


async def test_a_node_killed_its_user_reconnects_elsewhere_and_scrolls_back(
    redis_url: str, enter: Enter
) -> None:
    async with (
        serve_process("--redis", redis_url, *TTL) as one,
        serve_process("--redis", redis_url, *TTL) as two,
    ):
        ayse = await enter(one.port, "ayse")
        bora = await enter(two.port, "bora")
        await ayse.expect("bora joined #lobby")
        for n in range(6):
            speaker = ayse if n % 2 == 0 else bora
            await say_and_see(speaker, f"line {n}")
        await say_and_see(ayse, "last words before the crash")  # acknowledged: seen back
        one.proc.kill()
        await one.proc.wait()
        await bora.expect("ayse quit (Server gone)", timeout=20)
        again = await enter(two.port, "ayse")  # on the other node, with the same name
        again.send("/history 50")
        page: list[str] = []
        while "End of history of #lobby" not in (line := await again.line()):
            page.append(line)
        expected = [
            *(f"<{'ayse' if n % 2 == 0 else 'bora'}> line {n}" for n in range(6)),
            "<ayse> last words before the crash",
        ]
        assert messages(page)[-7:] == expected
        again.send("back on another server")
        await bora.expect("<ayse> back on another server")


async def test_redis_restarted_mid_chat_loses_nothing_and_repeats_nothing(
    persistent_redis: RedisServer, enter: Enter
) -> None:
    url = persistent_redis.url
    async with serve_process("--redis", url) as one, serve_process("--redis", url) as two:
        ayse = await enter(one.port, "ayse")
        bora = await enter(two.port, "bora")
        await ayse.expect("bora joined #lobby")
        for n in range(30):
            if n == 10:
                await asyncio.to_thread(persistent_redis.kill)
                for client in (ayse, bora):
                    await seen_or_wait(client, "Cross-server delivery is degraded")
            if n == 20:
                await asyncio.to_thread(persistent_redis.start)
                for client in (ayse, bora):
                    await seen_or_wait(client, "Cross-server delivery is restored", 30)
            await say_and_see(ayse, f"ayse {n}")
            await say_and_see(bora, f"bora {n}")
        for client, other in ((ayse, "bora"), (bora, "ayse")):
            await seen_or_wait(client, f"<{other}> {other} 29", timeout=30)
        for client in (ayse, bora):
            seen = messages(client.seen)
            for nick in ("ayse", "bora"):
                for n in range(30):
                    assert seen.count(f"<{nick}> {nick} {n}") == 1, (nick, n, seen)
        # The history has each message once, each speaker's in the order said.
        cem = await enter(two.port, "cem")
        cem.send("/history 100")
        page: list[str] = []
        while "End of history of #lobby" not in (line := await cem.line()):
            page.append(line)
        said = messages(page)
        for nick in ("ayse", "bora"):
            assert [m for m in said if m.startswith(f"<{nick}>")] == [
                f"<{nick}> {nick} {n}" for n in range(30)
            ]


async def test_three_nodes_chat_over_a_three_shard_redis_cluster(
    redis_cluster: RedisClusterServers, enter: Enter
) -> None:
    rooms = ["#a", "#b", "#c", "#d", "#e", "#f"]
    layout = KeyLayout()
    # The rooms' streams are spread over the shards (each room whole on one).
    assert len({slot(layout.room_stream(room)) for room in rooms}) > 1
    urls = [node.url for node in redis_cluster.nodes]
    async with (
        serve_process("--redis", urls[0]) as one,
        serve_process("--redis", urls[1]) as two,
        serve_process("--redis", urls[2]) as three,
    ):
        people = [
            await enter(server.port, nick)
            for server, nick in ((one, "ayse"), (two, "bora"), (three, "cem"))
        ]
        for person in people:
            for room in rooms:
                person.send(f"/join {room}")
                await person.expect(f"End of history of {room}")
        for room in rooms:
            for person in people:
                person.send(f"/me waves in {room}")
        for person in people:
            for room in rooms:
                for nick in ("ayse", "bora", "cem"):
                    await seen_or_wait(person, f"{nick} waves in {room}")
        orders = [
            [line.split(" ", 1)[1] for line in person.seen if " waves in " in line]
            for person in people
        ]
        for room in rooms:
            in_room = [[line for line in order if line.endswith(room)] for order in orders]
            assert in_room[0] == in_room[1] == in_room[2]
            assert len(in_room[0]) == 3


async def test_irc_users_see_people_of_other_nodes(redis_url: str, enter: Enter) -> None:
    irc_port = free_port()
    async with (
        serve_process("--redis", redis_url) as one,
        serve_process("--redis", redis_url, "--irc-port", str(irc_port)),
    ):
        ayse = await enter(one.port, "ayse")
        ayse.send("/join #dev")
        await ayse.expect("End of history of #dev")
        irc = await IrcTestClient.connect("127.0.0.1", irc_port)
        try:
            await irc.register("ircbora")
            irc.send("JOIN #lobby")
            names = await irc.expect(command("353"))
            assert names.params[-1].split() == ["@ayse", "ircbora"]  # ayse made the room

            async def listed() -> dict[str, str]:
                # The directory hears of #dev (a room node two does not read) soon.
                while True:
                    irc.send("LIST")
                    replies = await irc.until(command("323"))
                    rooms = {m.params[1]: m.params[2] for m in replies if m.command == "322"}
                    if "#dev" in rooms:
                        return rooms

            rooms = await asyncio.wait_for(listed(), 10)
            assert rooms == {"#dev": "1", "#lobby": "2"}
            irc.send("WHOIS ayse")
            whois = await irc.expect(command("311"))
            assert whois.params[1:3] == ("ayse", "ayse")
            irc.send("PRIVMSG #lobby :hello from IRC")
            await ayse.expect("<ircbora> hello from IRC")
            ayse.send("/msg ircbora hello back")
            private = await irc.expect(command("PRIVMSG", "ircbora"))
            assert private.params[1] == "hello back"
        finally:
            await irc.close()


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
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_serve_says_when_redis_cannot_be_reached() -> None:
    url = f"redis://127.0.0.1:{free_port()}"  # nobody listens there
    code, err = await run_serve("--redis", url)
    assert code == exitcodes.UNREACHABLE
    assert err.startswith(f"soketler serve: cannot reach Redis at {url}")
    assert err.count("\n") == 1
    code, err = await run_serve("--redis", url, "--workers", "2")
    assert code == exitcodes.UNREACHABLE
    assert err.startswith(f"soketler serve: cannot reach Redis at {url}")


async def test_workers_that_cannot_listen_end_the_supervisor(redis_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = await run_serve("--redis", redis_url, "--workers", "2", "--port", str(port))
    assert code == exitcodes.ADDRESS_IN_USE
    assert f"soketler serve: address already in use: 127.0.0.1 port {port}" in err
    assert "could not start (exit code 7)" in err


async def test_workers_need_redis() -> None:
    code, err = await run_serve("--workers", "2")
    assert code == exitcodes.USAGE
    assert "--workers needs --redis: worker processes share rooms through Redis" in err


def children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as file:
        return {int(word) for word in file.read().split()}


def socket_owners(pids: set[int], port: int) -> dict[int, int]:
    """For each connection accepted on `port` of 127.0.0.1: the client's port -> the
    worker process that holds it (from /proc: sockets by inode)."""
    inodes: dict[str, int] = {}
    for pid in pids:
        with os.scandir(f"/proc/{pid}/fd") as fds:
            for fd in fds:
                try:
                    target = os.readlink(fd.path)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes[target[8:-1]] = pid
    owners: dict[int, int] = {}
    with open("/proc/net/tcp") as table:
        for row in list(table)[1:]:
            fields = row.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.split(":")[1], 16) == port and inode in inodes:
                owners[int(remote.split(":")[1], 16)] = inodes[inode]
    return owners


async def test_two_workers_share_one_port(redis_url: str, enter: Enter) -> None:
    async with serve_process("--redis", redis_url, "--workers", "2", *TTL) as server:
        workers = children(server.proc.pid)
        assert len(workers) == 2
        people = [await enter(server.port, f"user{n}") for n in range(16)]
        owners = socket_owners(workers, server.port)
        by_worker = {
            pid: [p for p in people if owners.get(p.writer.get_extra_info("sockname")[1]) == pid]
            for pid in workers
        }
        assert all(by_worker.values()), owners  # the kernel gave each worker some
        people[0].send("one port, two processes")
        for person in people:
            await person.expect("<user0> one port, two processes")
        # SIGHUP is passed on to the workers (each reads its configuration again and
        # says so in the log it shares with the supervisor), and ends none of them.
        server.proc.send_signal(signal.SIGHUP)
        assert server.proc.stderr is not None
        told = 0
        while told < 2:
            line = await asyncio.wait_for(server.proc.stderr.readline(), 10)
            told += b"SIGHUP: reading the configuration again" in line
        await say_and_see(people[1], "after the hangup")
        assert children(server.proc.pid) == workers
        # A worker killed: its people are cut off, the others chat on; it is started again.
        dead, alive = sorted(workers)
        os.kill(dead, signal.SIGKILL)
        for person in by_worker[dead]:
            while True:
                try:
                    await person.line()
                except EOFError:
                    break
        survivor = by_worker[alive][0]
        await say_and_see(survivor, "still here")

        async def restarted() -> set[int]:
            while True:
                now = children(server.proc.pid)
                if len(now) == 2 and dead not in now:
                    return now
                await asyncio.sleep(0.1)

        workers = await asyncio.wait_for(restarted(), 30)
        assert alive in workers
        assert await server.stop(signal.SIGTERM, timeout=30) == exitcodes.OK
        for pid in workers:  # each worker ended with it
            assert not await asyncio.to_thread(os.path.exists, f"/proc/{pid}")
