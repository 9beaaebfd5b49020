"""What the Slurm runner submits and reads, without a cluster: sbatch's arguments from a node's
resources, time limit and slurm: keys over the site's, the task file, squeue and scontrol
read back, the node view's job, which slurm: keys count in the fingerprint, and the site's setup
commands counting in Slurm nodes' fingerprints (on the run engine, a local process standing in
for the cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine import Engine
from test_runs_api import write_code

from fusionpipe_server.errors import Invalid
from fusionpipe_server.fingerprint.hashing import StatCache, counted
from fusionpipe_server.fingerprint.parts import Input, Parts, differences
from fusionpipe_server.fingerprint.scan import scan_code
from fusionpipe_server.folders.scheduling import Resources, SlurmOptions, parse_scheduling
from fusionpipe_server.runners.base import NodeJob
from fusionpipe_server.runners.local import LocalRunner
from fusionpipe_server.runners.registry import Runners
from fusionpipe_server.runners.slurm import SlurmRunner
from fusionpipe_server.runners.slurm_tasks import (
    JOB_SCRIPT,
    SiteOptions,
    parse_queue,
    refusal,
    sbatch_arguments,
    scontrol_exit,
    task_file,
)
from fusionpipe_server.service import Service
from fusionpipe_server.service.common import Settings
from fusionpipe_server.service.runs.running import job_view


def job(**fields) -> NodeJob:
    return NodeJob(
        "run1",
        "node1",
        ("python", "main.py"),
        Path("/data/p/n/code"),
        {"PATH": "/bin", "FUSIONPIPE_ITEM": '{"a": 1}'},
        Path("/data/p/n/logs/run1.log"),
        **fields,
    )


def test_resources_time_and_options_become_sbatch_arguments():
    node = parse_scheduling(
        {
            "timeout": "61s",
            "resources": {"cpus": 1.5, "gpus": 2, "memory": "1.5GiB"},
            "slurm": {"qos": "short", "options": ["--constraint=big"], "max_running": 3},
        }
    )
    site = SiteOptions(partition="batch", qos="normal", options=("--exclusive",))
    options = site.merged(node.slurm)
    argv = sbatch_arguments(
        job(resources=node.resources, timeout=node.timeout), options, Path("/t"), "/o", 10
    )
    assert argv[:2] == ["sbatch", "--parsable"]
    for expected in (
        "--cpus-per-task=2",
        "--mem=1536M",
        "--gpus=2",
        "--time=2",
        "--partition=batch",
        "--qos=short",
        "--array=0-9%3",
        "--output=/o",
        "--chdir=/data/p/n/code",
    ):
        assert expected in argv, expected
    assert not any(a.startswith("--account") for a in argv)
    assert argv[-4:] == ["--exclusive", "--constraint=big", str(JOB_SCRIPT), "/t"]


def test_a_plain_job_has_no_array_and_no_time_limit_unless_asked():
    argv = sbatch_arguments(job(resources=Resources()), SlurmOptions(), Path("/t"), "/o")
    assert "--cpus-per-task=1" in argv
    assert not any(a.startswith(("--array", "--time", "--mem", "--gpus")) for a in argv)


def test_the_task_file_holds_one_value_a_line_and_refuses_line_breaks():
    text = task_file(job(), Path("/x.exit"), ["module load a"])
    lines = text.splitlines()
    assert lines[:5] == ["0007", "/data/p/n/code", "/data/p/n/logs/run1.log", "/x.exit", "2"]
    assert lines[5:] == [
        "PATH=/bin",
        'FUSIONPIPE_ITEM={"a": 1}',
        "1",
        "module load a",
        "python",
        "main.py",
    ]
    with pytest.raises(Invalid, match="line break"):
        task_file(job(), Path("/x.exit"), ["a\nb"])


def test_squeue_and_scontrol_are_read_back():
    seen = parse_queue("12|RUNNING|None\n13_0|PENDING|Resources\n13_1|TIMEOUT|TimeLimit\n")
    assert seen["12"].shown() == "RUNNING" and seen["12"].live
    assert seen["13_0"].shown() == "PENDING (Resources)" and seen["13_0"].live
    assert not seen["13_1"].live
    assert scontrol_exit("JobId=3 JobState=FAILED ExitCode=3:0") == 3
    assert scontrol_exit("JobId=3 JobState=CANCELLED ExitCode=0:15") == -15
    assert scontrol_exit("JobId=3") is None
    said = "sbatch: error: blah\nsbatch: error: Batch job submission failed: Invalid partition"
    assert refusal(said) == "Batch job submission failed: Invalid partition"


def test_the_node_view_shows_a_job_or_an_arrays_items_by_state():
    assert job_view({}) is None
    assert job_view({None: ("12", "PENDING (Priority)")}) == {
        "id": "12",
        "state": "PENDING (Priority)",
    }
    items = {"a": ("7_0", "RUNNING"), "b": ("7_1", "PENDING (Resources)"), "c": ("7_2", "RUNNING")}
    assert job_view(items) == {"id": "7", "state": "1 PENDING, 2 RUNNING"}


def test_setup_commands_count_in_the_fingerprint_and_the_rest_does_not():
    values = {"x": 1, "slurm": {"partition": "a", "setup": ["module load b"]}}
    assert counted(values) == {"x": 1, "slurm": {"setup": ["module load b"]}}
    assert counted({"x": 1, "slurm": {"partition": "a"}}) == {"x": 1}


@pytest.mark.parametrize(
    ("slurm", "named"),
    [
        ({"nope": 1}, "unknown key"),
        ({"partition": "-p"}, "slurm.partition"),
        ({"account": 3}, "slurm.account"),
        ({"options": ["-p x"]}, "slurm.options"),
        ({"options": ["--array=0-3"]}, "slurm.options"),
        ({"setup": "a\nb"}, "slurm.setup"),
        ({"setup": [""]}, "slurm.setup"),
        ({"max_running": 1.5}, "slurm.max_running"),
        ({"max_running": True}, "slurm.max_running"),
    ],
)
def test_bad_slurm_keys_are_refused_naming_them(slurm, named):
    with pytest.raises(Invalid, match=named):
        parse_scheduling({"slurm": slurm})


async def test_a_job_is_waited_for_while_slurm_cannot_be_asked(tmp_path, monkeypatch):
    """squeue failing (here: not on PATH, as when slurmctld restarts it fails) is no end: the
    job's exit file still says how it ended."""
    import asyncio

    from fusionpipe_server.runners.slurm import SlurmExecution, SlurmRunner

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("FP_SLURM_POLL_SECONDS", "0.05")
    log_path = tmp_path / "run.log"
    execution = SlurmExecution(SlurmRunner(), "12", log_path)
    waiting = asyncio.ensure_future(execution.wait())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    log_path.with_suffix(".exit").write_text("4\n")
    assert await asyncio.wait_for(waiting, 5) == 4
    assert not execution.lost


def test_the_site_settings_of_a_command_come_from_the_servers_configuration(tmp_path, monkeypatch):
    """``fusionpipe run`` submits with the SlurmRunner settings a server started there has."""
    from fusionpipe_server.cli.configuration import load_settings
    from fusionpipe_server.runners.registry import Runners

    (tmp_path / "jupyter_server_config.py").write_text('c.SlurmRunner.partition = "batch"\n')
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("FP_SLURM_QOS", "short")
    monkeypatch.chdir(tmp_path)
    app = load_settings()
    runner = Runners.default(app.service_settings(), parent=app)["slurm"]
    assert runner.site.partition == "batch" and runner.site.qos == "short"


SITE_A = ["module purge", "module load python/3.11"]
SITE_B = ["module purge", "module load python/3.12"]


def parts(site_setup: list[str]) -> Parts:
    return Parts(
        "python", {"main.py": "h"}, "p", {}, {"01": Input("n1", "a", "d")}, None, None, site_setup
    )


def test_the_site_setup_counts_in_the_fingerprint_and_names_what_changed():
    a, b, none = parts(SITE_A), parts(SITE_B), parts([])
    assert len({a.fingerprint(), b.fingerprint(), none.fingerprint()}) == 3
    assert differences(a, b) == [
        {
            "kind": "environment",
            "message": "site setup changed: module load python/3.11 → module load python/3.12",
        }
    ]
    assert differences(none, a) == [
        {
            "kind": "environment",
            "message": "site setup changed: none → module purge; module load python/3.11",
        }
    ]
    assert differences(a, parts(SITE_A[:1]))[0]["message"].endswith("python/3.11 → none")
    assert differences(a, Parts.from_json(a.to_json())) == []
    # Parts recorded before the site setup counted have none, and keep their fingerprint.
    recorded = none.to_json()
    del recorded["site_setup"]
    assert Parts.from_json(recorded).fingerprint() == none.fingerprint()


def test_the_site_setup_applies_to_the_nodes_of_its_run_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("FP_SLURM_SETUP", "module purge\nmodule load python/3.11\n")
    runners = Runners({"local": LocalRunner(), "slurm": SlurmRunner()})
    assert runners.site_setup() == {"slurm": tuple(SITE_A)}
    local = Settings(data_path=tmp_path, site_setup=runners.site_setup())
    assert local.site_setup_of("slurm") == tuple(SITE_A)
    assert local.site_setup_of("") == local.site_setup_of("local") == ()
    by_default = Settings(tmp_path, default_run_mode="slurm", site_setup=runners.site_setup())
    assert by_default.site_setup_of("") == tuple(SITE_A)
    # The scan reads the run mode a node names from its parameters, through the stat cache.
    code = tmp_path / "n" / "code"
    code.mkdir(parents=True)
    (code / "node_parameters.yaml").write_text("run_mode: slurm\nx: 1\n")
    cache = StatCache()
    assert scan_code(tmp_path / "n", cache).run_mode == "slurm"
    (code / "node_parameters.yaml").write_text("x: 1\n")
    assert scan_code(tmp_path / "n", StatCache()).run_mode == ""
    # A value cached before the run mode was recorded reads as naming none.
    (entry,) = cache.entries.values()
    entry.hash = entry.hash.replace(":slurm;", ";")
    assert scan_code(tmp_path / "n", cache).run_mode == ""


class LocalAsSlurm(LocalRunner):
    """Where there is no cluster: the node runs as a local process, and the runner has the
    site setup the Slurm runner would run before it (what the fingerprint counts)."""

    def __init__(self, site_setup: list[str]) -> None:
        super().__init__()
        self.site_setup = tuple(site_setup)


STAMP = """
import time
from pathlib import Path
Path("../data/out.txt").write_text(str(time.time_ns()))
"""


async def test_a_new_site_setup_stales_slurm_nodes_only_and_the_cache_keeps_to_each(engine):
    db, settings = engine.service.staleness.db, engine.service.settings
    sites = []

    def site(setup: list[str]) -> Engine:
        runners = Runners({"local": LocalRunner(), "slurm": LocalAsSlurm(setup)})
        sites.append(Engine(Service(db, settings, runners)))
        return sites[-1]

    a, b = site(SITE_A), site(SITE_B)
    try:
        pipeline = await a.pipeline()
        on_slurm, local = await a.node(pipeline, "s"), await a.node(pipeline, "l")
        await a.set_parameters(on_slurm, "run_mode: slurm\n")
        for node in (on_slurm, local):
            write_code(node, STAMP)
        assert (await a.run(pipeline))["status"] == "completed"
        out = Path(on_slurm["folder"]) / "data" / "out.txt"
        made_under_a = out.read_text()

        async def checked(engine: Engine) -> dict[str, tuple[str, list[str]]]:
            await engine.service.staleness.check_pipeline(pipeline["id"])
            nodes = await engine.graph_nodes(pipeline)
            return {
                tag: (n["status"], [r["message"] for r in n["stale_reasons"]])
                for tag, n in nodes.items()
            }

        assert await checked(b) == {
            "s": (
                "staledata",
                ["site setup changed: module load python/3.11 → module load python/3.12"],
            ),
            "l": ("completed", []),
        }
        assert await checked(a) == {"s": ("completed", []), "l": ("completed", [])}

        # Run under B, the node runs: what A's setup made is not B's.
        ran = await b.run(pipeline)
        by_tag = {n["node_id"]: n for n in ran["nodes"]}
        assert by_tag[on_slurm["id"]]["status"] == "completed"
        assert not by_tag[on_slurm["id"]]["reason"].startswith("restored"), by_tag
        assert local["id"] not in by_tag or by_tag[local["id"]]["status"] == "skipped"
        assert out.read_text() != made_under_a
        # Back under A: stale again, and A's outputs come back from the cache.
        assert (await checked(a))["s"][0] == "staledata"
        back = {n["node_id"]: n for n in (await a.run(pipeline))["nodes"]}
        assert back[on_slurm["id"]]["reason"].startswith("restored from run"), back
        assert out.read_text() == made_under_a
    finally:
        for each in sites:
            await each.service.runs.shutdown()
