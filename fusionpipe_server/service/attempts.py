"""One attempt of a node: what it needs before it may start, waiting for its end within its
time limit, how it ended, and the pause before a retry."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import Invalid
from ..nodes import parameters
from ..nodes.scheduling import Scheduling, format_duration
from ..runners.base import Execution, NodeRunner
from .slots import Need, SlotPool


@dataclass(frozen=True)
class NodePlan:
    """How a node is to run: its runner, scheduling, the local slots it holds meanwhile, and
    why it cannot run at all (``problem``), decided before it is claimed."""

    runner: NodeRunner
    scheduling: Scheduling
    need: Need
    problem: str | None = None


def _machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def plan_node(
    folder: Path, default_mode: str, runners: dict[str, NodeRunner], pool: SlotPool
) -> NodePlan:
    """Read the node's run mode and scheduling; a local node holds its CPUs and GPUs, any
    other one slot (``max_parallel_nodes`` bounds what this server starts at once). A
    request a local run can never meet is a ``problem``: the node fails at once rather than
    waiting forever."""
    try:
        mode, scheduling = parameters.read_run_settings(folder, default_mode)
    except (Invalid, OSError) as err:
        message = err.message if isinstance(err, Invalid) else str(err)
        return NodePlan(runners[default_mode], Scheduling(), Need(), message)
    runner = runners[mode]
    resources = scheduling.resources
    if not runner.local:
        return NodePlan(runner, scheduling, Need())
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
        return NodePlan(runner, scheduling, Need(), problem)
    return NodePlan(runner, scheduling, need)


@dataclass(frozen=True)
class Ended:
    code: int
    timed_out: bool


async def wait_within(execution: Execution, seconds: float | None) -> Ended:
    """Wait for the execution's end; past ``seconds`` (None: no limit) kill its whole process
    tree and wait for that."""
    waiting = asyncio.ensure_future(execution.wait())
    try:
        limit = None if seconds is None else max(0.0, seconds)
        done, _ = await asyncio.wait({waiting}, timeout=limit)
        if done:
            return Ended(waiting.result(), False)
        await execution.kill()
        return Ended(await waiting, True)
    finally:
        if not waiting.done():
            waiting.cancel()


def failure(
    code: int, *, killer: str | None, timed_out: bool, lost: bool, timeout: float | None
) -> str | None:
    """Why an attempt failed, None when it succeeded."""
    if killer:
        return f"killed by {killer}"
    if timed_out:
        assert timeout is not None
        return f"timed out after {format_duration(timeout)}"
    if lost:
        return "its process ended while no server watched it, leaving no exit code"
    if code != 0:
        return f"exit code {code}"
    return None


class RetryPause:
    """The wait before a retry. It stands in the engine's executions meanwhile, so that a kill
    or a cancel ends the wait (and the node) as it would end a process."""

    pid: int | None = None
    outlives_server = False
    lost = False

    def __init__(self) -> None:
        self._ended = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less when killed."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._ended.wait(), seconds)

    async def wait(self) -> int:
        await self._ended.wait()
        return 0

    async def kill(self) -> None:
        self._ended.set()
