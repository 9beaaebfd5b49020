"""The help of the options every ``fusionpipe`` command shares, worded once."""

from __future__ import annotations

DATABASE_HELP = (
    "libpq DSN or URI (default: the server's database_url: its Jupyter config, else "
    "$DATABASE_URL, else the embedded database)"
)
# The schema and administration commands act on an external database only.
EXTERNAL_DATABASE_HELP = (
    "libpq DSN or URI (default: the server's database_url: its Jupyter config, else $DATABASE_URL)"
)
DATA_HELP = (
    "the data folder (default: the server's data_path: its Jupyter config, else "
    "$FUSIONPIPE_DATA_PATH, else ./fusionpipe-data)"
)
