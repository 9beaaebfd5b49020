"""fusionpipe: a pipeline orchestrator for scientists, as JupyterLab and server extensions."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import FusionpipeApp

    return [{"module": "fusionpipe_server", "app": FusionpipeApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "../labextension", "dest": "fusionpipe"}]
