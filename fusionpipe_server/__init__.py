"""fusionpipe: a pipeline orchestrator for scientists, as JupyterLab and server extensions."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

# package.json holds the version; the build copies it into the installed metadata.
__version__ = version("fusionpipe")


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import FusionpipeApp

    return [{"module": "fusionpipe_server", "app": FusionpipeApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "../labextension", "dest": "fusionpipe"}]
