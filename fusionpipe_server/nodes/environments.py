"""Per-node Python environments: a node whose ``code/`` declares requirements
(``requirements.txt`` or ``pyproject.toml``) gets its own ``code/.venv``, built by uv with a
shared cache, and rebuilt when the requirements change. Other nodes use the server's Python."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import fusionpipe

from .. import __version__

REQUIREMENT_FILES = ("requirements.txt", "pyproject.toml")
STAMP = ".fusionpipe-environment"


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
        return digest.hexdigest()


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
    with log_path.open("ab") as log:
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
            )
            if await process.wait() != 0:
                log.write(b"fusionpipe: building the environment failed\n")
                return False
    _install_node_api(python)
    (env.venv / STAMP).write_text(env.fingerprint())
    return True


def _install_node_api(python: Path) -> None:
    """Copy the ``fusionpipe`` package (standard library only) into the environment."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = python.parent.parent / "lib" / version / "site-packages"
    target = site / "fusionpipe"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(
        Path(fusionpipe.__file__).parent, target, ignore=shutil.ignore_patterns("__pycache__")
    )
