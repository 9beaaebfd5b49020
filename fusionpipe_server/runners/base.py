"""What every backend is given and must offer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..folders.scheduling import Resources, SlurmOptions


@dataclass(frozen=True)
class NodeJob:
    """One node to execute: the command, where, with which environment, logging where."""

    run_id: str
    node_id: str
    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str]
    log_path: Path
    # What the node asked for in node_parameters.yaml (resources:). A runner whose nodes run
    # on this machine (``local``) has them counted by fusionpipe before ``start``; any
    # other passes them on to where it runs nodes, and refuses (raises) what can never be met.
    resources: Resources = field(default_factory=Resources)
    # Its time limit in seconds (None: none), which fusionpipe enforces whatever the runner;
    # a batch scheduler's runner asks for it too (rounded up to its granularity).
    timeout: float | None = None
    # What it asks of Slurm (slurm: in node_parameters.yaml); other runners ignore it.
    slurm: SlurmOptions = field(default_factory=SlurmOptions)


class Execution(Protocol):
    """A started node. A batch scheduler's execution may also have ``job_id`` (its job, recorded
    to take it back after a restart), ``state`` (the scheduler's word for it now, such as
    "PENDING (Resources)") and ``why`` (the scheduler's reason for an end, such as "Slurm:
    OUT_OF_MEMORY"): read with getattr, absent elsewhere."""

    pid: int | None
    # Whether the process goes on when the server stops (to be taken back by the next one).
    outlives_server: bool
    # Ended with no exit code to say how (it ended while no server watched it).
    lost: bool

    async def wait(self) -> int:
        """Wait for the end; the exit code (negative: killed by that signal)."""
        ...

    async def kill(self) -> None:
        """End the node and every process it started."""
        ...


class NodeRunner(Protocol):
    """An execution backend. The one of ``run_mode: local`` nodes is a setting
    (``FusionpipeApp.runner_class``); ``run_mode: ray`` nodes run on Ray."""

    # Recorded as each node execution's backend; a name is how a restarted server finds the
    # runner that started a node, to take it back.
    name: str
    # Its nodes run on this machine: fusionpipe hands them CPU slots (max_parallel_nodes) and
    # GPUs (CUDA_VISIBLE_DEVICES) before ``start``, never a GPU two nodes at once.
    local: bool
    # Optional, read with getattr: ``site_setup``, the shell commands it runs before every
    # node (Slurm's ``module load ...``); they count in its nodes' fingerprints.

    async def start(self, job: NodeJob) -> Execution:
        """Start the node's command (``job.argv`` in ``job.cwd`` with ``job.env``, output
        appended to ``job.log_path``) and return at once. A ``FusionpipeError`` or ``OSError``
        fails the node with its message."""
        ...

    def take_back(self, pid: int, log_path: Path) -> Execution:
        """A node this backend started before the server restarted (service/runs/recovery.py);
        an ``OSError`` when it cannot be taken back (the node is then marked failed). A batch
        scheduler's runner says ``detached = True``: its executions have a ``job_id``, and it
        takes them back by it (``take_back(pid, log_path, job_id=...)``), and cancels by it a
        job it cannot take back (``cancel(job_id)``: a mapped node's job array)."""
        ...
