"""The Slurm backend: a node is an ``sbatch`` job, a mapped node's items one job array.

Jobs are submitted as the user whose server runs (munge says who), with the constant job script
slurm_job.sh reading a task file written next to the node's logs on the shared data folder. The
script records the node's exit code next to its log, as the local runner's wrapper does: that
file, and squeue, say how a job ended, with no accounting database (sacct) needed. Jobs are
detached by nature: a restarted server takes them back by job id (service/runs/recovery.py).
One squeue call a poll interval serves every job this server watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from traitlets import Float, Integer, List, Unicode, default
from traitlets.config import Configurable

from ..errors import Conflict, Unavailable
from ..folders.permissions import closed_to_others, make_folder
from .base import NodeJob
from .local import exit_file, recorded_exit
from .node_environment import node_environment
from .slurm_tasks import (
    SLURM_ENDS,
    JobState,
    SiteOptions,
    parse_queue,
    refusal,
    sbatch_arguments,
    scontrol_exit,
    task_file,
)

log = logging.getLogger(__name__)

# How long a Slurm command may take before the cluster counts as not answering.
COMMAND_SECONDS = 60.0


async def slurm_command(argv: Sequence[str], env: dict[str, str] | None = None) -> str:
    """Run a Slurm client command (argv, no shell); its output, or ``Unavailable`` with its
    words when it fails. ``Conflict`` when sbatch refuses a job."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except OSError as err:
        raise Unavailable(f"cannot run {argv[0]} (is Slurm installed here?): {err}") from err
    try:
        out, errors = await asyncio.wait_for(process.communicate(), COMMAND_SECONDS)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise Unavailable(f"{argv[0]} did not answer within {COMMAND_SECONDS:g}s") from None
    if process.returncode != 0:
        words = refusal(errors.decode(errors="replace"))
        if argv[0] == "sbatch":
            raise Conflict(f"Slurm refused it: {words}")
        raise Unavailable(f"{argv[0]} failed: {words}")
    return out.decode(errors="replace")


class SlurmQueue:
    """What squeue says of this user's jobs, asked at most once a poll interval whoever asks."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._seen: dict[str, JobState] = {}
        self._failure: Unavailable | None = None
        self._at = -float("inf")
        self._lock = asyncio.Lock()

    async def states(self, since: float = -float("inf")) -> dict[str, JobState]:
        """Job id → state; ``Unavailable`` when squeue failed (told once an interval too).
        ``since``: a look taken before then (``time.monotonic``) is not used, however recent:
        a job submitted after it is missing from it without having ended."""
        async with self._lock:
            if time.monotonic() - self._at >= self.interval / 2 or self._at < since:
                self._at = time.monotonic()
                try:
                    text = await slurm_command(
                        ["squeue", "--me", "-h", "-r", "-t", "all", "-o", "%i|%T|%r"]
                    )
                except Unavailable as err:
                    self._failure = err
                else:
                    self._seen, self._failure = parse_queue(text), None
            if self._failure is not None:
                raise self._failure
            return self._seen


class SlurmExecution:
    """A job, or one task of an array (``job_id`` "12_3"), submitted here or taken back."""

    pid: int | None = None  # the process lives on a compute node
    outlives_server = True  # a job does not depend on the server that submitted it
    backend = "slurm"

    def __init__(self, runner: SlurmRunner, job_id: str, log_path: Path) -> None:
        self.runner = runner
        self.job_id = job_id
        self.log_path = log_path
        self.lost = False
        # Since when squeue must know it: a job missing from an older look has not ended.
        self.known_since = time.monotonic()
        # Slurm's word for it now ("PENDING (Resources)", "RUNNING"); its reason for an end.
        self.state = "PENDING"
        self.why: str | None = None

    async def wait(self) -> int:
        """The node's exit code, from the exit file its job script writes; Slurm's end state
        when the script could not write one (killed, timed out, out of memory)."""
        while True:
            code = recorded_exit(self.log_path)
            if code is not None:
                self.state = "COMPLETED" if code == 0 else "FAILED"
                return code
            try:
                seen = (await self.runner.queue.states(self.known_since)).get(self.job_id)
            except Unavailable as err:
                # slurmctld restarting, say: the job goes on meanwhile; look again later.
                log.warning("fusionpipe: cannot see Slurm job %s now: %s", self.job_id, err)
            else:
                if seen is None or not seen.live:
                    return await self._ended(seen)
                self.state = seen.shown()
            await asyncio.sleep(self.runner.poll_seconds)

    async def _ended(self, seen: JobState | None) -> int:
        # The script may have written its file between the two looks.
        code = recorded_exit(self.log_path)
        if code is not None:
            return code
        if seen is None:
            # Slurm forgot it (past MinJobAge) and it recorded nothing: how it ended is lost.
            self.lost, self.state = True, "UNKNOWN"
            return -9
        self.state = seen.state
        if seen.state in SLURM_ENDS:
            self.why, code = SLURM_ENDS[seen.state]
            return code
        with contextlib.suppress(Unavailable):
            text = await slurm_command(["scontrol", "-o", "show", "job", self.job_id])
            code = scontrol_exit(text)
            if code is not None:
                return code
        self.why = f"Slurm: {seen.state}"
        return -9

    async def kill(self) -> None:
        """scancel, with every other job killed at the same moment (a whole array); wait()
        sees the job end."""
        self.runner.cancel(self.job_id)


class SlurmRunner(Configurable):
    """Site settings (traitlets, each with an environment default) and the submission."""

    name = "slurm"
    local = False  # Slurm places the job and holds its resources
    detached = True  # its jobs go on without the server, which takes them back by job id

    partition = Unicode(
        help="Slurm partition of nodes that name none. Defaults to $FP_SLURM_PARTITION."
    ).tag(config=True)
    account = Unicode(help="Slurm account jobs are charged to. Defaults to $FP_SLURM_ACCOUNT.").tag(
        config=True
    )
    qos = Unicode(help="Slurm quality of service. Defaults to $FP_SLURM_QOS.").tag(config=True)
    options = List(
        Unicode(),
        help="""Extra sbatch options for every job, each one argument ("--constraint=cpu").
        Defaults to $FP_SLURM_OPTIONS, split on spaces.""",
    ).tag(config=True)
    setup = List(
        Unicode(),
        help="""Shell commands every job runs before the node (module load ...), before the
        node's own (slurm.setup). Both count in the node's fingerprint: a change here makes
        every completed Slurm node stale. Defaults to $FP_SLURM_SETUP, one command a line.""",
    ).tag(config=True)
    max_running = Integer(
        0,
        help="""The most items of a mapped node running at once (the job array's %N), 0: as
        many as Slurm allows. A node's slurm.max_running comes first.""",
    ).tag(config=True)
    poll_seconds = Float(
        help="""Seconds between two looks at the queue (one squeue call for every job).
        Defaults to $FP_SLURM_POLL_SECONDS, else 2.""",
    ).tag(config=True)

    @default("poll_seconds")
    def _default_poll_seconds(self) -> float:
        return float(os.environ.get("FP_SLURM_POLL_SECONDS", "2"))

    @default("partition")
    def _default_partition(self) -> str:
        return os.environ.get("FP_SLURM_PARTITION", "")

    @default("account")
    def _default_account(self) -> str:
        return os.environ.get("FP_SLURM_ACCOUNT", "")

    @default("qos")
    def _default_qos(self) -> str:
        return os.environ.get("FP_SLURM_QOS", "")

    @default("options")
    def _default_options(self) -> list[str]:
        return os.environ.get("FP_SLURM_OPTIONS", "").split()

    @default("setup")
    def _default_setup(self) -> list[str]:
        return [line for line in os.environ.get("FP_SLURM_SETUP", "").splitlines() if line]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.queue = SlurmQueue(self.poll_seconds)
        self._cancelling: set[str] = set()
        self._flush: asyncio.Task[None] | None = None

    @property
    def site_setup(self) -> tuple[str, ...]:
        """What it runs before every node: counted in their fingerprints (runners/base.py)."""
        return tuple(self.setup)

    @property
    def site(self) -> SiteOptions:
        return SiteOptions(
            self.partition,
            self.account,
            self.qos,
            tuple(self.options),
            tuple(self.setup),
            self.max_running or None,
        )

    async def start(self, job: NodeJob) -> SlurmExecution:
        return (await self.start_array([job]))[0]

    async def start_array(self, jobs: Sequence[NodeJob]) -> list[SlurmExecution]:
        """Several jobs of one node (its items) as one job array, submitted at once: task i runs
        ``jobs[i]``. One job alone is a plain job."""
        first = jobs[0]
        options = self.site.merged(first.slurm)
        tasks = first.log_path.parent / "slurm" / f"{first.run_id}-{secrets.token_hex(4)}"
        await asyncio.to_thread(self._write_tasks, jobs, tasks, options.setup)
        array = len(jobs) if len(jobs) > 1 else None
        output = str(tasks / "%a.out") if array else str(first.log_path)
        argv = sbatch_arguments(first, options, tasks, output, array)
        # sbatch passes its own environment to the job: never the server's secrets (the task
        # file sets the node's variables).
        env = node_environment(os.environ)
        job_id = (await slurm_command(argv, env)).strip().split(";")[0]
        if array is None:
            return [SlurmExecution(self, job_id, first.log_path)]
        return [SlurmExecution(self, f"{job_id}_{i}", job.log_path) for i, job in enumerate(jobs)]

    def _write_tasks(self, jobs: Sequence[NodeJob], tasks: Path, setup: Sequence[str]) -> None:
        make_folder(tasks, parents=True, exist_ok=True)
        for index, job in enumerate(jobs):
            make_folder(job.log_path.parent, parents=True, exist_ok=True)
            exit_file(job.log_path).unlink(missing_ok=True)
            text = task_file(job, exit_file(job.log_path), setup)
            with open(tasks / str(index), "w", encoding="utf-8", opener=closed_to_others) as out:
                out.write(text)

    def take_back(
        self, pid: int | None, log_path: Path, job_id: str | None = None
    ) -> SlurmExecution:
        """A job this backend submitted before the server restarted, by its job id."""
        if not job_id:
            raise OSError("no Slurm job id was recorded for it")
        return SlurmExecution(self, job_id, log_path)

    def cancel(self, job_id: str) -> None:
        """scancel ``job_id`` soon, together with every job killed in the same turn of the
        event loop: killing a mapped node kills its items one by one, and Slurm hears one
        scancel for them all."""
        self._cancelling.add(job_id)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._cancel_all())

    async def _cancel_all(self) -> None:
        await asyncio.sleep(0)
        ids, self._cancelling = sorted(self._cancelling), set()
        try:
            await slurm_command(["scancel", *ids])
        except Unavailable:
            # The jobs run on; the node's time limit or the next kill tries again.
            log.exception("fusionpipe: could not cancel the Slurm jobs %s", ", ".join(ids))
