"""The attempts of a node: start it, wait for its end within its time limit, record how it
ended, pause and try again while its retries allow; and watch to its end a node process that a
previous server started (taken back after a restart)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from ...errors import FusionpipeError
from ...folders import node_folders as folders
from ...folders import parameters
from ...folders import venvs as environments
from ...folders.logs import note
from ...folders.scheduling import Scheduling, format_duration
from ...models import KILLED_BY, NodeKind
from ...runners.base import Execution, NodeJob
from ...store.fingerprints import FingerprintRow
from ...store.run_recovery import LeftRunning
from ..freshness.staleness import NodeNow
from .jobs import metrics_file, node_job
from .leases import TakenOver
from .parts import EngineParts
from .placement import Placement


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
    code: int,
    *,
    killer: str | None,
    timed_out: bool,
    lost: bool,
    timeout: float | None,
    ended_by: str | None = None,
) -> str | None:
    """Why an attempt failed, None when it succeeded; ``ended_by``: the batch scheduler's reason
    for an end it chose (out of memory, preempted...)."""
    if killer:
        return f"{KILLED_BY}{killer}"
    if timed_out:
        assert timeout is not None
        return f"timed out after {format_duration(timeout)}"
    if ended_by:
        return ended_by
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


class Unit(Protocol):
    """What the attempts execute and record: a node (``NodeUnit``), or one item of a mapped
    node (mapped.py)."""

    run_id: str
    node_id: str
    item_id: str | None

    def killer(self) -> str | None:
        """Who killed it meanwhile (None: nobody)."""
        ...

    async def started(
        self, backend: str, pid: int | None, attempt: int, of: int, job_id: str | None
    ) -> None: ...

    async def finished(self, attempt: int, code: int, why: str) -> None: ...

    async def succeed(self) -> bool:
        """It completed: record its outputs; False when a kill ended it first."""
        ...

    async def fail(self, code: int | None, why: str) -> bool:
        """It failed; always False."""
        ...


class NodeUnit:
    """A whole node, recorded in the node's rows."""

    item_id: str | None = None

    def __init__(
        self,
        parts: EngineParts,
        run_id: str,
        pipeline_id: str,
        node_id: str,
        folder: Path,
        *,
        fingerprint: str,
        fingerprint_parts: dict[str, Any],
        by_stat: bool,
    ) -> None:
        self.parts = parts
        self.run_id = run_id
        self.pipeline_id = pipeline_id
        self.node_id = node_id
        self.folder = folder
        self.fingerprint = fingerprint
        self.fingerprint_parts = fingerprint_parts
        self.by_stat = by_stat

    def killer(self) -> str | None:
        return self.parts.running.killer(self.node_id)

    async def started(
        self, backend: str, pid: int | None, attempt: int, of: int, job_id: str | None
    ) -> None:
        await self.parts.recorder.attempt_started(
            self.run_id, self.node_id, backend, pid, attempt, of, job_id
        )

    async def finished(self, attempt: int, code: int, why: str) -> None:
        await self.parts.recorder.attempt_finished(self.run_id, self.node_id, attempt, code, why)

    async def succeed(self) -> bool:
        outputs, learnt = await self.parts.staleness.outputs_now(
            self.node_id, self.folder, by_stat=self.by_stat
        )
        metrics = await asyncio.to_thread(read_metrics, metrics_file(self.folder, self.run_id))
        return await self.parts.recorder.succeed(
            self.run_id,
            self.pipeline_id,
            self.node_id,
            self.fingerprint,
            self.fingerprint_parts,
            outputs,
            learnt=learnt,
            metrics=metrics,
        )

    async def fail(self, code: int | None, why: str) -> bool:
        metrics = await asyncio.to_thread(read_metrics, metrics_file(self.folder, self.run_id))
        return await self.parts.recorder.fail(
            self.run_id, self.pipeline_id, self.node_id, code, why, metrics=metrics
        )


# What a metrics file may hold: a few scalars, not a data set.
MAX_METRICS_BYTES = 64 * 1024


def read_metrics(path: Path) -> dict[str, Any]:
    """The scalars node code recorded; {} when it recorded none or wrote something else."""
    try:
        if path.stat().st_size > MAX_METRICS_BYTES:
            return {}
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(values, dict):
        return {}
    return {
        str(k): v
        for k, v in values.items()
        if isinstance(v, (str, bool, int)) or (isinstance(v, float) and math.isfinite(v))
    }


class Attempts:
    """Executes claimed nodes (and items), attempt after attempt, and watches taken-back
    ones."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts

    async def execute(
        self,
        run_id: str,
        pipeline_id: str,
        row: FingerprintRow,
        now: NodeNow,
        folder: Path,
        plan: Placement,
        gpus: list[str],
    ) -> bool:
        """Run the claimed node, again after a failure as often as its ``retries`` allow;
        ``data/`` stays as the failed attempt left it (checkpoints live there). True when it
        completed."""
        log_path = folder / "logs" / f"{run_id}.log"
        if not await self.parts.environments.ensure(row.id, row.tag, folder, log_path):
            why = "its environment could not be built (see the log)"
            return await self.parts.recorder.fail(run_id, pipeline_id, row.id, None, why)
        env = environments.environment(folder)
        job = node_job(
            self.parts.settings,
            run_id,
            row.id,
            NodeKind(row.kind),
            folder,
            log_path,
            env,
            plan,
            gpus,
        )
        unit = NodeUnit(
            self.parts,
            run_id,
            pipeline_id,
            row.id,
            folder,
            fingerprint=now.fingerprint,
            fingerprint_parts=now.parts.to_json(),
            by_stat=now.scan.outputs_by_stat,
        )
        async with noted_if_taken_over(log_path):
            return await self.attempts(unit, plan, job)

    async def attempts(
        self, unit: Unit, plan: Placement, job: NodeJob, first: Execution | None = None
    ) -> bool:
        """Start the unit's job, and again after a failure while its retries allow. ``first``:
        its first attempt, already started (an item of a job array)."""
        runner, scheduling, log_path = plan.runner, plan.scheduling, job.log_path
        attempts = scheduling.attempts
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await note(log_path, f"\nfusionpipe: attempt {attempt} of {attempts}, {_now()}\n")
            killer = unit.killer()
            if killer is not None and attempt == 1 and first is not None:
                await first.kill()  # submitted with its array, killed before it was watched
            if killer is not None:
                unstarted = f"{KILLED_BY}{killer} before it started"
                await note(log_path, f"fusionpipe: {unstarted}\n")
                return await unit.fail(None, unstarted)
            try:
                execution = first if attempt == 1 and first else await runner.start(job)
            except (OSError, ValueError, FusionpipeError) as err:
                await note(log_path, f"fusionpipe: could not start the node: {err}\n")
                return await unit.fail(None, f"could not start: {err}")
            job_id = getattr(execution, "job_id", None)
            await unit.started(runner.name, execution.pid, attempt, attempts, job_id)
            code, why, killed = await self._await_attempt(
                unit, execution, log_path, attempt, scheduling.timeout
            )
            if why is None:
                return await unit.succeed()
            if attempt == attempts or killed or self.parts.running.stopping(unit.run_id):
                return await unit.fail(code, why)
            killer = await self._pause(unit, log_path, scheduling)
            if killer is not None:
                why = f"{KILLED_BY}{killer} before attempt {attempt + 1} (attempt {attempt}: {why})"
                return await unit.fail(code, why)
        raise AssertionError("unreachable: the last attempt returns")

    async def _pause(self, unit: Unit, log_path: Path, scheduling: Scheduling) -> str | None:
        """Wait ``retry_delay`` before the next attempt; who ended the wait when the node was
        killed, its run cancelled or the server stopped meanwhile (None: go on)."""
        delay = scheduling.retry_delay
        later = f" in {format_duration(delay)}" if delay else ""
        await note(log_path, f"fusionpipe: trying again{later}\n")
        pause = RetryPause()
        with self.parts.running.watching(unit.run_id, unit.node_id, pause, unit.item_id):
            await pause.sleep(delay)
        killer = unit.killer()
        if killer is None and self.parts.running.stopping(unit.run_id):
            killer = "the run stopping"
        if killer is not None:
            await note(log_path, f"fusionpipe: {KILLED_BY}{killer} before it ran again\n")
        return killer

    async def _await_attempt(
        self,
        unit: Unit,
        execution: Execution,
        log_path: Path,
        attempt: int,
        timeout: float | None,
        spent: float = 0.0,
    ) -> tuple[int, str | None, bool]:
        """Wait for an attempt's process (started here, or taken back after a restart and
        ``spent`` seconds old) within its time limit; record how it ended. The exit code, why
        it failed (None: it succeeded) and whether someone killed it."""
        running = self.parts.running
        with running.watching(unit.run_id, unit.node_id, execution, unit.item_id):
            if running.killed_by(unit.node_id):  # killed while it was starting
                await execution.kill()
            ended = await wait_within(execution, None if timeout is None else timeout - spent)
        killer = unit.killer()
        why = failure(
            ended.code,
            killer=killer,
            timed_out=ended.timed_out,
            lost=execution.lost,
            timeout=timeout,
            ended_by=getattr(execution, "why", None),
        )
        await unit.finished(attempt, ended.code, why or "completed")
        await note(log_path, f"\nfusionpipe: {why or 'completed'}\n")
        return ended.code, why, killer is not None

    # -- taken back --------------------------------------------------------------------------

    async def watch_adopted(self, left: LeftRunning, executor: str) -> bool:
        """A node process a previous server started: watch it to its end, within what is left
        of its time limit, then record that as if this server had started it. It is not
        retried: its retries would need the slots and GPUs it held on the server that left."""
        folder = folders.node_path(self.parts.settings.data_path, left.folder)
        log_path = folder / "logs" / f"{left.run_id}.log"
        await note(log_path, f"\nfusionpipe: taken back by the server {executor}\n")
        async with noted_if_taken_over(log_path):
            return await self._watch_adopted(left, folder, log_path)

    async def _watch_adopted(self, left: LeftRunning, folder: Path, log_path: Path) -> bool:
        assert left.fingerprint and left.parts is not None
        unit = NodeUnit(
            self.parts,
            left.run_id,
            left.pipeline_id,
            left.node_id,
            folder,
            fingerprint=left.fingerprint,
            fingerprint_parts=left.parts,
            by_stat=parameters.read_parameters_or_empty(folder).get("fingerprint") == "stat",
        )
        runner = self.parts.runners.by_backend(left.backend or "")
        try:
            if left.job_id:  # a batch job, by its id (its runner is ``detached``: see base.py)
                take_back: Any = runner.take_back
                execution = take_back(left.pid, log_path, job_id=left.job_id)
            else:
                assert left.pid is not None
                execution = runner.take_back(left.pid, log_path)
        except OSError as err:
            problem = f"could not be taken back after a server restart: {err}"
            await note(log_path, f"fusionpipe: {problem}\n")
            return await unit.fail(None, problem)
        plan = self.parts.place(folder)
        started = left.attempt_started_at
        spent = (datetime.now(timezone.utc) - started).total_seconds() if started else 0.0
        code, why, _ = await self._await_attempt(
            unit, execution, log_path, left.attempt, plan.scheduling.timeout, spent
        )
        if why is not None:
            return await unit.fail(code, why)
        return await unit.succeed()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextlib.asynccontextmanager
async def noted_if_taken_over(log_path: Path) -> AsyncIterator[None]:
    """Say in the node's log when another server took its run over meanwhile."""
    try:
        yield
    except TakenOver as lost:
        await note(log_path, f"\nfusionpipe: {lost}; this server no longer records it\n")
        raise
