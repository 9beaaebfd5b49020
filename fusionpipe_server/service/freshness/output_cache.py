"""The output cache: outputs a re-run replaces are kept, and restored when a node's
fingerprint matches an earlier successful run again (an undone edit, a duplicate, a branch).

It holds at most ``Settings.output_cache_bytes``; past that the oldest entries go, except
those of locked nodes and pipelines (published results).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ...folders import cache_folders
from ...folders import node_folders as folders
from ...store import cache_entries as cache_store
from ...store.cache_entries import CacheEntry
from ..common import ServiceBase

log = logging.getLogger(__name__)


class OutputCache(ServiceBase):
    async def stash(
        self,
        *,
        node_id: str,
        outputs_folder: Path,
        fingerprint: str,
        run_id: str,
        outputs: str,
    ) -> bool:
        """Move the outputs that ``run_id`` made (fingerprint ``fingerprint``) into the cache,
        leaving their folder (``data/``, or an item's) empty. False when they could not be
        moved by a rename."""
        name = f"{fingerprint[:32]}-{run_id}-{node_id}"
        stashed = await asyncio.to_thread(
            cache_folders.stash, self.settings.data_path, outputs_folder, name
        )
        if stashed is None:
            return False
        folder, size = stashed
        try:
            async with self.db.transaction() as conn:
                await cache_store.add(
                    conn,
                    folder=folder,
                    fingerprint=fingerprint,
                    node_id=node_id,
                    run_id=run_id,
                    outputs=outputs,
                    size=size,
                )
        except BaseException:
            await asyncio.to_thread(folders.purge, self.settings.data_path / folder)
            raise
        await self.collect()
        return True

    async def find(self, fingerprint: str, node_id: str) -> CacheEntry | None:
        """Outputs made from ``fingerprint``: in the cache, or those of an up-to-date node
        with the same fingerprint (a duplicate's or branch's original)."""
        async with self.db.transaction() as conn:
            entries = await cache_store.newest(conn, fingerprint)
            twin = await cache_store.live_twin(conn, fingerprint, node_id)
        for entry in [*entries, *([twin] if twin else [])]:
            if (self.settings.data_path / entry.folder).is_dir():
                return entry
        return None

    async def cached(self, fingerprints: list[str]) -> set[str]:
        """Which of these fingerprints may be restored: ask ``find`` only for those."""
        async with self.db.transaction() as conn:
            return await cache_store.with_fingerprints(conn, fingerprints)

    async def restore(self, entry: CacheEntry, outputs_folder: Path) -> None:
        await asyncio.to_thread(
            cache_folders.restore, self.settings.data_path / entry.folder, outputs_folder
        )

    async def collect(self, limit: int | None = None) -> list[CacheEntry]:
        """Evict the oldest entries until the cache fits ``limit`` (the setting by default);
        returns what went."""
        limit = self.settings.output_cache_bytes if limit is None else limit
        async with self.db.transaction() as conn:
            total = await cache_store.total_size(conn)
            if total <= limit:
                return []
            candidates = await cache_store.oldest_first(conn)
        evicted = []
        for entry in candidates:
            if total <= limit:
                break
            async with self.db.transaction() as conn:
                await cache_store.remove(conn, entry.folder)
            await asyncio.to_thread(folders.purge, self.settings.data_path / entry.folder)
            total -= entry.size
            evicted.append(entry)
        if evicted:
            log.info("fusionpipe: evicted %d output cache entr(ies)", len(evicted))
        return evicted
