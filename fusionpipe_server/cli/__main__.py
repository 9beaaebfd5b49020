"""``python -m fusionpipe_server.cli``: the ``fusionpipe`` command."""

from .main import main

raise SystemExit(main())
