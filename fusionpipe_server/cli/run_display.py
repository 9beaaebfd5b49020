"""How ``fusionpipe run`` shows a run going on: a progress bar in a terminal (rich), plain
lines, one per finished node, anywhere else (a log file, a pipe, CI)."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..folders.scheduling import format_duration


class RunDisplay(Protocol):
    def __enter__(self) -> RunDisplay: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def line(self, text: str) -> None:
        """A node finished: its line."""

    def progress(self, progress: dict[str, Any], running: list[str]) -> None:
        """Where the run is (``progress`` as the REST API gives it) and what runs now."""


class PlainLines:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __enter__(self) -> PlainLines:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def progress(self, progress: dict[str, Any], running: list[str]) -> None:
        return None


def _estimate(progress: dict[str, Any]) -> str:
    eta = progress.get("eta_s")
    return f"about {format_duration(max(1, round(eta)))} left" if eta else ""


class ProgressBar:
    """Finished nodes print above a bar of nodes done of the run's nodes, with what runs now,
    the time elapsed and the time left estimated from earlier runs of the same nodes."""

    def __init__(self, out: TextIO, total: int) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[left]}"),
            console=Console(file=out),
        )
        self._task = self._bar.add_task("starting", total=total, left="")

    def __enter__(self) -> ProgressBar:
        self._bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._bar.stop()

    def line(self, text: str) -> None:
        self._bar.console.print(text, highlight=False, markup=False)

    def progress(self, progress: dict[str, Any], running: list[str]) -> None:
        shown = ", ".join(running[:3]) + (f" +{len(running) - 3}" if len(running) > 3 else "")
        self._bar.update(
            self._task,
            completed=progress["done"],
            total=progress["total"],
            description=shown or ("done" if progress["done"] == progress["total"] else "waiting"),
            left=_estimate(progress),
        )


def run_display(out: TextIO, total: int) -> RunDisplay:
    """A bar when ``out`` is a terminal, plain lines otherwise."""
    return ProgressBar(out, total) if out.isatty() else PlainLines(out)
