"""schemathesis against the server's own openapi.json: every check (responses included), a fixed
seed, 30 examples per operation, the stateful phase walking the document's links, and not one
server error or conformance failure. The stateful phase must reach nearly every operation with
objects that exist: an operation only ever called with made-up ids proves little."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
from collections import defaultdict
from pathlib import Path

from jupyter_process import TOKEN, JupyterProcess

from fusionpipe_server.handlers import openapi

CONFIG = Path(__file__).with_name("schemathesis.toml")
API = "/fusionpipe/api"
# Operations allowed to go without an answer on a real object. Three always do: import takes
# a zip an export made, which the generator cannot write; a restore brings an object back under
# its old id, which use_after_free takes for a delete that did not delete, and deleteProject's
# cascade removes pipelines that ensure_resource_availability then misses, so the links leave
# both out (api_links.py). The walk is random: two more may be missed on a given run.
MAY_MISS = 5


def test_the_api_conforms_to_its_openapi_document(tmp_path, database_url):
    server = JupyterProcess(
        tmp_path,
        f"--FusionpipeApp.database_url={database_url}",
        f"--FusionpipeApp.data_path={tmp_path / 'data'}",
        "--ServerApp.log_level=WARN",
    )
    # From a scratch folder: schemathesis writes .hypothesis/ where it runs.
    work = tmp_path / "schemathesis"
    work.mkdir()
    try:
        server.wait_ready()
        # Two runs: schemathesis skips in its stateful phase the operations its fuzzing phase
        # only ever saw answer 404 (made-up ids), which are the ones the links are for.
        fuzzing = schemathesis(server.port, work, "examples,coverage,fuzzing", timeout=220)
        stateful = schemathesis(server.port, work, "stateful", timeout=300)
    finally:
        server.stop()
    statuses: dict[str, set[int]] = defaultdict(set)
    check_report(fuzzing, ("Coverage", "Fuzzing"))
    # The stateful phase calls what its links reach, not each operation on its own.
    check_report(stateful, ("Stateful",), every_operation=False)
    for result in (fuzzing, stateful):
        for label, codes in answers(result.har).items():
            statuses[label] |= codes
    # schemathesis leaves out the document it was given; test_openapi.py covers it.
    statuses.pop("GET /openapi.json")
    missed = sorted(label for label, codes in statuses.items() if not reached(codes))
    print(
        f"reached with real objects: {len(statuses) - len(missed)} of {len(statuses)}; "
        f"missed: {missed}"
    )
    assert len(missed) <= MAY_MISS, (missed, dict(statuses))


class Run:
    def __init__(self, process: subprocess.CompletedProcess[str], report: Path) -> None:
        self.returncode = process.returncode
        self.report = process.stdout[-20_000:] + process.stderr[-5_000:]
        [har] = report.glob("*.json")
        self.har = json.loads(har.read_text())


def schemathesis(port: int, work: Path, phases: str, timeout: float) -> Run:
    report = work / phases.replace(",", "-")
    process = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(CONFIG),
            "run",
            f"http://127.0.0.1:{port}{API}/openapi.json",
            "--header",
            f"Authorization: token {TOKEN}",
            "--phases",
            phases,
            "--seed",
            "42",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "har",
            "--report-dir",
            str(report),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(process, report)


def check_report(result: Run, phases: tuple[str, ...], every_operation: bool = True) -> None:
    """No failure, and every operation schemathesis found in the document was exercised."""
    report = result.report
    assert result.returncode == 0, report
    for phase in phases:
        assert re.search(rf"✅ {phase}", report), (phase, report)
    if not every_operation:
        return
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected and tested and selected[1] == selected[2] == tested[1], report
    assert int(tested[1]) >= len(openapi.document()["paths"]), report


def reached(codes: set[int]) -> bool:
    """Whether an operation was called on an object that exists: a success, or a 409 (a
    conflict is about an object that was found)."""
    return any(200 <= code < 300 or code == 409 for code in codes)


def answers(har: dict) -> dict[str, set[int]]:
    """The statuses each documented operation answered, from the HAR file of the run."""
    routes = []
    for template, item in openapi.document()["paths"].items():
        pattern = re.sub(
            r"\{(\w+)\}",
            lambda name: "(.+)" if name[1] == "path" else "([^/]+)",
            re.escape(template).replace(r"\{", "{").replace(r"\}", "}"),
        )
        for verb in item:
            if verb in ("get", "post", "put", "patch", "delete"):
                routes.append((verb.upper(), template, re.compile(f"^{API}{pattern}$")))
    # Fixed paths first: "/pipelines/merge" is not a pipeline id.
    routes.sort(key=lambda route: route[1].count("{"))
    statuses: dict[str, set[int]] = defaultdict(set)
    for method, template, _ in routes:
        statuses[f"{method} {template}"]
    for entry in har["log"]["entries"]:
        method = entry["request"]["method"]
        path = urllib.parse.urlsplit(entry["request"]["url"]).path
        for verb, template, pattern in routes:
            if verb == method and pattern.match(path):
                statuses[f"{verb} {template}"].add(entry["response"]["status"])
                break
    return statuses
