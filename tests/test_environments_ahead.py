"""Environments built ahead: a node whose requirements change gets its environment rebuilt in
the background at once, seen as "building" then "ready" (or "failed"), and its next run starts
on it without building; a run arriving during a build waits for it instead of building twice."""

from __future__ import annotations

from pathlib import Path

from test_nodes_api import add_node, setup_pipeline
from test_runs_api import run, write_code
from test_staleness import wait_for, watching_node


def tiny_package(root: Path) -> Path:
    """A local package, so building needs no network."""
    package = root / "tinypkg"
    (package / "tinypkg").mkdir(parents=True)
    (package / "tinypkg" / "__init__.py").write_text("ANSWER = 42\n")
    (package / "pyproject.toml").write_text(
        '[project]\nname = "tinypkg"\nversion = "1.0"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    return package


async def test_a_requirements_change_is_built_ahead_and_the_run_starts_on_it(api, tmp_path):
    pipeline = await setup_pipeline(api)
    node = await add_node(api, pipeline, "isolated")
    await api("GET", f"pipelines/{pipeline['id']}")  # an open canvas: its folders are watched
    await wait_for(lambda: watching_node(api, node), what="watching the node")
    folder = Path(node["folder"])
    write_code(
        node,
        """
        import tinypkg, fusionpipe
        (fusionpipe.data_dir() / "answer.txt").write_text(str(tinypkg.ANSWER))
    """,
    )

    async def environment():
        _, body = await api("GET", f"nodes/{node['id']}")
        return body["environment"]

    (folder / "code" / "requirements.txt").write_text(f"{tiny_package(tmp_path)}\n")
    await wait_for(lambda: _is(environment, "building"), timeout=60, what="the build ahead")
    # A run started now waits for that build instead of starting another.
    finished = await run(api, pipeline)
    _, log = await api("GET", f"nodes/{node['id']}/log")
    assert finished["status"] == "completed", log["content"]
    assert "building" not in log["content"], "the run waited for the build ahead"
    assert (folder / "data" / "answer.txt").read_text() == "42"
    background = (folder / "logs" / "environment.log").read_text()
    assert background.count("building the node's environment from requirements.txt") == 1
    await wait_for(lambda: _is(environment, "ready"), what="the environment ready")

    # A requirement that cannot be installed: "failed" once, no loop of builds, and the run
    # tries again and fails with the reason.
    (folder / "code" / "requirements.txt").write_text("this-package-does-not-exist-fp==0\n")
    await wait_for(lambda: _is(environment, "failed"), timeout=180, what="the failed build")
    await api("GET", f"pipelines/{pipeline['id']}")  # more checks: they build nothing more
    attempts = (folder / "logs" / "environment.log").read_text().count("building the node")
    assert attempts == 2
    failed = await run(api, pipeline)
    assert failed["status"] == "failed"
    assert "environment could not be built" in failed["nodes"][0]["reason"]


async def _is(probe, wanted):
    return await probe() == wanted
