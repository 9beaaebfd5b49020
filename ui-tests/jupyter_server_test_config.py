"""The `jupyter lab` the browser tests drive: galata's settings plus fusionpipe on a fresh
embedded PostgreSQL and data folder made for this run, removed when the server exits."""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is the config object jupyter injects)

# The same variable tells playwright.config.js where to find this server.
c.ServerApp.port = int(os.environ.get("FUSIONPIPE_UI_PORT", "8888"))  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821

# A spec acts as a colleague by sending the header X-Test-User (the REST tests' provider, see
# tests/users.py); without it the user is the account running the tests, as on any single-user
# server, so the browser and every other spec are who they always were.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from users import SeveralUsersWithoutLogin  # noqa: E402

c.ServerApp.identity_provider_class = SeveralUsersWithoutLogin  # noqa: F821

scratch = Path(tempfile.mkdtemp(prefix="fusionpipe-ui-tests-"))
c.FusionpipeApp.embedded_db_path = str(scratch / "pgdata")  # noqa: F821
c.FusionpipeApp.data_path = str(scratch / "data")  # noqa: F821
# Runs after jupyter has stopped its extensions (and so the database): ~50 MB per run otherwise.
atexit.register(shutil.rmtree, scratch, ignore_errors=True)

# A real single-node Slurm of this run's own (tests/slurm_cluster.py), for the specs of
# `run_mode: slurm` nodes: its client tools find it through SLURM_CONF, which this server's
# runner passes on to sbatch. Its daemons are stopped by their pids when the server exits.
# Only as root with Slurm installed (scripts/install-system-deps.sh), as CI is: elsewhere the
# Slurm spec fails saying sbatch cannot run, and the others are unaffected.
from slurm_cluster import SBIN, SlurmCluster  # noqa: E402

if os.geteuid() == 0 and (SBIN / "slurmctld").exists():
    slurm = SlurmCluster(scratch / "slurm")
    atexit.register(slurm.stop)
    slurm.start()
    os.environ["SLURM_CONF"] = str(slurm.conf)
