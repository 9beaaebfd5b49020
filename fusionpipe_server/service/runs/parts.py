"""What the parts of the run engine share, built once by the engine (engine.py) and handed to
the node step and the attempts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...runners.registry import Runners
from ...store.database import Database
from ..common import Settings
from ..freshness.output_cache import OutputCache
from ..freshness.staleness import StalenessService
from .environments import EnvironmentService
from .placement import Placement, place_node
from .recorder import Recorder
from .running import Running
from .slots import SlotPool


@dataclass(frozen=True)
class EngineParts:
    db: Database
    settings: Settings
    runners: Runners
    pool: SlotPool  # the CPU and GPU slots of local nodes
    staleness: StalenessService
    cache: OutputCache
    environments: EnvironmentService
    recorder: Recorder
    running: Running

    def place(self, folder: Path) -> Placement:
        """How the node in ``folder`` is to run (see placement.py)."""
        return place_node(folder, self.settings.default_run_mode, self.runners, self.pool)
