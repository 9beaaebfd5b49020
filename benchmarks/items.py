"""Mapped-node measures: 1,000 items against Snakemake running the same 1,000 jobs, adding one
item to a completed 1,000-item node, and fetching a pipeline that holds a 10,000-item node.

Snakemake runs in an environment of its own, made here with uv (never one of fusionpipe's
dependencies), on the same Python script with the same interpreter: the script reads its
item from ``FUSIONPIPE_ITEM`` and writes to ``FUSIONPIPE_DATA_DIR``, which the Snakefile sets as
fusionpipe does, so both sides start the very same program 1,000 times."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from psycopg.types.json import Jsonb

from .graph_api import bulk_pipeline
from .harness import Row, Server, timed
from .runs import new_pipeline, run_seconds

ITEMS = 1000
WORKERS = 2  # the benchmark server's max_parallel_nodes, and Snakemake's --cores
SNAKEMAKE = "snakemake>=9,<10"
SCRIPT = """\
import json

import fusionpipe

value = fusionpipe.item()["i"]
(fusionpipe.data_dir() / "out.json").write_text(json.dumps({"i": value, "square": value * value}))
"""
SNAKEFILE = """\
import json

rule all:
    input: expand("out/{{i}}/out.json", i=range({items}))

rule one:
    output: "out/{{i}}/out.json"
    params: item=lambda wildcards: json.dumps({{"i": int(wildcards.i)}})
    shell:
        "FUSIONPIPE_ITEM={{params.item:q}} FUSIONPIPE_DATA_DIR=out/{{wildcards.i}} "
        "{python} main.py"
"""


def grid(count: int) -> str:
    return f"map:\n  i: [{', '.join(str(i) for i in range(count))}]\n"


def script_floor(folder: Path) -> float:
    """The item's script run directly, as its item would be: what neither tool can save."""
    (folder / "main.py").write_text(SCRIPT)
    out = folder / "direct"
    out.mkdir()
    env = {**os.environ, "FUSIONPIPE_ITEM": '{"i": 7}', "FUSIONPIPE_DATA_DIR": str(out)}
    samples = timed(
        lambda: subprocess.run(
            [sys.executable, "main.py"], cwd=folder, env=env, check=True, capture_output=True
        ),
        20,
    )
    return statistics.median(samples)


def snakemake_seconds(folder: Path) -> tuple[float, str]:
    """Snakemake running the same 1,000 jobs on ``WORKERS`` cores, from ``snakemake`` to its
    end (its DAG, its scheduling and its bookkeeping included), and its version."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        raise RuntimeError("the Snakemake comparison needs uv (a fusionpipe dependency)")
    venv = folder / "snakemake-venv"
    subprocess.run([uv, "venv", "--quiet", str(venv)], check=True)
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), SNAKEMAKE],
        check=True,
    )
    work = folder / "snakemake"
    work.mkdir()
    (work / "main.py").write_text(SCRIPT)
    (work / "Snakefile").write_text(SNAKEFILE.format(items=ITEMS, python=sys.executable))
    snakemake = str(venv / "bin" / "snakemake")
    version = subprocess.run(
        [snakemake, "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    # The greedy scheduler: Snakemake's default (an ILP solver per round) took 1.7 times as
    # long here, and the comparison is with Snakemake at its fastest.
    argv = [snakemake, "--cores", str(WORKERS), "--scheduler", "greedy", "--quiet", "all"]
    started = time.perf_counter()
    subprocess.run(argv, cwd=work, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    made = len(list((work / "out").glob("*/out.json")))
    if made != ITEMS:
        raise RuntimeError(f"Snakemake made {made} outputs, not {ITEMS}")
    return elapsed, version


def mapped_node(server: Server, pipeline: str) -> tuple[str, Path]:
    node = server.call("POST", f"pipelines/{pipeline}/nodes", {"tag": "items"})
    folder = Path(node["folder"])
    (folder / "code" / "main.py").write_text(SCRIPT)
    server.call("PUT", f"nodes/{node['id']}/parameters", {"content": grid(ITEMS)})
    return str(node["id"]), folder


def item_counts(server: Server, pipeline: str, node_id: str) -> dict[str, int]:
    graph = server.call("GET", f"pipelines/{pipeline}")
    (node,) = [n for n in graph["nodes"] if n["id"] == node_id]
    return dict(node["items"])


def add_one_item(server: Server, pipeline: str, node_id: str, folder: Path, count: int):
    """Declare item ``count`` on top of the ``count`` completed ones, run, and say how many
    processes the run started (the item logs it wrote) and how long it planned (from the run's
    creation to its first item starting, both by the server's clock)."""
    server.call("PUT", f"nodes/{node_id}/parameters", {"content": grid(count + 1)})
    run = server.call("POST", f"pipelines/{pipeline}/runs", {})
    while run["status"] not in ("completed", "failed", "cancelled"):
        time.sleep(0.1)
        run = server.call("GET", f"runs/{run['id']}")
    if run["status"] != "completed":
        raise RuntimeError(f"benchmark run {run['id']} ended {run['status']}")
    started = len(list((folder / "logs" / "items").glob(f"*/{run['id']}.log")))
    with server.sql() as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM min(i.started_at) - r.created_at)::float8 "
            "FROM run_items i JOIN runs r ON r.id = i.run_id WHERE r.id = %s GROUP BY r.created_at",
            (run["id"],),
        ).fetchone()
    if row is None:
        raise RuntimeError(f"benchmark run {run['id']} started no item")
    return started, row[0]


def many_items(server: Server, node_id: str, count: int) -> None:
    """``count`` completed items for a node, inserted with SQL as graph_api builds its large
    pipelines: running them would take minutes and measure nothing the fetch cares about."""
    with server.sql() as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO node_items (node_id, item_id, position, item_values, status) "
            "VALUES (%s, %s, %s, %s, 'completed')",
            [(node_id, f"i={i}", i, Jsonb({"i": i})) for i in range(count)],
        )
        cur.execute("ANALYZE")


def measure(server: Server, node_overhead: float) -> list[Row]:
    """``node_overhead``: what the run engine adds to each of many independent no-op nodes on
    the same workers (``runs.parallel_overhead``), which an item must beat."""
    project = server.call("POST", "projects", {"tag": "bench-items"})["id"]
    scratch = Path(tempfile.mkdtemp(prefix="fusionpipe-bench-items-"))
    rows: list[Row] = []
    try:
        floor = script_floor(scratch)
        pipeline = new_pipeline(server, project, "items-1000")
        node_id, folder = mapped_node(server, pipeline)
        seconds = run_seconds(server, pipeline)
        completed = item_counts(server, pipeline, node_id)["completed"]
        smk_seconds, version = snakemake_seconds(scratch)
        per_item = WORKERS * seconds / ITEMS - floor
        per_job = WORKERS * smk_seconds / ITEMS - floor
        rows.append(
            Row(
                f"a node mapped over {ITEMS:,} items, {WORKERS} workers",
                [seconds],
                smk_seconds,
                "< Snakemake; overhead per item < per node",
                completed == ITEMS and seconds < smk_seconds and per_item < node_overhead,
                f"overhead {per_item * 1e3:.1f} ms per item, {node_overhead * 1e3:.1f} ms per "
                f"node (200 independent, {WORKERS} workers), Snakemake {per_job * 1e3:.1f} ms "
                f"per job; floor: Snakemake {version}",
            )
        )

        added = [add_one_item(server, pipeline, node_id, folder, ITEMS + k) for k in range(5)]
        processes = {started for started, _ in added}
        planning = [plan for _, plan in added]
        rows.append(
            Row(
                f"add 1 item to a completed {ITEMS:,}-item node and run",
                planning,
                floor,
                "1 process; planning < 200 ms",
                processes == {1} and statistics.median(planning) < 0.200,
                f"processes started per run: {sorted(processes)}; floor: the script alone",
            )
        )

        big, ids = bulk_pipeline(server, project, 1000, tag="bulk-1000-items")
        plain = timed(lambda: server.call("GET", f"pipelines/{big}"), 30)
        many_items(server, ids[500], 10 * ITEMS)
        fetched = server.call("GET", f"pipelines/{big}")
        (holder,) = [n for n in fetched["nodes"] if n["id"] == ids[500]]
        counted_only = holder["items"]["total"] == 10 * ITEMS and all(
            isinstance(value, int) for value in holder["items"].values()
        )
        fetch = timed(lambda: server.call("GET", f"pipelines/{big}"), 30)
        rows.append(
            Row(
                "fetch a 1,000-node pipeline holding a 10,000-item node",
                fetch,
                statistics.median(plain),
                "p50 < 60 ms, items counted",
                statistics.median(fetch) < 0.060 and counted_only,
                "floor: the same pipeline before its items",
            )
        )
        rows.append(Row("floor: the item's script run directly", [floor], None, "-", None))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows
