"""Per-node Python environments: a node whose ``code/`` declares requirements
(``uv.lock``, ``requirements.txt`` or ``pyproject.toml``) gets its own ``code/.venv``, built by
uv with a shared cache, and rebuilt when the requirements change. Other nodes use the server's
Python. A ``uv.lock`` (the original fusionpipe's nodes have one) is installed exactly as locked,
on the Python of ``.python-version``, like ``uv sync --frozen``."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import fp_user_utils
import fusionpipe

from .. import __version__
from .permissions import NODE_UMASK, close_to_others, closed_to_others

REQUIREMENT_FILES = ("uv.lock", "requirements.txt", "pyproject.toml")
STAMP = ".fusionpipe-environment"
# The original's node API, a path dependency of every original node: its place is taken by
# the compatibility package of the same name installed with the node API.
ORIGINAL_NODE_API = "fp-user-utils"
NODE_API_PACKAGES = (fusionpipe, fp_user_utils)


@dataclass(frozen=True)
class Environment:
    """What a node's environment is and whether it matches its requirements."""

    requirements: Path | None
    venv: Path

    @property
    def state(self) -> str:
        """``none`` (server's Python), ``missing``, ``stale`` or ``ready``."""
        if self.requirements is None:
            return "none"
        stamp = self.venv / STAMP
        if not stamp.exists():
            return "missing"
        return "ready" if stamp.read_text() == self.fingerprint() else "stale"

    def fingerprint(self) -> str:
        """Changes with the requirements, the server's Python and fusionpipe itself."""
        assert self.requirements is not None
        digest = hashlib.sha256(self.requirements.read_bytes())
        digest.update(f"{sys.version}|{__version__}".encode())
        if self.locked:
            pinned = self.requirements.parent / ".python-version"
            digest.update(pinned.read_bytes() if pinned.exists() else b"")
        return digest.hexdigest()

    @property
    def locked(self) -> bool:
        return self.requirements is not None and self.requirements.name == "uv.lock"


def environment(folder: Path) -> Environment:
    code = folder / "code"
    declared = next((code / name for name in REQUIREMENT_FILES if (code / name).exists()), None)
    return Environment(declared, code / ".venv")


def uv_binary() -> str:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if not found:
            raise FileNotFoundError("uv is not installed: pip install uv") from None
        return found


async def build(env: Environment, log_path: Path, uv_cache_dir: str = "") -> bool:
    """Build (or rebuild) the environment, appending uv's output to ``log_path``. The node API
    and ipykernel go in too, so node code and the node's kernel work there. True on success."""
    assert env.requirements is not None
    uv = uv_binary()
    variables = dict(os.environ)
    if uv_cache_dir:
        variables["UV_CACHE_DIR"] = uv_cache_dir
    python = env.venv / "bin" / "python"
    if env.locked:
        variables["UV_PROJECT_ENVIRONMENT"] = str(env.venv)
        steps = [
            # uv reads .python-version itself; --frozen installs the lock as it is.
            [
                uv,
                "sync",
                "--frozen",
                "--compile-bytecode",
                "--no-install-package",
                ORIGINAL_NODE_API,
                "--project",
                str(env.requirements.parent),
            ],
            [uv, "pip", "install", "--python", str(python), "--compile-bytecode", "ipykernel"],
        ]
    else:
        steps = [
            [uv, "venv", "--clear", "--python", sys.executable, str(env.venv)],
            [
                uv,
                "pip",
                "install",
                "--python",
                str(python),
                "--compile-bytecode",
                "-r",
                str(env.requirements),
                "ipykernel",
            ],
        ]
    with open(log_path, "ab", opener=closed_to_others) as log:
        log.write(
            f"fusionpipe: building the node's environment from {env.requirements.name}\n".encode()
        )
        for argv in steps:
            log.flush()
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=variables,
                stdin=asyncio.subprocess.DEVNULL,
                umask=NODE_UMASK,
            )
            if await process.wait() != 0:
                log.write(b"fusionpipe: building the environment failed\n")
                return False
    _install_node_api(python)
    # uv links the packages from its cache and the node API is copied: both keep their
    # source's modes, often readable by all.
    close_to_others(env.venv)
    with open(env.venv / STAMP, "w", opener=closed_to_others) as stamp:
        stamp.write(env.fingerprint())
    return True


def _install_node_api(python: Path) -> None:
    """Copy the node API packages (standard library only) into the environment, whose Python
    may not be the server's (``.python-version``)."""
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    for package in NODE_API_PACKAGES:
        source = Path(str(package.__file__)).parent
        target = site / source.name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
