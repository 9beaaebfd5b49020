"""The example pipeline offered on first run: make data -> fit -> plot -> report, in a project of
its own, made of real nodes whose code comes from ``nodes/example/``."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ...folders.permissions import closed_to_others
from ...models import NodeKind, Pipeline
from ...store import pipelines as pipeline_store
from ...store.database import Database
from ..common import ServiceBase, Settings
from .edges import EdgeService
from .nodes import NodeService
from .pipelines import PipelineService
from .projects import ProjectService

TAG = "example"
NOTES = (
    "fusionpipe's example: noisy points (make data, a node with parameters), a straight line "
    "fitted in a notebook (fit), a PNG drawn with matplotlib in the node's own environment "
    "(plot), and an HTML page of both (report). Run it, then change a parameter of make data."
)


@dataclass(frozen=True)
class ExampleNode:
    """One node of the example: its code files (name in ``code/`` -> file of the example)."""

    tag: str
    kind: NodeKind
    code: dict[str, str]
    position: tuple[float, float]
    parents: tuple[str, ...] = ()
    parameters: str | None = None
    notes: str = ""


NODES = (
    ExampleNode(
        "make data",
        NodeKind.PYTHON,
        {"main.py": "make_data.py"},
        (110.0, 0.0),
        parameters="make_data.yaml",
        notes="Noisy points around a line; its parameters set the line and the noise.",
    ),
    ExampleNode(
        "fit",
        NodeKind.NOTEBOOK,
        {"main.ipynb": "fit.ipynb"},
        (0.0, 130.0),
        parents=("make data",),
        notes="A notebook: least squares with the standard library.",
    ),
    ExampleNode(
        "plot",
        NodeKind.PYTHON,
        {"main.py": "plot.py", "requirements.txt": "plot_requirements.txt"},
        (220.0, 260.0),
        parents=("make data", "fit"),
        notes="matplotlib, in the node's own environment (code/requirements.txt).",
    ),
    ExampleNode(
        "report",
        NodeKind.PYTHON,
        {"main.py": "report.py"},
        (110.0, 390.0),
        parents=("fit", "plot"),
        notes="An HTML page with the numbers and the plot, in reports/.",
    ),
)


def _numbered(number: int) -> str:
    return TAG if number == 1 else f"{TAG}-{number}"


def example_file(name: str) -> str:
    return (resources.files("fusionpipe_server.folders") / "example" / name).read_text()


class ExampleService(ServiceBase):
    """Made with the ordinary operations, so the example obeys every rule a user's pipeline
    does; a failure half-way deletes the new project with whatever was made in it."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        projects: ProjectService,
        pipelines: PipelineService,
        nodes: NodeService,
        edges: EdgeService,
    ) -> None:
        super().__init__(db, settings)
        self._projects = projects
        self._pipelines = pipelines
        self._nodes = nodes
        self._edges = edges

    async def create(self, owner: str) -> Pipeline:
        """The project and its pipeline are tagged alike: ``example``, ``example-2``, ..."""
        tag = await self._free_tag()
        project = await self._projects.create(owner, tag, NOTES)
        try:
            pipeline = await self._pipelines.create(owner, project.id, tag, NOTES)
            ids: dict[str, str] = {}
            for node in NODES:
                ids[node.tag] = await self._new_node(owner, pipeline.id, node)
            for node in NODES:
                for parent in node.parents:
                    await self._edges.connect(
                        owner, pipeline.id, ids[parent], ids[node.tag], undoable=False
                    )
        except BaseException:
            await self._projects.delete(owner, project.id, cascade=True, keep=False)
            raise
        return pipeline

    async def _free_tag(self) -> str:
        """The first of ``example``, ``example-2``, ... that no pipeline has: pipeline tags are
        unique."""
        number = 1
        async with self.db.transaction() as conn:
            while await pipeline_store.tag_taken(conn, _numbered(number)):
                number += 1
        return _numbered(number)

    async def _new_node(self, owner: str, pipeline_id: str, node: ExampleNode) -> str:
        created = await self._nodes.create(
            owner,
            pipeline_id,
            tag=node.tag,
            kind=node.kind.value,
            position=node.position,
            undoable=False,
        )
        code = Path(created["folder"]) / "code"
        for name, source in node.code.items():
            with open(code / name, "w", opener=closed_to_others) as stream:
                stream.write(example_file(source))
        if node.parameters:
            await self._nodes.set_parameters(created["id"], example_file(node.parameters))
        await self._nodes.update(
            owner, pipeline_id, created["id"], notes=node.notes, undoable=False
        )
        return str(created["id"])
