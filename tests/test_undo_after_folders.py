"""A failure after folders were made or moved leaves nothing behind: the transaction is made to
fail at its very end (a deferred trigger refuses the commit), so every folder step has run and
must really be undone."""

from __future__ import annotations

from pathlib import Path

import psycopg
from test_nodes_api import add_node, connect, setup_pipeline

REFUSE_COMMIT = """
CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'injected failure at commit'; END $$;
CREATE CONSTRAINT TRIGGER refuse_commit AFTER {event} ON nodes
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit();
"""


def refuse_commits(database_url: str, event: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(REFUSE_COMMIT.format(event=event))


def tree(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


async def test_a_duplicate_with_data_that_fails_at_commit_leaves_no_folder(
    api, database_url, data_path
):
    pipeline = await setup_pipeline(api)
    parent, child = await add_node(api, pipeline, "parent"), await add_node(api, pipeline, "child")
    await connect(api, pipeline, parent, child)
    (Path(child["folder"]) / "data" / "out.bin").write_bytes(b"x" * 1_000_000)
    before = tree(data_path)
    refuse_commits(database_url, "INSERT")
    status, _ = await api(
        "POST",
        f"pipelines/{pipeline['id']}/duplicate-nodes",
        {"node_ids": [child["id"]], "target_pipeline_id": pipeline["id"], "with_data": True},
    )
    assert status == 500
    assert tree(data_path) == before
    _, graph = await api("GET", f"pipelines/{pipeline['id']}")
    assert sorted(node["tag"] for node in graph["nodes"]) == ["child", "parent"]


async def test_a_delete_that_fails_at_commit_puts_the_folder_back(api, database_url, data_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "n")
    (Path(node["folder"]) / "data" / "out.txt").write_text("kept")
    before = tree(data_path)
    refuse_commits(database_url, "DELETE")
    status, _ = await api("DELETE", f"pipelines/{pipeline['id']}/nodes/{node['id']}")
    assert status == 500
    assert tree(data_path) == before
    assert (Path(node["folder"]) / "data" / "out.txt").read_text() == "kept"
    assert (await api("GET", f"nodes/{node['id']}"))[0] == 200
    assert (await api("GET", "trash"))[1]["items"] == [], "nothing half-made in the trash"
