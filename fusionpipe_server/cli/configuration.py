"""The settings of the ``fusionpipe`` command: the server extension's own, read from the same
Jupyter config files and environment variables, so that a command and a server agree."""

from __future__ import annotations

from jupyter_server.serverapp import ServerApp

from ..app import FusionpipeApp


def load_settings() -> FusionpipeApp:
    """``FusionpipeApp``'s settings as a server started here would have them: the
    ``jupyter_server_config`` files of the Jupyter config path (``c.FusionpipeApp.ray_address =
    ...``), else the environment variables each setting defaults to. Nothing is started."""
    server = ServerApp()
    # The files and the search path a starting server reads (jupyter --paths: config).
    server.load_config_file()
    return FusionpipeApp(serverapp=server, config=server.config)
