"""What a killed server leaves half-done in the data folder is swept at the next start."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from fusionpipe_server.folders import kernels, leftovers
from fusionpipe_server.folders import node_folders as folders
from fusionpipe_server.models import NodeKind

IDENTITY = {"tag": "t", "kind": "python", "project_id": "pr_1", "parents": []}
OLD = time.time() - 2 * leftovers.MAX_AGE_SECONDS


def plant(path, *, folder=False, age=OLD):
    if folder:
        path.mkdir(parents=True)
        (path / "code").mkdir()
        (path / "code" / "main.py").write_text("print('half made')\n")
        (path / "code").chmod(0o555)  # as a locked node's copy would be
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half written")
    os.utime(path, (age, age))
    return path


@pytest.fixture
def left_over(data_path):
    """A node folder and, around it, one leftover of each kind plus what must be kept."""
    node = folders.create_node_folder(data_path, "pr_1/n_1", NodeKind.PYTHON, IDENTITY)
    stale = {
        plant(data_path / "pr_1" / ".n_2.new-0123abcd", folder=True),
        plant(data_path / "pr_1" / ".n_3.trash-89abcdef", folder=True),
        plant(node / ".data.trash-00ff00ff", folder=True),
        plant(node / ".fusionpipe-node.json.tmp-deadbeef"),
        plant(node / "code" / ".node_parameters.yaml.tmp-cafe0123"),
        plant(kernels.kernels_dir(data_path) / "fusionpipe-n_1" / ".kernel.json.tmp-0badf00d"),
    }
    kept = {
        plant(data_path / "pr_1" / ".n_4.new-11112222", folder=True, age=time.time()),
        plant(node / "data" / ".results.csv.tmp-33334444"),  # the node's own output
        plant(node / "code" / ".notes.tmp"),  # not one of ours
        # A deleted node's folder waiting in the trash, however old: the trash purges it.
        plant(data_path / "pr_1" / ".n_5.deleted-t_0123456789abcdef", folder=True),
        node / "code" / "main.py",
    }
    return stale, kept


def test_only_old_leftovers_of_interrupted_operations_are_removed(data_path, left_over):
    stale, kept = left_over
    assert set(leftovers.sweep(data_path)) == stale
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert leftovers.sweep(data_path) == []


async def test_the_server_sweeps_when_it_starts(left_over, api):
    stale, kept = left_over
    for _ in range(200):
        if not any(path.exists() for path in stale):
            break
        await asyncio.sleep(0.02)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    status, _ = await api("GET", "projects")
    assert status == 200
