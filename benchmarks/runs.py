"""Run measures: orchestration overhead per node, parallel speed-up, Ray against local."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from .harness import Row, Server, timed

FAN = "200 independent no-op nodes, 2 workers"
FAN_NODES = 200
FAN_WORKERS = 2  # the benchmark server's max_parallel_nodes
SPAWN_FLOOR = "floor: spawn python -c pass"


def spawn_floor() -> float:
    """What starting a Python process costs on this machine right now."""
    samples = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 20)
    return statistics.median(samples)


def make_nodes(server: Server, pipeline: str, count: int, *, chain: bool, mode: str = "local"):
    ids: list[str] = []
    for index in range(count):
        node = server.call("POST", f"pipelines/{pipeline}/nodes", {"tag": f"n{index}"})
        # Code of its own: identical no-op nodes would share a fingerprint, and all but the
        # first would be restored from the output cache instead of run.
        (Path(node["folder"]) / "code" / "main.py").write_text(f"# {node['id']}\n")
        if mode != "local":
            server.call("PUT", f"nodes/{node['id']}/parameters", {"content": f"run_mode: {mode}\n"})
        if chain and ids:
            server.call(
                "POST", f"pipelines/{pipeline}/edges", {"source": ids[-1], "target": node["id"]}
            )
        ids.append(node["id"])
    return ids


def run_seconds(server: Server, pipeline: str, body: dict[str, Any] | None = None) -> float:
    """How long a run took, by the server's own clock (request to last node finished).

    Polled slowly: frequent polling would load the event loop that schedules the run."""
    run = server.call("POST", f"pipelines/{pipeline}/runs", body or {})
    while run["status"] not in ("completed", "failed", "cancelled"):
        time.sleep(0.2)
        run = server.call("GET", f"runs/{run['id']}")
    if run["status"] != "completed":
        raise RuntimeError(f"benchmark run {run['id']} ended {run['status']}")
    created = datetime.fromisoformat(run["created_at"])
    return (datetime.fromisoformat(run["finished_at"]) - created).total_seconds()


def new_pipeline(server: Server, project: str, tag: str) -> str:
    return str(server.call("POST", "pipelines", {"project_id": project, "tag": tag})["id"])


def measure(server: Server, *, with_ray: bool) -> list[Row]:
    floor = spawn_floor()
    project = server.call("POST", "projects", {"tag": "bench-runs"})["id"]
    rows = []

    chain = new_pipeline(server, project, "chain-200")
    make_nodes(server, chain, 200, chain=True)
    per_node = run_seconds(server, chain) / 200
    overhead = per_node - floor
    rows.append(
        Row(
            "run overhead per no-op node, 200-node chain",
            [overhead],
            floor,
            "< 2 x spawn",
            overhead < 2 * floor,
            f"{per_node * 1e3:.1f} ms per node in all",
        )
    )

    fan = new_pipeline(server, project, "fan-200")
    ids = make_nodes(server, fan, FAN_NODES, chain=False)
    parallel = run_seconds(server, fan)
    server.call("POST", f"pipelines/{fan}/status", {"node_ids": ids, "status": "staledata"})
    # The same nodes one by one: each its own run, so nothing overlaps.
    one_by_one = sum(run_seconds(server, fan, {"node_ids": [node]}) for node in ids)
    speedup = one_by_one / parallel
    rows.append(
        Row(
            FAN,
            [parallel],
            None,
            ">= 1.8 x one by one",
            speedup >= 1.8,
            f"{speedup:.2f}x faster",
        )
    )

    if with_ray:
        local = new_pipeline(server, project, "chain-10-local")
        make_nodes(server, local, 10, chain=True)
        ray = new_pipeline(server, project, "chain-10-ray")
        ray_ids = make_nodes(server, ray, 10, chain=True, mode="ray")
        run_seconds(server, ray)  # warm Ray up: started on first use
        server.call("POST", f"pipelines/{ray}/status", {"node_ids": ray_ids, "status": "staledata"})
        local_time = run_seconds(server, local)
        ray_time = run_seconds(server, ray)
        rows.append(
            Row(
                "10-node chain on Ray (warm)",
                [ray_time],
                local_time,
                "< 3 x local",
                ray_time < 3 * local_time,
                "floor: the same chain run locally",
            )
        )
    rows.append(Row(SPAWN_FLOOR, [floor], None, "-", None))
    return rows


def parallel_overhead(rows: list[Row]) -> float:
    """What the engine adds to each node of the 200 independent no-op nodes on 2 workers: the
    worker time each took, less starting its Python. Items are compared with it (items.py): the
    same workers, the same contention for the two cores with the server."""
    (fan,) = [row for row in rows if row.measure == FAN]
    (spawn,) = [row for row in rows if row.measure == SPAWN_FLOOR]
    return FAN_WORKERS * fan.median / FAN_NODES - spawn.median
