"""Staleness measures: checking an unchanged 1,000-node pipeline, running it (nothing to do),
and re-checking a node with 1 GB of outputs after one file changed.

The checks are timed in this process, on a fusionpipe service of its own over the benchmark
server's database and data folder (as a second user's server would be), with the stat cache
the server persisted."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

import xxhash

from fusionpipe_server.service import Service, Settings
from fusionpipe_server.store.database import Database

from .harness import Row, Server
from .runs import make_nodes, new_pipeline, run_seconds

MB = 2**20


def stat_floor(folders: list[Path]) -> float:
    """Listing and stat-ing every file of these node folders, and nothing else."""
    started = time.perf_counter()
    for folder in folders:
        for root, _, files in os.walk(folder):
            for name in files:
                os.lstat(os.path.join(root, name))
    return time.perf_counter() - started


async def timed_async(action, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    return samples


async def _measure(
    server: Server, big_pipeline: str, big_nodes: list[str], heavy: str
) -> list[Row]:
    db = Database(server.dsn, max_size=4)
    await db.open()
    try:
        service = Service(db, Settings(data_path=(server.folder / "data").resolve()))
        staleness = service.staleness
        cold = await timed_async(lambda: staleness.check_pipeline(big_pipeline), 1)
        checks = await timed_async(lambda: staleness.check_pipeline(big_pipeline), 20)
        read = len(staleness.last_read)
        folders = [Path(server.call("GET", f"nodes/{n}")["folder"]) for n in big_nodes]
        floor = statistics.median([stat_floor(folders) for _ in range(5)])
        rows = [
            Row(
                "staleness check, unchanged 1,000-node pipeline",
                checks,
                floor,
                "p50 < 50 ms, reads no file",
                statistics.median(checks) < 0.050 and read == 0,
                f"{read} files read; first check {cold[0] * 1e3:.0f} ms",
            )
        ]
        await staleness.check([heavy])
        heavy_folder = Path(server.call("GET", f"nodes/{heavy}")["folder"])
        samples, reads, floors = [], [], []
        for index in range(6):
            target = heavy_folder / "data" / f"part{index:04d}.bin"
            target.write_bytes(os.urandom(MB))
            # A file hashed within the clock tick of its last write is read again by the next
            # check too (git's racy-clean rule): let the write age first, so that each check
            # measures one changed file, as an edit followed later by a check would be.
            await asyncio.sleep(2.1)
            started = time.perf_counter()
            await staleness.check([heavy])
            samples.append(time.perf_counter() - started)
            reads.append(len(staleness.last_read))
            started = time.perf_counter()
            xxhash.xxh3_128_hexdigest(target.read_bytes())
            stat_floor([heavy_folder])
            floors.append(time.perf_counter() - started)
        rows.append(
            Row(
                "re-check after one file changed, 1 GB of outputs",
                samples,
                statistics.median(floors),
                "< 100 ms, that file only",
                max(samples) < 0.100 and set(reads) == {1},
                f"files read per check: {sorted(set(reads))}",
            )
        )
        return rows
    finally:
        await db.close()


def measure(server: Server) -> list[Row]:
    project = server.call("POST", "projects", {"tag": "bench-staleness"})["id"]
    pipeline = new_pipeline(server, project, "unchanged-1000")
    ids: list[str] = []
    for _ in range(100):  # 100 chains of 10
        ids += make_nodes(server, pipeline, 10, chain=True)
    run_seconds(server, pipeline)

    # Nothing changed: the run starts no process.
    samples = []
    for _ in range(3):
        run = server.call("POST", f"pipelines/{pipeline}/runs", {})
        started = time.perf_counter()
        while run["status"] not in ("completed", "failed", "cancelled"):
            time.sleep(0.02)
            run = server.call("GET", f"runs/{run['id']}")
        samples.append(time.perf_counter() - started)
        processes = sum(1 for node in run["nodes"] if node["status"] != "skipped")
    rows = [
        Row(
            "run an unchanged 1,000-node pipeline",
            samples,
            None,
            "< 1 s, no process",
            max(samples) < 1.0 and processes == 0,
            f"{processes} nodes executed",
        )
    ]

    heavy_pipeline = new_pipeline(server, project, "heavy")
    (heavy,) = make_nodes(server, heavy_pipeline, 1, chain=False)
    code = Path(server.call("GET", f"nodes/{heavy}")["folder"]) / "code" / "main.py"
    code.write_text(
        "import os\n"
        "block = os.urandom(2**20)\n"
        "for i in range(1024):\n"
        "    open(f'../data/part{i:04d}.bin', 'wb').write(block)\n"
    )
    run_seconds(server, heavy_pipeline)
    rows += asyncio.run(_measure(server, pipeline, ids, heavy))
    return rows
