"""The REST handler table, mounted under ``<base_url>fusionpipe/api/``, built from the paths of
the OpenAPI document so that every route is documented and checked against it."""

from __future__ import annotations

import re
from typing import Any

from . import openapi
from .copies import (
    BranchHandler,
    DetachHandler,
    DuplicateNodesHandler,
    DuplicatePipelineHandler,
    MergeHandler,
    ReferenceNodesHandler,
)
from .edges import EdgeHandler, EdgesHandler, GroupHandler, GroupsHandler
from .examples import ExamplesHandler
from .meta import OpenAPIHandler, UnknownPathHandler
from .nodes import (
    ClearOutputsHandler,
    NodeHandler,
    ParametersHandler,
    PipelineNodeHandler,
    PipelineNodesHandler,
    ProvenanceHandler,
    StatusHandler,
)
from .outputs import OutputFileHandler, OutputsHandler
from .pipelines import PipelineHandler, PipelinesHandler, PositionsHandler
from .projects import ProjectGraphHandler, ProjectHandler, ProjectsHandler
from .runs import (
    CancelRunHandler,
    ItemsHandler,
    KillHandler,
    LogHandler,
    MetricsHandler,
    NodeRunsHandler,
    PipelineRunsHandler,
    RunHandler,
)
from .transfer import ExportHandler, ImportHandler
from .trash import RestoreHandler, TrashHandler, TrashItemHandler
from .undo import RedoHandler, UndoHandler
from .websocket import EventsHandler
from .whoami import WhoAmIHandler

API = "/fusionpipe/api"

# In match order: "/pipelines/merge" before "/pipelines/{pipeline_id}".
ROUTES: list[tuple[str, type]] = [
    ("/openapi.json", OpenAPIHandler),
    ("/events", EventsHandler),
    ("/projects", ProjectsHandler),
    ("/projects/{project_id}", ProjectHandler),
    ("/projects/{project_id}/graph", ProjectGraphHandler),
    ("/projects/{project_id}/import", ImportHandler),
    ("/pipelines", PipelinesHandler),
    ("/pipelines/merge", MergeHandler),
    ("/pipelines/{pipeline_id}", PipelineHandler),
    ("/pipelines/{pipeline_id}/positions", PositionsHandler),
    ("/pipelines/{pipeline_id}/nodes", PipelineNodesHandler),
    ("/pipelines/{pipeline_id}/nodes/{node_id}", PipelineNodeHandler),
    ("/pipelines/{pipeline_id}/status", StatusHandler),
    ("/pipelines/{pipeline_id}/clear-outputs", ClearOutputsHandler),
    ("/pipelines/{pipeline_id}/edges", EdgesHandler),
    ("/pipelines/{pipeline_id}/edges/{edge_id}", EdgeHandler),
    ("/pipelines/{pipeline_id}/groups", GroupsHandler),
    ("/pipelines/{pipeline_id}/duplicate-nodes", DuplicateNodesHandler),
    ("/pipelines/{pipeline_id}/reference-nodes", ReferenceNodesHandler),
    ("/pipelines/{pipeline_id}/detach", DetachHandler),
    ("/pipelines/{pipeline_id}/branch", BranchHandler),
    ("/pipelines/{pipeline_id}/duplicate", DuplicatePipelineHandler),
    ("/pipelines/{pipeline_id}/export", ExportHandler),
    ("/pipelines/{pipeline_id}/undo", UndoHandler),
    ("/pipelines/{pipeline_id}/redo", RedoHandler),
    ("/pipelines/{pipeline_id}/runs", PipelineRunsHandler),
    ("/pipelines/{pipeline_id}/nodes/{node_id}/kill", KillHandler),
    ("/groups/{group_id}", GroupHandler),
    ("/nodes/{node_id}", NodeHandler),
    ("/nodes/{node_id}/parameters", ParametersHandler),
    ("/nodes/{node_id}/log", LogHandler),
    ("/nodes/{node_id}/provenance", ProvenanceHandler),
    ("/nodes/{node_id}/runs", NodeRunsHandler),
    ("/nodes/{node_id}/items", ItemsHandler),
    ("/nodes/{node_id}/metrics", MetricsHandler),
    ("/nodes/{node_id}/outputs", OutputsHandler),
    ("/nodes/{node_id}/outputs/{path}", OutputFileHandler),
    ("/whoami", WhoAmIHandler),
    ("/runs/{run_id}", RunHandler),
    ("/runs/{run_id}/cancel", CancelRunHandler),
    ("/examples", ExamplesHandler),
    ("/trash", TrashHandler),
    ("/trash/{trash_id}", TrashItemHandler),
    ("/trash/{trash_id}/restore", RestoreHandler),
]

_SEGMENT = openapi.ID_PATTERN.strip("^$")


# An output's path spans segments; every other path parameter is one id.
_SPANNING = {"path": ".+"}


def _pattern(template: str) -> str:
    return API + re.sub(
        r"\{(\w+)\}",
        lambda name: f"(?P<{name[1]}>{_SPANNING.get(name[1], _SEGMENT)})",
        template,
    )


def handlers() -> list[tuple[Any, ...]]:
    table: list[tuple[Any, ...]] = [
        (_pattern(template), handler, {"api_path": template}) for template, handler in ROUTES
    ]
    table.append((API + "(?:/.*)?", UnknownPathHandler))
    return table
