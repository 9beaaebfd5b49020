"""Slurm: 100 items of a mapped node as one job array on a real single-node Slurm (the tests'
own, tests/slurm_cluster.py), against the same 100 items on the local runner of the same
server in the same run (the floor), and against a bare ``sbatch --array`` of the same script
(the target: what fusionpipe adds to Slurm's own cost of starting 100 tasks).

Needs root and Slurm (scripts/install-system-deps.sh), as the tests do."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .harness import Row, Server
from .items import SCRIPT, grid
from .runs import new_pipeline, run_seconds

ITEMS = 100


def _mapped(server: Server, pipeline: str, run_mode: str) -> None:
    node = server.call("POST", f"pipelines/{pipeline}/nodes", {"tag": f"items-{run_mode}"})
    (Path(node["folder"]) / "code" / "main.py").write_text(SCRIPT)
    content = f"run_mode: {run_mode}\n{grid(ITEMS)}"
    server.call("PUT", f"nodes/{node['id']}/parameters", {"content": content})


def bare_array(folder: Path, env: dict[str, str]) -> float:
    """The same script as a bare job array, submitted to its end, as a script of one's own
    would: Slurm's own cost, which no tool on top of it saves."""
    folder.mkdir()
    (folder / "main.py").write_text(SCRIPT)
    wrap = (
        "mkdir -p out/$SLURM_ARRAY_TASK_ID && FUSIONPIPE_DATA_DIR=out/$SLURM_ARRAY_TASK_ID "
        f'FUSIONPIPE_ITEM="{{\\"i\\": $SLURM_ARRAY_TASK_ID}}" {sys.executable} main.py'
    )
    argv = ["sbatch", "--parsable", f"--chdir={folder}", "--output=/dev/null"]
    started = time.perf_counter()
    job = subprocess.run(
        [*argv, f"--array=0-{ITEMS - 1}", "--wrap", wrap],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    queued = ["squeue", "-h", "-j", job, "-o", "%T"]
    while subprocess.run(queued, env=env, capture_output=True, text=True).stdout.strip():
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    made = len(list((folder / "out").glob("*/out.json")))
    if made != ITEMS:
        raise RuntimeError(f"the bare job array made {made} outputs, not {ITEMS}")
    return elapsed


def measure() -> list[Row]:
    from slurm_cluster import running_cluster  # tests/, on the path the harness sets

    # The server reads where the cluster is from its environment, as on a login node.
    with running_cluster(Path(tempfile.mkdtemp(prefix="fusionpipe-bench-slurm-"))) as cluster:
        server = Server()
        try:
            project = server.call("POST", "projects", {"tag": "bench-slurm"})["id"]
            local = new_pipeline(server, project, "local")
            _mapped(server, local, "local")
            slurm = new_pipeline(server, project, "slurm")
            _mapped(server, slurm, "slurm")
            floor = run_seconds(server, local)
            seconds = run_seconds(server, slurm)
            bare = bare_array(cluster.root / "bare", cluster.env)
        finally:
            server.close()
    return [
        Row(
            f"{ITEMS} items on Slurm against the local runner",
            [seconds],
            floor,
            "< 1.5 x bare array",
            seconds < 1.5 * bare,
            f"bare sbatch --array: {bare:.1f} s; {cluster.cpus} CPUs, polled every 2 s",
        )
    ]
