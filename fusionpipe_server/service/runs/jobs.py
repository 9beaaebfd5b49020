"""What a node execution is given: its command line, working folder and environment."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fp_user_utils
import fusionpipe

from ...folders import kernels
from ...folders import venvs as environments
from ...models import NodeKind
from ...runners.base import NodeJob
from ...runners.commands import node_command
from ...runners.node_environment import node_environment
from ..common import Settings
from .placement import Placement


@dataclass(frozen=True)
class ItemJob:
    """One item of a mapped node, as its execution is told."""

    id: str
    values: dict[str, Any]
    along: str | None  # the input slot it follows item by item


def metrics_file(folder: Path, run_id: str, item_id: str | None = None) -> Path:
    """Where node code's ``fusionpipe.metrics()`` puts what it records in this run."""
    if item_id is None:
        return folder / "logs" / f"{run_id}.metrics.json"
    return item_logs(folder, item_id) / f"{run_id}.metrics.json"


def item_logs(folder: Path, item_id: str) -> Path:
    """The folder of an item's logs, one per run."""
    return folder / "logs" / "items" / item_id


def node_job(
    settings: Settings,
    run_id: str,
    node_id: str,
    kind: NodeKind,
    folder: Path,
    log_path: Path,
    env: environments.Environment,
    plan: Placement,
    gpus: list[str],
    item: ItemJob | None = None,
) -> NodeJob:
    """The command, folder and environment variables of one node execution (of one ``item``
    of a mapped node): what a program needs and never the server's secrets, on the node's own
    environment when it has one, with the GPUs it holds (local runners) or those its runner
    chooses (Ray)."""
    variables = {
        **node_environment(os.environ),
        "FUSIONPIPE_NODE_FOLDER": str(folder),
        "FUSIONPIPE_NODE_ID": node_id,
        "FUSIONPIPE_RUN_ID": run_id,
        "PYTHONUNBUFFERED": "1",
        # Notebooks run on the node's own kernel, found among the node kernels.
        "FUSIONPIPE_KERNEL": kernels.kernel_name(node_id),
        # Where the original fusionpipe's MATLAB code finds its helpers (genpath).
        "USER_UTILS_FOLDER_PATH": str(fp_user_utils.matlab_path().parent),
        "JUPYTER_PATH": os.pathsep.join(
            filter(
                None,
                [
                    str(kernels.kernels_dir(settings.data_path).parent),
                    os.environ.get("JUPYTER_PATH", ""),
                ],
            )
        ),
    }
    variables["FUSIONPIPE_METRICS_FILE"] = str(
        metrics_file(folder, run_id, item.id if item else None)
    )
    executed_notebook = folder / "reports" / f"main-{run_id}.ipynb"
    if item is not None:
        # The contract with node code (the fusionpipe package, fp_item.m): which item, its
        # values, its own outputs folder, and the input slot it follows item by item.
        variables["FUSIONPIPE_ITEM_ID"] = item.id
        variables["FUSIONPIPE_ITEM"] = json.dumps(item.values)
        variables["FUSIONPIPE_DATA_DIR"] = str(folder / "data" / item.id)
        if item.along:
            variables["FUSIONPIPE_ALONG"] = item.along
        executed_notebook = folder / "reports" / "items" / item.id / f"main-{run_id}.ipynb"
    if plan.runner.local:
        # Only the GPUs it holds: never one another node holds (none when it asked none).
        variables["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
    else:
        # The runner (Ray) chooses the GPUs where the node runs.
        variables.pop("CUDA_VISIBLE_DEVICES", None)
    python = sys.executable
    if env.state == "ready":
        python = str(env.venv / "bin" / "python")
        variables["VIRTUAL_ENV"] = str(env.venv)
        variables["PATH"] = os.pathsep.join([str(env.venv / "bin"), os.environ.get("PATH", "")])
    argv = node_command(
        kind,
        code_dir=folder / "code",
        executed_notebook=executed_notebook,
        matlab_helpers=fusionpipe.matlab_path(),
        matlab_runner=settings.matlab_runner_path,
        python=python,
    )
    return NodeJob(
        run_id,
        node_id,
        argv,
        folder / "code",
        variables,
        log_path,
        resources=plan.scheduling.resources,
        timeout=plan.scheduling.timeout,
        slurm=plan.scheduling.slurm,
    )
