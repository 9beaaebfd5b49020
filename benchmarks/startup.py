"""What the extension adds to starting a Jupyter server (embedded database already initialised)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from jupyter_process import JupyterProcess

from .harness import Row


def _start(folder: Path, fusionpipe: bool) -> tuple[float, float]:
    """Seconds from launch to the first answered request, and the server's memory (MB) then."""
    started = time.perf_counter()
    server = JupyterProcess(
        folder,
        f"--FusionpipeApp.embedded_db_path={folder / 'pgdata'}",
        f"--FusionpipeApp.data_path={folder / 'data'}",
        fusionpipe=fusionpipe,
    )
    try:
        server.wait_ready()
        elapsed = time.perf_counter() - started
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    finally:
        server.stop()  # also when it failed to come up: never leave a server behind
    return elapsed, rss / 1024


def measure(repeat: int = 5) -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="fusionpipe-start-"))
    _start(folder, True)  # initialise the embedded database once: the target is a warm start
    bare = [_start(folder, False) for _ in range(repeat)]
    with_fp = [_start(folder, True) for _ in range(repeat)]
    bare_time = statistics.median(t for t, _ in bare)
    added_time = statistics.median(t for t, _ in with_fp) - bare_time
    added_rss = statistics.median(m for _, m in with_fp) - statistics.median(m for _, m in bare)
    return [
        Row(
            "server start: time added by fusionpipe",
            [added_time],
            bare_time,
            "< 1 s",
            added_time < 1.0,
            "floor: a bare jupyter server",
        ),
        Row(
            "server start: memory added",
            [added_rss],
            None,
            "< 60 MB",
            added_rss < 60,
            "resident memory of the server process",
            unit="MB",
        ),
    ]
