"""The REST handler table, mounted under ``<base_url>fusionpipe/api/``."""

from __future__ import annotations

from typing import Any

from .copies import (
    BranchHandler,
    DetachHandler,
    DuplicateNodesHandler,
    DuplicatePipelineHandler,
    MergeHandler,
    ReferenceNodesHandler,
)
from .edges import EdgeHandler, EdgesHandler, GroupHandler, GroupsHandler
from .events import EventsHandler
from .examples import ExamplesHandler
from .nodes import (
    ClearOutputsHandler,
    NodeHandler,
    ParametersHandler,
    PipelineNodeHandler,
    PipelineNodesHandler,
    ProvenanceHandler,
    StatusHandler,
)
from .openapi import OpenAPIHandler
from .outputs import OutputFileHandler, OutputsHandler
from .pipelines import PipelineHandler, PipelinesHandler, PositionsHandler
from .projects import ProjectGraphHandler, ProjectHandler, ProjectsHandler
from .runs import (
    CancelRunHandler,
    KillHandler,
    LogHandler,
    NodeRunsHandler,
    PipelineRunsHandler,
    RunHandler,
)
from .transfer import ExportHandler, ImportHandler
from .whoami import WhoAmIHandler

API = "/fusionpipe/api"


def _id(name: str) -> str:
    return rf"(?P<{name}>[A-Za-z0-9_\-]+)"


PROJECT = f"{API}/projects/{_id('project_id')}"
PIPELINE = f"{API}/pipelines/{_id('pipeline_id')}"


def handlers() -> list[tuple[str, Any]]:
    return [
        (f"{API}/openapi.json", OpenAPIHandler),
        (f"{API}/events", EventsHandler),
        (f"{API}/projects", ProjectsHandler),
        (PROJECT, ProjectHandler),
        (f"{PROJECT}/graph", ProjectGraphHandler),
        (f"{PROJECT}/import", ImportHandler),
        (f"{API}/pipelines", PipelinesHandler),
        (f"{API}/pipelines/merge", MergeHandler),
        (PIPELINE, PipelineHandler),
        (f"{PIPELINE}/positions", PositionsHandler),
        (f"{PIPELINE}/nodes", PipelineNodesHandler),
        (f"{PIPELINE}/nodes/{_id('node_id')}", PipelineNodeHandler),
        (f"{PIPELINE}/status", StatusHandler),
        (f"{PIPELINE}/clear-outputs", ClearOutputsHandler),
        (f"{PIPELINE}/edges", EdgesHandler),
        (f"{PIPELINE}/edges/{_id('edge_id')}", EdgeHandler),
        (f"{PIPELINE}/groups", GroupsHandler),
        (f"{PIPELINE}/duplicate-nodes", DuplicateNodesHandler),
        (f"{PIPELINE}/reference-nodes", ReferenceNodesHandler),
        (f"{PIPELINE}/detach", DetachHandler),
        (f"{PIPELINE}/branch", BranchHandler),
        (f"{PIPELINE}/duplicate", DuplicatePipelineHandler),
        (f"{PIPELINE}/export", ExportHandler),
        (f"{API}/groups/{_id('group_id')}", GroupHandler),
        (f"{API}/nodes/{_id('node_id')}", NodeHandler),
        (f"{API}/nodes/{_id('node_id')}/parameters", ParametersHandler),
        (f"{API}/nodes/{_id('node_id')}/log", LogHandler),
        (f"{API}/nodes/{_id('node_id')}/provenance", ProvenanceHandler),
        (f"{API}/nodes/{_id('node_id')}/runs", NodeRunsHandler),
        (f"{API}/nodes/{_id('node_id')}/outputs", OutputsHandler),
        (f"{API}/nodes/{_id('node_id')}/outputs/(?P<path>.+)", OutputFileHandler),
        (f"{API}/whoami", WhoAmIHandler),
        (f"{PIPELINE}/runs", PipelineRunsHandler),
        (f"{PIPELINE}/nodes/{_id('node_id')}/kill", KillHandler),
        (f"{API}/runs/{_id('run_id')}", RunHandler),
        (f"{API}/runs/{_id('run_id')}/cancel", CancelRunHandler),
        (f"{API}/examples", ExamplesHandler),
    ]
