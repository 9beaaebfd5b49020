"""A node's ``resources`` as Ray task options, and whether a Ray cluster can ever meet them.
Pure: no Ray import."""

from __future__ import annotations

from typing import Any

from ..folders.scheduling import Resources


def task_options(resources: Resources) -> dict[str, Any]:
    """Options for ``remote_function.options(...)``."""
    options: dict[str, Any] = {"num_cpus": resources.cpus, "num_gpus": resources.gpus}
    if resources.memory is not None:
        options["memory"] = resources.memory
    if resources.custom:
        options["resources"] = dict(resources.custom)
    return options


def _amount(name: str, value: float) -> str:
    if name == "memory":
        return f"{value / 2**30:,.1f} GiB of memory"
    if value == 1 and name in ("CPUs", "GPUs"):
        name = name[:-1]
    return f"{value:g} {name}"


def unsatisfiable(resources: Resources, totals: dict[str, float]) -> str | None:
    """Why no node of the cluster (of ``totals``, ``ray.cluster_resources()``) could ever run
    the task, None when it could: Ray would otherwise keep it pending forever."""
    wanted = {"CPU": resources.cpus, "GPU": float(resources.gpus), **resources.custom}
    if resources.memory is not None:
        wanted["memory"] = float(resources.memory)
    names = {"CPU": "CPUs", "GPU": "GPUs"}
    for key, amount in wanted.items():
        have = totals.get(key, 0.0)
        if amount > have:
            name = names.get(key, key)
            return (
                f"it asks for {_amount(name, amount)} and the Ray cluster has "
                f"{_amount(name, have)} in all"
            )
    return None
