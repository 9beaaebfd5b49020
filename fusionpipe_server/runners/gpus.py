"""The GPUs of this machine that local runs hand out: what the server may use, by index."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping

log = logging.getLogger(__name__)


def parse_nvidia_smi(listing: str) -> list[str]:
    """GPU indexes from ``nvidia-smi -L`` ("GPU 0: NVIDIA A100 (UUID: ...)" lines)."""
    found = []
    for line in listing.splitlines():
        head, colon, _ = line.partition(":")
        if colon and head.startswith("GPU ") and head[4:].strip().isdigit():
            found.append(head[4:].strip())
    return found


def detect_gpus(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The GPUs this server may hand to node processes, as CUDA_VISIBLE_DEVICES entries.

    The server's own CUDA_VISIBLE_DEVICES when it has one (a batch system or JupyterHub
    spawner gave it those GPUs, and no others); otherwise every GPU ``nvidia-smi -L`` lists;
    none without nvidia-smi."""
    given = environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        return [entry.strip() for entry in given.split(",") if entry.strip()]
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return []
    try:
        listing = subprocess.run(
            [executable, "-L"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        log.warning("fusionpipe: nvidia-smi -L failed (%s): no GPUs for local runs", err)
        return []
    return parse_nvidia_smi(listing)
