"""One item of a mapped node as the attempts execute and record it (see attempts.Unit), and
the item's fingerprint: the node's own plus its values and what it reads of its own alone."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core.mapping import Item
from ...fingerprint.digest import canonical, digest_text
from ...folders import item_folders
from .attempts import read_metrics
from .jobs import metrics_file

if TYPE_CHECKING:  # the mapped run makes its units: a cycle only for the type
    from .mapped import MappedRun


def item_fingerprint(node: str, values: dict[str, Any], reads: str | None) -> str:
    return digest_text(canonical({"node": node, "values": values, "reads": reads}))


class ItemUnit:
    """One item, as the attempts execute and record it (see attempts.Unit)."""

    def __init__(
        self, mapped: MappedRun, item: Item, fingerprint: str, outputs_folder: Path
    ) -> None:
        self.mapped = mapped
        self.run_id = mapped.run_id
        self.node_id = mapped.row.id
        self.item_id: str | None = item.id
        self.item = item
        self.fingerprint = fingerprint
        self.outputs_folder = outputs_folder

    def killer(self) -> str | None:
        # Not taken: a kill of the node is for every item, and ends with the node's claim.
        return self.mapped.parts.running.killed_by(self.node_id)

    async def started(
        self, backend: str, pid: int | None, attempt: int, of: int, job_id: str | None
    ) -> None:
        recorder = self.mapped.parts.recorder
        if attempt == 1:
            await recorder.item_started(self.run_id, self.node_id, self.item.id)
            await self.mapped.counted()
        else:
            await recorder.item_attempt(self.run_id, self.node_id, self.item.id, attempt)

    async def finished(self, attempt: int, code: int, why: str) -> None:
        return None  # the item's end is recorded once, by succeed or fail

    async def succeed(self) -> bool:
        outputs = await asyncio.to_thread(item_folders.outputs_digest, self.outputs_folder)
        await self._end("completed", 0, "", fingerprint=self.fingerprint, outputs=outputs)
        return True

    async def fail(self, code: int | None, why: str) -> bool:
        await self._end("failed", code, why)
        return False

    async def _end(self, status: str, code: int | None, why: str, **made: Any) -> None:
        path = metrics_file(self.mapped.folder, self.run_id, self.item.id)
        metrics = await asyncio.to_thread(read_metrics, path)
        await self.mapped.parts.recorder.item_finished(
            self.run_id,
            self.node_id,
            self.item.id,
            status=status,
            exit_code=code,
            reason=why,
            metrics=metrics,
            **made,
        )
        await self.mapped.counted()
