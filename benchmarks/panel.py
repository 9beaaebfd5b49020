"""The panel in headless Chromium against a real ``jupyter lab``: opening a 1,000-node pipeline,
opening the Runs view of a pipeline with 1,000 runs, and opening the items of a 10,000-item node.

The browser side is ``ui-tests/bench/*.bench.ts``, run by Playwright with the browser tests'
set-up (``ui-tests/bench.config.js``: its own lab, database and data folder); each writes its
samples to a JSON file in one folder, which this module turns into rows.
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
                "FUSIONPIPE_BENCH_OUT": str(folder),
            },
            capture_output=True,
            text=True,
        )
        if finished.returncode != 0:  # the lab's log and Playwright's report say why
            raise RuntimeError(f"the browser measure failed:\n{finished.stdout}{finished.stderr}")
        opening = json.loads((folder / "open-pipeline.json").read_text())
        runs_view = json.loads((folder / "runs-view.json").read_text())
        items_view = json.loads((folder / "items-view.json").read_text())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = [
        _row(
            f"open a {opening['size']:,}-node pipeline in the panel",
            opening,
            2.0,
            "floor: a 1-node pipeline; to every node drawn, in Chromium",
        ),
        _row(
            f"open the Runs view of a pipeline with {runs_view['runs']:,} runs",
            runs_view,
            1.0,
            "floor: a pipeline with 1 run; to the first page drawn, in Chromium",
        ),
        _row(
            f"open the items of a {items_view['items']:,}-item node in the panel",
            items_view,
            1.0,
            "floor: a 4-item node; click to the first page of 50 drawn, in Chromium",
        ),
    ]
    return rows


def _row(measure: str, result: dict[str, list[float]], target: float, note: str) -> Row:
    floor = sorted(result["floor"])[len(result["floor"]) // 2]
    row = Row(measure, result["samples"], floor, f"< {target:g} s", None, note)
    row.met = row.p90 < target
    return row
