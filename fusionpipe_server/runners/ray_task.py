"""The body of a node's Ray task, run by a Ray worker: standard library only.

A worker of a shared cluster has neither ``fusionpipe_server`` nor the server's virtual
environment, so this module imports nothing else, and Ray ships it with the task (the runner
registers it to be pickled by value). Paths into the server's installation that a node's
command names are replaced with the worker's own: its Python for the server's, and the copies
of the node API packages Ray ships with the job (``runtime_env`` ``py_modules``), which it puts
on the worker's ``PYTHONPATH``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys

# How long the task waits on its child at a time; a cancel takes effect between waits.
POLL_SECONDS = 0.05
# What a relocated path stands for: this worker's Python, or else a package of that name.
WORKER_PYTHON = "python"


def _worker_path(meaning: str) -> str | None:
    """Where on this worker lies what ``meaning`` names; None when it is not here."""
    if meaning == WORKER_PYTHON:
        return sys.executable
    spec = importlib.util.find_spec(meaning)
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(next(iter(spec.submodule_search_locations)))


def relocate(
    argv: list[str], env: dict[str, str], server_paths: dict[str, str]
) -> tuple[list[str], dict[str, str]]:
    """The command and environment with the server's paths (``server_paths``: path -> what
    it is) replaced by this worker's. The server's Python is replaced only as the command
    itself; package folders wherever they appear (a MATLAB ``addpath``, a variable)."""
    python = server_paths.get(argv[0]) == WORKER_PYTHON if argv else False
    folders = {
        path: here
        for path, meaning in server_paths.items()
        if meaning != WORKER_PYTHON and (here := _worker_path(meaning)) is not None
    }

    def moved(text: str) -> str:
        for path, here in folders.items():
            # Whole path components only: /x/fusionpipe must not touch /x/fusionpipe_server.
            text = here if text == path else text.replace(path + os.sep, here + os.sep)
        return text

    new_argv = [moved(arg) for arg in argv]
    if python:
        new_argv[0] = sys.executable
    new_env = {name: moved(value) for name, value in env.items()}
    # The packages Ray shipped with the job are on this worker's PYTHONPATH: the node's
    # Python finds them there.
    shipped = os.environ.get("PYTHONPATH", "")
    if shipped:
        new_env["PYTHONPATH"] = os.pathsep.join(filter(None, [shipped, env.get("PYTHONPATH")]))
    return new_argv, new_env


def run_node(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    log_path: str,
    server_paths: dict[str, str],
    umask: int,
) -> int:
    """Run the node's command in its own session, under ``umask`` (the server's
    ``NODE_UMASK``: this module imports nothing of the server's); killed with its whole process
    group when the task is cancelled (Ray interrupts the task; the node's processes are ours to
    end)."""
    argv, env = relocate(argv, env, server_paths)
    # The GPUs Ray chose for this task (it sets CUDA_VISIBLE_DEVICES in the worker).
    env.update({k: os.environ[k] for k in ("CUDA_VISIBLE_DEVICES",) if k in os.environ})
    # The log is created closed to others, like every file the node writes.
    with open(log_path, "ab", opener=lambda path, flags: os.open(path, flags, 0o660)) as log:
        child = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=umask,
        )
    try:
        while True:
            # Not poll() and sleep: a node that ends early is seen at once (wait's own checks
            # start at half a millisecond), not at the end of a sleep.
            with contextlib.suppress(subprocess.TimeoutExpired):
                return child.wait(timeout=POLL_SECONDS)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise
