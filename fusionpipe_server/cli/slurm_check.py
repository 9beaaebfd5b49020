"""The doctor's Slurm line: whether Slurm answers, where it is configured or nodes ask for it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ..folders import parameters
from .check import enterable_folder

# Any of these says the site means to use Slurm (the runner's settings read the FP_ ones).
SETTINGS = (
    "SLURM_CONF",
    "FP_SLURM_PARTITION",
    "FP_SLURM_ACCOUNT",
    "FP_SLURM_QOS",
    "FP_SLURM_OPTIONS",
    "FP_SLURM_SETUP",
)
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")
SINFO_SECONDS = 10


def nodes_asking(data_path: Path) -> int:
    """How many node folders of the data folder say ``run_mode: slurm``."""
    count = 0
    for path in data_path.glob("*/*/code/node_parameters.yaml"):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        # Parsed only when it may say so: most files do not.
        if (
            "slurm" in text
            and (parameters.parse_parameters_or_none(text) or {}).get("run_mode") == "slurm"
        ):
            count += 1
    return count


def slurm_answers(data_path: Path, environ: Mapping[str, str] = os.environ) -> tuple[bool, str]:
    """Whether Slurm answers (``sinfo``) when it is configured or nodes use it, and in words."""
    configured = any(environ.get(name) for name in SETTINGS) or DEFAULT_CONF.exists()
    asking = nodes_asking(data_path) if enterable_folder(data_path) else 0
    users = f"; {asking} node(s) use run_mode: slurm" if asking else ""
    if not configured and not asking:
        return True, "not configured (only needed for run_mode: slurm)"
    if shutil.which("sinfo") is None:
        return False, f"sinfo not found{users}: install Slurm's client tools and munge"
    try:
        shown = subprocess.run(
            ["sinfo", "-h", "-o", "%P %a"],
            capture_output=True,
            text=True,
            timeout=SINFO_SECONDS,
            env=dict(environ),
        )
    except subprocess.TimeoutExpired:
        return False, f"sinfo did not answer in {SINFO_SECONDS}s{users}: check SLURM_CONF and munge"
    if shown.returncode != 0:
        words = (shown.stderr.strip().splitlines() or ["no message"])[-1]
        return False, f"sinfo failed ({words}){users}: check SLURM_CONF and munge"
    partitions = ", ".join(" ".join(line.split()) for line in shown.stdout.splitlines())
    return True, f"answers: partitions {partitions or 'none'}{users}"
