"""How a node is to run, decided before it is claimed: its runner, its scheduling, the local
slots it holds meanwhile, or why it can never run as asked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ...core.mapping import Declaration
from ...errors import Invalid
from ...folders import parameters
from ...folders.scheduling import Scheduling
from ...runners.base import NodeRunner
from ...runners.registry import Runners
from .slots import Need, SlotPool


@dataclass(frozen=True)
class Placement:
    """How a node is to run: its runner, scheduling, the local slots it holds meanwhile, and
    why it cannot run at all (``problem``), decided before it is claimed."""

    runner: NodeRunner
    scheduling: Scheduling
    need: Need
    problem: str | None = None
    # A mapped node's declaration: its items run one by one, each holding ``need``.
    mapped: Declaration | None = None


def _machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def place_node(folder: Path, default_mode: str, runners: Runners, pool: SlotPool) -> Placement:
    """Read the node's run mode and scheduling; a local node holds its CPUs and GPUs, a batch
    scheduler's none, any other one slot (``max_parallel_nodes`` bounds what this server
    starts at once). A
    request a local run can never meet is a ``problem``: the node fails at once rather than
    waiting forever."""
    try:
        mode, scheduling, mapped = parameters.read_run_settings(folder, default_mode)
    except (Invalid, OSError) as err:
        message = err.message if isinstance(err, Invalid) else str(err)
        return Placement(runners[default_mode], Scheduling(), Need(), message)
    runner = runners[mode]
    resources = scheduling.resources
    if getattr(runner, "detached", False):
        # A batch scheduler (Slurm) queues its jobs itself, across its cluster: this server
        # holding a slot for each would throttle 500 jobs to max_parallel_nodes at a time.
        return Placement(runner, scheduling, Need(0, 0), mapped=mapped)
    if not runner.local:
        return Placement(runner, scheduling, Need(), mapped=mapped)
    need = Need(resources.cpus, resources.gpus)
    problem = pool.problem(need)
    if problem is None and resources.custom:
        name = next(iter(resources.custom))
        problem = f"it asks for the Ray resource {name!r}: local runs have none (run_mode: ray)"
    if problem is None and resources.memory is not None and resources.memory > _machine_memory():
        problem = (
            f"it asks for {resources.memory / 2**30:,.1f} GiB of memory and this machine has "
            f"{_machine_memory() / 2**30:,.1f} GiB"
        )
    if problem is not None:
        return Placement(runner, scheduling, Need(), problem, mapped)
    return Placement(runner, scheduling, need, mapped=mapped)
