"""What the Slurm runner submits and reads, without a cluster: sbatch's arguments from a node's
resources, time limit and slurm: keys over the site's, the task file, squeue and scontrol
read back, the node view's job, and which slurm: keys count in the fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusionpipe_server.errors import Invalid
from fusionpipe_server.fingerprint.hashing import counted
from fusionpipe_server.folders.scheduling import Resources, SlurmOptions, parse_scheduling
from fusionpipe_server.runners.base import NodeJob
from fusionpipe_server.runners.slurm_tasks import (
    JOB_SCRIPT,
    SiteOptions,
    parse_queue,
    refusal,
    sbatch_arguments,
    scontrol_exit,
    task_file,
)
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
