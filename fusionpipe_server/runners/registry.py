"""The runners a server executes nodes with, by run mode (``run_mode:`` in a node's
parameters). Each mode's runner is a class named by a setting, a traitlets ``Type`` of
FusionpipeApp (``runner_class`` for ``local``, ``ray_runner_class`` for ``ray``,
``slurm_runner_class`` for ``slurm``), so a site can
put its own in place of one; ``build`` makes one from its class."""

from __future__ import annotations

from typing import Any

from traitlets.config import Configurable

from ..errors import Unavailable
from .base import NodeRunner

# What a runner class must have (see base.py).
REQUIRED = ("name", "local", "start", "take_back")


def build(runner_class: Any, setting: str, settings: Any, parent: Any = None) -> NodeRunner:
    """A runner of ``runner_class`` (named by the setting ``setting``): made from the server's
    ``settings`` when the class says how (``from_settings``), as a traitlets Configurable child
    of ``parent`` (its own settings then come from the same configuration), or plainly."""
    missing = [name for name in REQUIRED if not hasattr(runner_class, name)]
    if missing:
        raise Unavailable(
            f"FusionpipeApp.{setting} {runner_class.__module__}.{runner_class.__qualname__} "
            f"lacks {', '.join(missing)}: see fusionpipe_server/runners/base.py"
        )
    if hasattr(runner_class, "from_settings"):
        runner: NodeRunner = runner_class.from_settings(settings)
    elif parent is not None and issubclass(runner_class, Configurable):
        runner = runner_class(parent=parent)
    else:
        runner = runner_class()
    return runner


class Runners:
    """The runner of each run mode."""

    def __init__(self, by_mode: dict[str, NodeRunner]) -> None:
        self._by_mode = by_mode

    @classmethod
    def default(cls, settings: Any, parent: Any = None) -> Runners:
        """Local processes, Ray and Slurm, as a server has them unless configured otherwise;
        the Slurm runner's own settings come from ``parent``'s configuration (the server's, as
        a command loads it), else from the environment."""
        from .local import LocalRunner
        from .ray import RayRunner
        from .slurm import SlurmRunner

        return cls(
            {
                "local": LocalRunner(),
                "ray": RayRunner.from_settings(settings),
                "slurm": SlurmRunner(parent=parent),
            }
        )

    def __getitem__(self, mode: str) -> NodeRunner:
        return self._by_mode[mode]

    @property
    def local(self) -> NodeRunner:
        return self._by_mode["local"]

    def modes(self) -> dict[str, NodeRunner]:
        return dict(self._by_mode)

    def site_setup(self) -> dict[str, tuple[str, ...]]:
        """The setup commands each mode's runner runs before every node (``site_setup``,
        which only the Slurm runner has), by mode: what counts in its nodes' fingerprints."""
        found = {mode: tuple(getattr(r, "site_setup", ())) for mode, r in self._by_mode.items()}
        return {mode: setup for mode, setup in found.items() if setup}

    def by_backend(self, name: str) -> NodeRunner:
        """The runner that recorded itself as ``name`` on a node execution (the local one if
        none did, as a restarted server finds it)."""
        return next((r for r in self._by_mode.values() if r.name == name), self.local)

    def shutdown(self) -> None:
        """The server stops: runners that hold a connection (Ray) close it."""
        for runner in self._by_mode.values():
            close = getattr(runner, "shutdown", None)
            if close is not None:
                close()
