"""How a node is scheduled, from its ``node_parameters.yaml``: time limit, retries, resources,
what it asks of Slurm.

Pure: parsed parameter values in, a ``Scheduling`` out, or ``Invalid`` naming the key at fault.
These keys say how a node runs, not what it computes: they never count in its fingerprint.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import Invalid

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# "90", "90s", "15m", "1h30m", "1.5h", "2d": each part a number followed by its unit.
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_DURATION = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*[smhd]\s*)+")

_MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "ki": 1024,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mi": 1024**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gi": 1024**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ti": 1024**4,
    "tib": 1024**4,
}
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")
# A Ray custom resource name, as Ray accepts them; the names Ray reserves are asked for with
# cpus, gpus and memory.
_RESOURCE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/\-]{0,99}")
_RESERVED = frozenset({"CPU", "GPU", "memory", "object_store_memory"})
# Beyond these, a number is a typo, not a request (a century; a thousand retries).
MAX_SECONDS = 100 * 365 * 86400
MAX_RETRIES = 1000


@dataclass(frozen=True)
class Resources:
    """What one execution of the node holds: CPUs (the local runner's slots), whole GPUs, memory
    in bytes (None: unstated), and custom Ray resources."""

    cpus: float = 1.0
    gpus: int = 0
    memory: int | None = None
    custom: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SlurmOptions:
    """What a node asks of Slurm beyond its resources (``slurm:``), over the site's settings:
    empty text and None keep the site's; ``options`` and ``setup`` come after the site's."""

    partition: str = ""
    account: str = ""
    qos: str = ""
    options: tuple[str, ...] = ()  # sbatch options, each one argument ("--constraint=x")
    setup: tuple[str, ...] = ()  # shell commands run before the node (module load ...)
    max_running: int | None = None  # a mapped node's items running at once


@dataclass(frozen=True)
class Scheduling:
    timeout: float | None = None  # seconds; None: no limit
    retries: int = 0
    retry_delay: float = 0.0
    resources: Resources = field(default_factory=Resources)
    slurm: SlurmOptions = field(default_factory=SlurmOptions)

    @property
    def attempts(self) -> int:
        return self.retries + 1


def _problem(key: str, text: str, value: Any) -> Invalid:
    return Invalid(f"node_parameters.yaml: {key} {text}, not {value!r}")


def _is_number(value: Any) -> bool:
    # YAML's true/false are bools, which Python counts as ints: never a number here.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_duration(key: str, value: Any) -> float:
    """Seconds: a number, or text such as ``"90s"``, ``"15m"``, ``"1h30m"``, ``"2d"``."""
    expected = 'must be seconds or a duration such as "90s", "15m", "2h", "1d"'
    if _is_number(value):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.fullmatch(value):
        seconds = sum(
            float(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(value)
        )
    else:
        raise _problem(key, expected, value)
    if seconds < 0 or seconds > MAX_SECONDS:
        raise _problem(key, f"{expected}, between 0 and 100 years", value)
    return seconds


def format_duration(seconds: float) -> str:
    """A duration as people write it: ``90s``, ``15m``, ``1h30m``."""
    whole = round(seconds)
    if whole < 60 or seconds != whole:
        return f"{seconds:g}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, whole = divmod(whole, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def parse_memory(key: str, value: Any) -> int:
    """Bytes: a number, or text such as ``"512MiB"``, ``"4GB"``, ``"2G"``."""
    expected = 'must be bytes or a size such as "512MiB", "4GB", "2G"'
    if _is_number(value):
        amount = float(value)
    else:
        match = _MEMORY.fullmatch(value) if isinstance(value, str) else None
        unit = _MEMORY_UNITS.get(match[2].lower()) if match else None
        if match is None or unit is None:
            raise _problem(key, expected, value)
        amount = float(match[1]) * unit
    if amount <= 0 or amount >= 2**63:
        raise _problem(key, f"{expected}, more than 0", value)
    return int(amount)


def _count(key: str, value: Any, *, maximum: float) -> float:
    if not _is_number(value) or value < 0 or value > maximum:
        raise _problem(key, f"must be a number from 0 to {maximum:g}", value)
    return float(value)


def _resources(value: Any) -> Resources:
    if value is None:
        return Resources()
    if not isinstance(value, dict):
        raise _problem("resources", "must be a mapping (cpus, gpus, memory, custom names)", value)
    cpus = 1.0
    gpus = 0
    memory = None
    custom: dict[str, float] = {}
    for name, amount in value.items():
        key = f"resources.{name}"
        if name == "cpus":
            cpus = _count(key, amount, maximum=100_000)
            if cpus <= 0:
                raise _problem(key, "must be more than 0", amount)
        elif name == "gpus":
            if not _is_number(amount) or amount != int(amount) or not 0 <= amount <= 1024:
                raise _problem(key, "must be a whole number of GPUs from 0 to 1024", amount)
            gpus = int(amount)
        elif name == "memory":
            memory = parse_memory(key, amount)
        elif not isinstance(name, str) or not _RESOURCE_NAME.fullmatch(name):
            raise _problem("resources", "names must be Ray resource names", name)
        elif name in _RESERVED:
            raise Invalid(
                f"node_parameters.yaml: {key} is Ray's own name: ask with cpus, gpus or memory"
            )
        else:
            custom[name] = _count(key, amount, maximum=1e12)
    return Resources(cpus=cpus, gpus=gpus, memory=memory, custom=custom)


# A partition, account or qos name: what Slurm accepts, never an option or a shell word.
_SLURM_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,127}")
# An sbatch option, as one argument: a long option with its value after "=".
_SBATCH_OPTION = re.compile(r"--[a-z][a-z0-9\-]*(=[^\n\x00]*)?")
# Set by fusionpipe itself: a node asks for them with its own keys.
_OWN_OPTIONS = ("--output", "--error", "--array", "--parsable", "--wrap", "--chdir", "--open-mode")
MAX_ITEMS_RUNNING = 100_000


def _texts(key: str, value: Any, check: re.Pattern[str] | None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _problem(key, "must be a list of non-empty texts", value)
    for text in value:
        if "\n" in text or "\x00" in text:
            raise _problem(key, "must be one line each", text)
        if check is not None and not check.fullmatch(text):
            raise _problem(key, 'must be long options such as "--constraint=gpu"', text)
        if check is not None and text.split("=", 1)[0] in _OWN_OPTIONS:
            raise _problem(key, "must not set what fusionpipe sets itself", text)
    return tuple(value)


def slurm_options(value: Any) -> SlurmOptions:
    """``slurm:`` of a node's parameters."""
    key = "slurm"
    if value is None:
        return SlurmOptions()
    if not isinstance(value, dict):
        raise _problem(
            key, "must be a mapping (partition, account, qos, options, setup, max_running)", value
        )
    known = {"partition", "account", "qos", "options", "setup", "max_running"}
    unknown = sorted(str(name) for name in value if name not in known)
    if unknown:
        raise Invalid(
            f"node_parameters.yaml: {key} has unknown key(s) {', '.join(unknown)}: "
            f"use {', '.join(sorted(known))}"
        )
    names = {}
    for name in ("partition", "account", "qos"):
        text = value.get(name, "")
        if not isinstance(text, str) or (text and not _SLURM_NAME.fullmatch(text)):
            raise _problem(f"{key}.{name}", "must be a Slurm name (letters, digits, _ . + -)", text)
        names[name] = text
    running = value.get("max_running")
    if running is not None and (
        not _is_number(running) or running != int(running) or not 1 <= running <= MAX_ITEMS_RUNNING
    ):
        raise _problem(
            f"{key}.max_running", f"must be a whole number from 1 to {MAX_ITEMS_RUNNING}", running
        )
    return SlurmOptions(
        **names,
        options=_texts(f"{key}.options", value.get("options", []), _SBATCH_OPTION),
        setup=_texts(f"{key}.setup", value.get("setup", []), None),
        max_running=None if running is None else int(running),
    )


def parse_scheduling(values: dict[str, Any]) -> Scheduling:
    """The scheduling keys of a node's parsed parameters, checked; absent keys keep defaults."""
    timeout = values.get("timeout")
    if timeout is not None:
        timeout = parse_duration("timeout", timeout)
        if timeout == 0:
            raise _problem("timeout", "must be more than 0 (leave it out for no limit)", 0)
    retries = values.get("retries", 0)
    if not _is_number(retries) or retries != int(retries) or not 0 <= retries <= MAX_RETRIES:
        raise _problem("retries", f"must be a whole number from 0 to {MAX_RETRIES}", retries)
    delay = values.get("retry_delay")
    return Scheduling(
        timeout=timeout,
        retries=int(retries),
        retry_delay=0.0 if delay is None else parse_duration("retry_delay", delay),
        resources=_resources(values.get("resources")),
        slurm=slurm_options(values.get("slurm")),
    )
