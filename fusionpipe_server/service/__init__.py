"""The business rules: the only layer that combines the store, node folders and runners."""

from __future__ import annotations

from dataclasses import replace

from ..runners.registry import Runners
from ..store.database import Database
from .common import ServiceBase, Settings
from .freshness.output_cache import OutputCache
from .freshness.provenance import ProvenanceService
from .freshness.staleness import StalenessService
from .graph.copies import CopyService
from .graph.edges import EdgeService, GroupService
from .graph.example import ExampleService
from .graph.nodes import NodeService
from .graph.outputs import OutputService
from .graph.pipelines import PipelineService
from .graph.projects import ProjectService
from .graph.transfer import TransferService
from .graph.trash import TrashService
from .graph.undo import UndoService
from .rights import Rights
from .runs.engine import RunEngine
from .runs.environments import EnvironmentService
from .runs.history import HistoryService
from .runs.item_views import ItemViews
from .runs.service import RunService

__all__ = ["Rights", "Service", "Settings"]


class Service:
    """Every operation the REST API, the CLI and the runners perform, by aggregate."""

    def __init__(self, db: Database, settings: Settings, runners: Runners | None = None) -> None:
        """``runners``: the runner of each run mode (default: local processes, Ray and
        Slurm). What they run before every node counts in its fingerprint: it joins
        ``settings`` here, where every server and command builds its services."""
        runners = runners or Runners.default(settings)
        settings = replace(settings, site_setup=runners.site_setup())
        self.settings = settings
        self.staleness = StalenessService(db, settings)
        self.cache = OutputCache(db, settings)
        self.projects = ProjectService(db, settings)
        self.pipelines = PipelineService(db, settings)
        self.nodes = NodeService(db, settings, self.staleness)
        self.edges = EdgeService(db, settings)
        self.groups = GroupService(db, settings)
        self.copies = CopyService(db, settings)
        self.environments = EnvironmentService(db, settings)
        self.runs = RunService(
            RunEngine(
                db,
                settings,
                self.staleness,
                self.cache,
                self.environments,
                runners,
            )
        )
        self.history = HistoryService(db, settings)
        self.outputs = OutputService(db, settings)
        self.items = ItemViews(db, settings)
        # Both show the batch jobs (Slurm) this server watches, live.
        self.nodes.jobs_of = self.items.jobs_of = self.runs.engine.running.jobs_of
        self.provenance = ProvenanceService(db, settings)
        self.transfer = TransferService(db, settings)
        self.examples = ExampleService(
            db,
            settings,
            projects=self.projects,
            pipelines=self.pipelines,
            nodes=self.nodes,
            edges=self.edges,
        )
        self.trash = TrashService(db, settings)
        self.undo = UndoService(db, settings, self.trash)
        self.pipelines.on_fetch = self.staleness.fetched
        for service in (self.pipelines, self.nodes, self.edges, self.groups, self.copies):
            service.recheck = self._recheck
        self.trash.recheck = self._recheck
        self.undo.recheck = self._recheck
        # One rule, one list of admins (loaded from the database at start, see rights.py).
        self.rights = Rights(settings.admins)
        for part in vars(self).values():
            if isinstance(part, ServiceBase):
                part.rights = self.rights

    def _recheck(self, node_ids: set[str]) -> None:
        self.staleness.request(nodes=node_ids)
