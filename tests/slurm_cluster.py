"""A real single-node Slurm on loopback: its own munged, slurmctld and slurmd, all in a scratch
folder, with their own ports, socket, key, state and logs.

It shares nothing with a Slurm or munge the machine may run: the daemons are told every path
(munged its socket, key and pid file; Slurm its slurm.conf, which the client tools read through
``SLURM_CONF``), and each is stopped by the pid it wrote, whatever happens. As root only (the
daemons need it), which the tests and CI are.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_process import free_port

SBIN = Path("/usr/sbin")
# How long each daemon gets to write its pid file, and the node to come up idle.
START_SECONDS = 30.0
STOP_GRACE_SECONDS = 5.0
# The node's memory as Slurm sees it: modest, so that a job asking for more is refused.
NODE_MEMORY_MIB = 4000

_CONF = """\
ClusterName=fusionpipe-test
SlurmctldHost=localhost
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
# An impossible request (too many CPUs, too much memory) is refused by sbatch at once.
EnforcePartLimits=ALL
# Schedule as soon as a job is submitted or ends: by default Slurm waits seconds between passes,
# which a test of a few short jobs spends mostly waiting.
SchedulerParameters=sched_min_interval=0,batch_sched_delay=0
# Ended jobs stay in scontrol this long: how a test sees their end state without sacct.
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory}
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


class SlurmCluster:
    """munged, slurmctld and slurmd in ``root``; ``env`` is what a client needs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf = root / "slurm.conf"
        self.cpus = os.cpu_count() or 1
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self._pid_files = [root / "slurmd.pid", root / "slurmctld.pid", root / "munged.pid"]

    def start(self) -> None:
        # Readable by all: node jobs of other users would reach the munge socket through it.
        self.root.mkdir(mode=0o755, parents=True, exist_ok=True)
        for sub in ("state", "spool"):
            (self.root / sub).mkdir(exist_ok=True)
        key = self.root / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self.conf.write_text(
            _CONF.format(
                root=self.root,
                ctld_port=free_port(),
                slurmd_port=free_port(),
                cpus=self.cpus,
                memory=NODE_MEMORY_MIB,
            )
        )
        self._daemon(
            [
                str(SBIN / "munged"),
                "--force",  # as root, which munged otherwise refuses
                f"--socket={self.root}/munge.socket",
                f"--key-file={key}",
                f"--pid-file={self.root}/munged.pid",
                f"--log-file={self.root}/munged.log",
                f"--seed-file={self.root}/munged.seed",
            ],
            self.root / "munged.pid",
        )
        self._daemon([str(SBIN / "slurmctld"), "-f", str(self.conf)], self.root / "slurmctld.pid")
        self._daemon(
            [str(SBIN / "slurmd"), "-f", str(self.conf), "-N", "localhost"],
            self.root / "slurmd.pid",
        )
        self._wait_idle()

    def _daemon(self, argv: list[str], pid_file: Path) -> None:
        """Start a daemon (it forks into the background) and wait for its pid file."""
        subprocess.run(argv, env=self.env, check=True, timeout=START_SECONDS)
        deadline = time.monotonic() + START_SECONDS
        while not _pid_in(pid_file):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} wrote no pid file: see {self.root}")
            time.sleep(0.05)

    def _wait_idle(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            found = subprocess.run(
                ["sinfo", "-h", "-o", "%T"], env=self.env, capture_output=True, text=True
            )
            if found.stdout.strip() == "idle":
                return
            time.sleep(0.2)
        raise RuntimeError(f"the Slurm node did not come up idle: see {self.root}")

    def stop(self) -> None:
        """SIGTERM to each daemon by its pid, SIGKILL to one that lingers."""
        for pid_file in self._pid_files:
            pid = _pid_in(pid_file)
            if pid is None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def cancel_all(self) -> None:
        """scancel every job of this cluster (its own: nobody else's jobs are there)."""
        subprocess.run(["scancel", "--me"], env=self.env, check=True)

    def job(self, job_id: str) -> dict[str, str]:
        """``scontrol show job`` as a dict (the first record: an array's first task)."""
        return self.records(job_id)[0]

    def records(self, job_id: str) -> list[dict[str, str]]:
        """Every record ``scontrol show job`` gives: one a job, one an array's task or range
        of tasks not yet started."""
        shown = subprocess.run(
            ["scontrol", "-o", "show", "job", job_id],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return [
            dict(part.split("=", 1) for part in line.split() if "=" in part)
            for line in shown.stdout.splitlines()
        ]


def _pid_in(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of a daemon (its parent is init, or us) counts as gone.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    return False


@contextlib.contextmanager
def running_cluster(root: Path) -> Iterator[SlurmCluster]:
    """A cluster in ``root`` while inside, its ``SLURM_CONF`` set in this process's environment
    (for the servers started meanwhile) and put back after; its daemons stopped whatever
    happens."""
    cluster = SlurmCluster(root)
    before = os.environ.get("SLURM_CONF")
    try:
        cluster.start()
        os.environ["SLURM_CONF"] = str(cluster.conf)
        yield cluster
    finally:
        cluster.stop()
        if before is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = before


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """One cluster for the session; its ``env`` (``SLURM_CONF``) is set in this process too,
    for the servers the tests make, and put back afterwards."""
    if os.geteuid() != 0 or not (SBIN / "slurmctld").exists() or not shutil.which("sbatch"):
        pytest.fail("the Slurm tests need root and scripts/install-system-deps.sh (slurm-wlm)")
    # Short: munge's socket path must fit in a sockaddr_un (108 bytes).
    with running_cluster(tmp_path_factory.mktemp("slurm")) as cluster:
        yield cluster
