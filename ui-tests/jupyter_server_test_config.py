"""The `jupyter lab` the browser tests drive: galata's settings plus fusionpipe on a fresh
embedded PostgreSQL and data folder made for this run."""

import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is the config object jupyter injects)

scratch = Path(tempfile.mkdtemp(prefix="fusionpipe-ui-tests-"))
c.ServerApp.allow_root = True  # noqa: F821
c.FusionpipeApp.embedded_db_path = str(scratch / "pgdata")  # noqa: F821
c.FusionpipeApp.data_path = str(scratch / "data")  # noqa: F821
