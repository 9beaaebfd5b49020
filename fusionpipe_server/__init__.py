"""fusionpipe: a pipeline orchestrator for scientists, as JupyterLab and server extensions."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def _version() -> str:
    """package.json holds the version; building the package copies it into its metadata."""
    try:
        return version("fusionpipe")
    except PackageNotFoundError:
        # A checkout put on the path without being installed (the JupyterHub test does so).
        package = Path(__file__).resolve().parent.parent / "package.json"
        return str(json.loads(package.read_text())["version"])


__version__ = _version()


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import FusionpipeApp

    return [{"module": "fusionpipe_server", "app": FusionpipeApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "../labextension", "dest": "fusionpipe"}]
