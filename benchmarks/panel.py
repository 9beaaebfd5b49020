"""Opening a 1,000-node pipeline in the panel, in headless Chromium against a real ``jupyter lab``.

The browser side is ``ui-tests/bench/open-pipeline.bench.ts``, run by Playwright with the browser
tests' set-up (``ui-tests/bench.config.js``: its own lab, database and data folder); it writes its
samples to a JSON file that this module turns into a row.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .harness import ROOT, Row

UI_TESTS = ROOT / "ui-tests"
PORT = "8899"  # apart from the browser tests' 8888, so both can run on one machine


def measure() -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="fusionpipe-bench-panel-"))
    out = folder / "samples.json"
    bin_dir = Path(sys.executable).parent  # jlpm and jupyter, beside this Python
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    try:
        finished = subprocess.run(
            [str(bin_dir / "jlpm"), "playwright", "test", "--config", "bench.config.js"],
            cwd=UI_TESTS,
            env={
                **os.environ,
                "PATH": path,
                "FUSIONPIPE_UI_PORT": PORT,
                "FUSIONPIPE_BENCH_OUT": str(out),
            },
            capture_output=True,
            text=True,
        )
        if finished.returncode != 0:  # the lab's log and Playwright's report say why
            raise RuntimeError(f"the browser measure failed:\n{finished.stdout}{finished.stderr}")
        result = json.loads(out.read_text())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    floor = sorted(result["floor"])[len(result["floor"]) // 2]
    row = Row(
        f"open a {result['size']:,}-node pipeline in the panel",
        result["samples"],
        floor,
        "< 2 s",
        None,
        "floor: a 1-node pipeline; to every node drawn, in Chromium",
    )
    row.met = row.p90 < 2.0
    return [row]
