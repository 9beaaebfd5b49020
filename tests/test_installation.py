"""The installation the README's commands make: both extensions found and enabled."""

from __future__ import annotations

import re
import subprocess
import sys


def jupyter(*args):
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, check=True
    )
    # Jupyter colours its status words; compare plain text.
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)


def test_the_lab_extension_is_enabled_and_ok():
    assert re.search(r"fusionpipe v0\.1\.0 enabled\s+OK", jupyter("labextension", "list"))


def test_the_server_extension_is_enabled_and_ok():
    listing = jupyter("server", "extension", "list")
    assert re.search(r"fusionpipe_server enabled", listing)
    assert re.search(r"fusionpipe_server 0\.1\.0 OK", listing)
