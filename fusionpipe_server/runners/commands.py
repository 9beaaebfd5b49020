"""The command line that runs a node, by kind. Pure: paths in, argv out, never a shell string."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from ..errors import Unavailable
from ..models import NodeKind


def _matlab_string(text: str) -> str:
    """A MATLAB/Octave single-quoted string literal."""
    return "'" + text.replace("'", "''") + "'"


def find_matlab(configured: str) -> str:
    """The MATLAB (or GNU Octave) executable: the configured one, else ``matlab`` or ``octave``
    on PATH."""
    for candidate in (configured, "matlab", "octave"):
        if candidate and shutil.which(candidate):
            return candidate
    raise Unavailable(
        "no MATLAB or GNU Octave found: install one or set FP_MATLAB_RUNNER_PATH "
        "(FusionpipeApp.matlab_runner_path)"
    )


def node_command(
    kind: NodeKind,
    *,
    code_dir: Path,
    executed_notebook: Path,
    matlab_helpers: Path,
    matlab_runner: str = "",
    python: str = sys.executable,
) -> tuple[str, ...]:
    if kind is NodeKind.PYTHON:
        return (python, str(code_dir / "main.py"))
    if kind is NodeKind.NOTEBOOK:
        # The executor runs on the server's Python; the notebook's code on the node's kernel.
        return (
            sys.executable,
            "-m",
            "fusionpipe_server.runners.notebook",
            str(code_dir / "main.ipynb"),
            str(executed_notebook),
        )
    if kind is NodeKind.SHELL:
        return ("bash", str(code_dir / "main.sh"))
    executable = find_matlab(matlab_runner)
    script = (
        f"addpath({_matlab_string(str(matlab_helpers))}); "
        f"run({_matlab_string(str(code_dir / 'main.m'))});"
    )
    if "octave" in Path(executable).name:
        return (executable, "--no-gui", "--quiet", "--eval", script)
    return (executable, "-batch", script)
