"""schemathesis against the server's own openapi.json: every check, a fixed seed, 30 examples per
operation, and not one server error or conformance failure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from jupyter_process import TOKEN, JupyterProcess

from fusionpipe_server.handlers import openapi

CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_the_api_conforms_to_its_openapi_document(tmp_path, database_url):
    server = JupyterProcess(
        tmp_path,
        f"--FusionpipeApp.database_url={database_url}",
        f"--FusionpipeApp.data_path={tmp_path / 'data'}",
        "--ServerApp.log_level=WARN",
    )
    try:
        server.wait_ready()
        # From a scratch folder: schemathesis writes .hypothesis/ where it runs.
        work = tmp_path / "schemathesis"
        work.mkdir()
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file",
                str(CONFIG),
                "run",
                f"http://127.0.0.1:{server.port}/fusionpipe/api/openapi.json",
                "--header",
                f"Authorization: token {TOKEN}",
                "--checks",
                "all",
                "--seed",
                "42",
                "--max-examples",
                "30",
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--no-color",
            ],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=540,
        )
    finally:
        server.stop()
    report = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, report
    # Every operation schemathesis found in the document was exercised.
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected and tested and selected[1] == selected[2] == tested[1], report
    assert int(tested[1]) >= len(openapi.document()["paths"]), report
