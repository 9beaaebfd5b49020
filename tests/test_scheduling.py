"""Scheduling settings parsed from node_parameters.yaml, the local CPU/GPU slots, GPU detection
and the Ray task options: the pure parts, without a server."""

from __future__ import annotations

import asyncio

import pytest

from fusionpipe_server.errors import Invalid
from fusionpipe_server.folders.scheduling import (
    Resources,
    Scheduling,
    format_duration,
    parse_scheduling,
)
from fusionpipe_server.runners.gpus import detect_gpus, parse_nvidia_smi
from fusionpipe_server.runners.ray_resources import task_options, unsatisfiable
from fusionpipe_server.service.runs.slots import Need, SlotPool


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90), (1.5, 1.5), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400)],
)
def test_a_timeout_is_seconds_or_a_duration(value, seconds):
    assert parse_scheduling({"timeout": value}).timeout == seconds


def test_absent_keys_keep_the_defaults():
    assert parse_scheduling({"lr": 0.1}) == Scheduling()
    assert Scheduling().attempts == 1 and Resources().cpus == 1.0


def test_every_key_is_read():
    scheduling = parse_scheduling(
        {
            "timeout": "2h",
            "retries": 2,
            "retry_delay": "30s",
            "resources": {"cpus": 4, "gpus": 1, "memory": "2GiB", "fast_disk": 1},
        }
    )
    assert scheduling == Scheduling(
        timeout=7200,
        retries=2,
        retry_delay=30,
        resources=Resources(cpus=4, gpus=1, memory=2 * 2**30, custom={"fast_disk": 1.0}),
    )
    assert scheduling.attempts == 3


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"timeout": "soon"}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": "-5m"}, "timeout"),
        ({"retries": -1}, "retries"),
        ({"retries": 1.5}, "retries"),
        ({"retries": "3"}, "retries"),
        ({"retry_delay": "later"}, "retry_delay"),
        ({"resources": [1, 2]}, "resources"),
        ({"resources": {"cpus": 0}}, "resources.cpus"),
        ({"resources": {"cpus": "many"}}, "resources.cpus"),
        ({"resources": {"gpus": 0.5}}, "resources.gpus"),
        ({"resources": {"memory": "lots"}}, "resources.memory"),
        ({"resources": {"memory": "4 parsecs"}}, "resources.memory"),
        ({"resources": {"GPU": 1}}, "resources.GPU"),
        ({"resources": {"tpu": -1}}, "resources.tpu"),
        ({"resources": {"bad name!": 1}}, "resources"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(values, key):
    with pytest.raises(Invalid) as caught:
        parse_scheduling(values)
    assert caught.value.message.startswith(f"node_parameters.yaml: {key} ")


def test_durations_read_as_people_write_them():
    assert [format_duration(s) for s in (2, 90, 900, 5400, 86400, 1.5)] == [
        "2s",
        "1m30s",
        "15m",
        "1h30m",
        "1d",
        "1.5s",
    ]


async def test_slots_count_cpus_and_never_give_a_gpu_to_two_nodes():
    pool = SlotPool(4, ["0", "1"])
    held: list[list[str]] = []
    inside = 0
    most = 0

    async def node(need: Need) -> None:
        nonlocal inside, most
        async with pool.hold(need) as gpus:
            inside += 1
            most = max(most, inside)
            assert all(gpu not in busy for busy in held for gpu in gpus), "a GPU held twice"
            held.append(gpus)
            await asyncio.sleep(0.01)
            held.remove(gpus)
            inside -= 1
            assert len(gpus) == need.gpus

    await asyncio.gather(*(node(Need(cpus=1, gpus=1)) for _ in range(6)))
    assert most == 2, "two GPUs: two GPU nodes at once"
    most = 0
    await asyncio.gather(*(node(Need(cpus=2)) for _ in range(6)))
    assert most == 2, "four CPU slots: two 2-CPU nodes at once"
    assert pool.problem(Need(gpus=3)) == (
        "it asks for 3 GPUs and local runs have 2 GPUs (FusionpipeApp.local_gpus)"
    )
    assert "5 CPUs" in (pool.problem(Need(cpus=5)) or "")
    assert pool.problem(Need(cpus=4, gpus=2)) is None


async def test_a_cancelled_wait_gives_nothing_away():
    pool = SlotPool(1, [])
    async with pool.hold(Need()):
        waiting = asyncio.ensure_future(pool.hold(Need()).__aenter__())
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    await asyncio.wait_for(pool.hold(Need()).__aenter__(), 1)


def test_gpus_come_from_the_servers_selection_else_nvidia_smi():
    listing = (
        "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5a1c)\n"
        "GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-77b2)\n"
        "  MIG 1g.5gb Device 0: (UUID: MIG-1)\n"
    )
    assert parse_nvidia_smi(listing) == ["0", "1"]
    assert detect_gpus({"CUDA_VISIBLE_DEVICES": "2, 3"}) == ["2", "3"]
    assert detect_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    # This machine has no nvidia-smi (and no GPU).
    assert detect_gpus({}) == []


def test_resources_become_ray_task_options_and_impossible_ones_are_named():
    resources = Resources(cpus=2, gpus=1, memory=2**30, custom={"fast_disk": 1})
    assert task_options(resources) == {
        "num_cpus": 2,
        "num_gpus": 1,
        "memory": 2**30,
        "resources": {"fast_disk": 1},
    }
    totals = {"CPU": 2.0, "memory": 8 * 2**30, "object_store_memory": 2**30}
    assert unsatisfiable(Resources(gpus=1), totals) == (
        "it asks for 1 GPU and the Ray cluster has 0 GPUs in all"
    )
    assert unsatisfiable(Resources(cpus=3), totals) == (
        "it asks for 3 CPUs and the Ray cluster has 2 CPUs in all"
    )
    assert "fast_disk" in (unsatisfiable(resources, {**totals, "GPU": 1}) or "")
    assert unsatisfiable(Resources(cpus=2, memory=2**30), totals) is None
