"""What the Slurm runner submits and reads back. Pure: jobs in, sbatch arguments and task files
out; squeue lines in, states out. No shell string is ever made: the job script is constant
(slurm_job.sh) and reads its task file one value a line."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import Invalid
from ..folders.permissions import NODE_UMASK
from ..folders.scheduling import SlurmOptions
from .base import NodeJob

JOB_SCRIPT = Path(__file__).with_name("slurm_job.sh")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# States of a job that has not ended (squeue's long names).
WAITING = frozenset({"PENDING", "REQUEUED", "RESV_DEL_HOLD", "REQUEUE_HOLD", "REQUEUE_FED"})
LIVE = WAITING | {
    "CONFIGURING",
    "RUNNING",
    "COMPLETING",
    "SUSPENDED",
    "STOPPED",
    "SIGNALING",
    "RESIZING",
    "STAGE_OUT",
    "SPECIAL_EXIT",
}
# An end Slurm chose, in the words a node's reason gives; the code stands in for the exit
# code the job could not record (as if killed by that signal).
SLURM_ENDS = {
    "TIMEOUT": ("timed out (Slurm's time limit)", -15),
    "OUT_OF_MEMORY": ("Slurm: OUT_OF_MEMORY (it used more memory than it asked for)", -9),
    "NODE_FAIL": ("Slurm: NODE_FAIL (its compute node failed)", -9),
    "PREEMPTED": ("Slurm: PREEMPTED (a job of higher priority took its place)", -15),
    "BOOT_FAIL": ("Slurm: BOOT_FAIL (its compute node could not boot)", -9),
    "DEADLINE": ("Slurm: DEADLINE (it could not end before its deadline)", -15),
    "CANCELLED": ("Slurm: CANCELLED (scancel, by someone or Slurm)", -15),
}


@dataclass(frozen=True)
class JobState:
    """A job (or array task) as squeue sees it: state and Slurm's reason."""

    state: str
    reason: str

    @property
    def live(self) -> bool:
        return self.state in LIVE

    def shown(self) -> str:
        """As the panel shows it: "PENDING (Resources)", "RUNNING"."""
        if self.reason and self.reason != "None" and self.state in WAITING:
            return f"{self.state} ({self.reason})"
        return self.state


def parse_queue(text: str) -> dict[str, JobState]:
    """``squeue -h -r -t all -o %i|%T|%r`` as job id ("12", or "12_3" for task 3 of an array)
    → state."""
    found = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 3:
            found[parts[0]] = JobState(parts[1], parts[2])
    return found


def scontrol_exit(text: str) -> int | None:
    """``scontrol -o show job ID``: its exit code ("3:0" → 3, "0:15" → -15), None if none."""
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    code, _, signal = fields.get("ExitCode", "").partition(":")
    if not code.isdigit():
        return None
    return -int(signal) if signal.isdigit() and int(signal) else int(code)


def _line(what: str, value: str) -> str:
    if "\n" in value or "\x00" in value:
        raise Invalid(f"{what} holds a line break, which a Slurm task file cannot carry")
    return value


def task_file(job: NodeJob, exit_path: Path, setup: Sequence[str]) -> str:
    """What slurm_job.sh reads for one job (see it for the order)."""
    variables = []
    for name, value in job.env.items():
        if _NAME.fullmatch(name):  # others cannot be exported by a shell, nor read by one
            variables.append(_line(f"the variable {name}", f"{name}={value}"))
    lines = [
        f"{NODE_UMASK:04o}",
        _line("the node folder", str(job.cwd)),
        _line("the log path", str(job.log_path)),
        _line("the exit file", str(exit_path)),
        str(len(variables)),
        *variables,
        str(len(setup)),
        *(_line("a setup command", command) for command in setup),
        *(_line("an argument", argument) for argument in job.argv),
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SiteOptions:
    """The site's defaults (settings), which a node's ``slurm:`` adds to."""

    partition: str = ""
    account: str = ""
    qos: str = ""
    options: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    max_running: int | None = None

    def merged(self, node: SlurmOptions) -> SlurmOptions:
        return SlurmOptions(
            partition=node.partition or self.partition,
            account=node.account or self.account,
            qos=node.qos or self.qos,
            options=(*self.options, *node.options),
            setup=(*self.setup, *node.setup),
            max_running=node.max_running or self.max_running,
        )


def sbatch_arguments(
    job: NodeJob, options: SlurmOptions, tasks: Path, output: str, array: int | None = None
) -> list[str]:
    """sbatch's command line for ``job`` (the first of an array of ``array`` tasks): its
    resources and time limit, the site's and the node's options, the job script and its task
    folder."""
    resources = job.resources
    argv = [
        "sbatch",
        "--parsable",
        f"--job-name=fusionpipe-{job.node_id}",
        f"--chdir={job.cwd}",
        "--open-mode=append",
        f"--output={output}",
        f"--cpus-per-task={math.ceil(resources.cpus)}",
    ]
    for flag, value in (
        ("partition", options.partition),
        ("account", options.account),
        ("qos", options.qos),
    ):
        if value:
            argv.append(f"--{flag}={value}")
    if resources.memory is not None:
        argv.append(f"--mem={math.ceil(resources.memory / 2**20)}M")
    if resources.gpus:
        argv.append(f"--gpus={resources.gpus}")
    if job.timeout is not None:
        # Slurm counts in minutes; fusionpipe ends the node to the second before that.
        argv.append(f"--time={max(1, math.ceil(job.timeout / 60))}")
    if array is not None:
        throttle = f"%{options.max_running}" if options.max_running else ""
        argv.append(f"--array=0-{array - 1}{throttle}")
    argv += [*options.options, str(JOB_SCRIPT), str(tasks)]
    return argv


def refusal(stderr: str) -> str:
    """sbatch's own words for a refused job: its last error line, without the prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "sbatch failed and said nothing"
    return lines[-1].removeprefix("sbatch: error: ")
