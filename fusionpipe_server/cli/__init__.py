"""The ``fusionpipe`` command: headless runs and status, kill and cancel, admin (database, data
folder, users, doctor, migrations, trash, import), export and import of pipelines.

Calls the service layer (through ``headless.open_service``) as the server does; never the store
directly but for the admin's database set-up. ``main`` is the entry point.
"""

from .main import main

__all__ = ["main"]
